"""Compiles a source mapping into one DuckDB SQL pass: raw text columns -> canonical fields.

Every row either maps cleanly or gets a quarantine reason naming the field; nothing is
dropped. Values pass through `value_maps` and are otherwise kept as written, so invalid
values reach the quality checks instead of being hidden here.
"""

from __future__ import annotations

from ticket_audit.config.mapping import Mapping
from ticket_audit.model import MESSAGE_FIELDS, TICKET_FIELDS, Field


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(columns: list[str]) -> str:
    parts = [f"NULLIF(trim(CAST({q(c)} AS VARCHAR)), '')" for c in columns]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _value_mapped(expr: str, value_map: dict[str, str]) -> str:
    if not value_map:
        return expr
    cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in value_map.items())
    return f"(CASE {expr} {cases} ELSE {expr} END)"


def timestamp_expr(text_expr: str, formats: list[str]) -> str:
    zoned = [f for f in formats if "%z" in f or "%Z" in f]
    naive = [f for f in formats if f not in zoned]
    parts = []
    if naive:
        parts.append(f"try_strptime({text_expr}, [{', '.join(lit(f) for f in naive)}])")
    if zoned:
        zl = ", ".join(lit(f) for f in zoned)
        parts.append(f"timezone('UTC', try_strptime({text_expr}, [{zl}]))")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def _native(field: Field, columns: list[str], types: dict[str, str]) -> str | None:
    """The field straight from columns the source already typed (a database's timestamptz,
    smallint, text[]): no round trip through text, nothing to parse, nothing to quarantine."""
    kinds = {types.get(c, "VARCHAR") for c in columns}
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    cols = [q(c) for c in columns]
    one = cols[0] if len(cols) == 1 else f"coalesce({', '.join(cols)})"
    if field.kind == "timestamp":
        if kind == "TIMESTAMP WITH TIME ZONE":
            return f"timezone('UTC', {one})"
        if kind in _TIMESTAMP_TYPES:
            return f"CAST({one} AS TIMESTAMP)"
    elif field.kind == "integer" and kind in _INTEGER_TYPES:
        return f"CAST({one} AS INTEGER)"
    elif field.kind == "list" and kind == "VARCHAR[]":
        return (
            f"coalesce(list_filter(list_transform({one}, lambda x: trim(x)), "
            f"lambda x: x IS NOT NULL AND x <> ''), []::VARCHAR[])"
        )
    return None


def _typed(
    field: Field,
    text_expr: str,
    mapping: Mapping,
    hash_key_sql: str,
    native: str | None = None,
) -> tuple[str, str | None]:
    """(typed expression, validity predicate or None) for one canonical field."""
    name = field.name
    if native is not None:
        return native, None
    if field.kind == "timestamp":
        expr = timestamp_expr(text_expr, mapping.timestamp_formats)
        return expr, f"({text_expr} IS NULL OR {expr} IS NOT NULL)"
    if field.kind == "integer":
        expr = f"CAST(try_cast({text_expr} AS DOUBLE) AS INTEGER)"
        valid = (
            f"({text_expr} IS NULL OR (try_cast({text_expr} AS DOUBLE) IS NOT NULL "
            f"AND try_cast({text_expr} AS DOUBLE) = round(try_cast({text_expr} AS DOUBLE))))"
        )
        return expr, valid
    if field.kind == "list":
        sep = lit(mapping.tags_separator)
        expr = (
            f"(CASE WHEN {text_expr} IS NULL THEN []::VARCHAR[] "
            f"WHEN starts_with({text_expr}, '[') AND json_valid({text_expr}) "
            f"THEN from_json({text_expr}, '[\"VARCHAR\"]') "
            f"ELSE list_filter(list_transform(string_split({text_expr}, {sep}), lambda x: trim(x)), "
            f"lambda x: x <> '') END)"
        )
        return expr, None
    expr = _value_mapped(text_expr, mapping.value_maps.get(name, {}))
    if name in mapping.pseudonymize:
        expr = f"CASE WHEN {expr} IS NULL THEN NULL ELSE left(sha256({hash_key_sql} || {expr}), 16) END"
    return expr, None


def ticket_select(
    mapping: Mapping,
    *,
    hash_key_sql: str,
    max_text_bytes: int,
    table: str = "stage",
    reason_only: bool = False,
    where: str | None = None,
    types: dict[str, str] | None = None,
    carry: str = "",
) -> str:
    """SELECT over `table` (raw text + `_row_number`) with canonical columns + `_reason`.

    `_reason` is NULL for rows that load; otherwise the first problem found, naming the field.
    `reason_only` gives just (`_row_number`, `_reason`); `where` limits the rows mapped
    (duplicates are still found against every row of `table`). `types` (column -> DuckDB
    type) lets natively typed columns skip the text parsers; `carry` adds select items of
    `table` to the output.
    """
    exprs: list[str] = []
    checks: list[str] = []
    text_cols: dict[str, str] = {}
    for field in TICKET_FIELDS:
        columns = mapping.columns_for(field.name)
        if not columns:
            exprs.append(f"CAST(NULL AS {field.sql_type}) AS {field.name}")
            continue
        text_expr = _text(columns)
        text_cols[field.name] = text_expr
        native = _native(field, columns, types) if types else None
        typed, valid = _typed(field, text_expr, mapping, hash_key_sql, native)
        exprs.append(f"{typed} AS {field.name}")
        if field.name == "ticket_id":
            checks.append(f"WHEN {text_expr} IS NULL THEN 'ticket_id: missing'")
        elif field.name == "created_at":
            missing = f"{native} IS NULL" if native else f"{text_expr} IS NULL"
            checks.append(f"WHEN {missing} THEN 'created_at: missing (column {'/'.join(columns)})'")
        if valid is not None:
            kind = "timestamp" if field.kind == "timestamp" else "integer"
            checks.append(
                f"WHEN NOT {valid} THEN '{field.name}: cannot parse the value as {kind} "
                f"(column {'/'.join(columns)})'"
            )
        if field.kind == "text" or field.name in mapping.text_fields:
            # Measured as written: trimming a long text only to measure it costs a copy.
            size = (
                f"strlen(CAST({q(columns[0])} AS VARCHAR))"
                if len(columns) == 1
                else f"strlen({text_expr})"
            )
            checks.append(
                f"WHEN {size} > {max_text_bytes} THEN '{field.name}: ' || "
                f"{size} || ' bytes, over ingest.max_text_bytes ({max_text_bytes})'"
            )
    for msg in mapping.messages.from_columns:
        t = _text([msg.column])
        checks.append(
            f"WHEN strlen({t}) > {max_text_bytes} THEN 'message column {msg.column}: ' || "
            f"strlen({t}) || ' bytes, over ingest.max_text_bytes ({max_text_bytes})'"
        )
    id_expr = text_cols["ticket_id"]
    dup = (
        "WHEN _dup_first IS NOT NULL AND _row_number > _dup_first "
        "THEN 'ticket_id: duplicate of an earlier row in the same origin'"
    )
    reason = "CASE " + " ".join(checks + [dup]) + " END"
    # A hash aggregate finds repeated ids far cheaper than a window over every row.
    dupes = (
        f"LEFT JOIN (SELECT {id_expr} AS _dup_id, min(_row_number) AS _dup_first FROM {table} "
        f"GROUP BY ALL HAVING count(*) > 1) ON _dup_id = {id_expr}"
    )
    body = f"{reason} AS _reason" if reason_only else f"{', '.join(exprs)}, {reason} AS _reason"
    if carry:
        body += f", {carry}"
    filtered = f" WHERE {where}" if where else ""
    return f"SELECT _row_number, {body} FROM {table} {dupes}{filtered}"


def message_select(
    fields: dict[str, str],
    role_map: dict[str, str],
    *,
    table: str,
    formats: list[str],
    hash_key_sql: str,
    pseudonymize: bool,
    max_text_bytes: int,
) -> str:
    """SELECT over staging table `table` for a separate messages export."""
    exprs, checks = [], []
    for field in MESSAGE_FIELDS:
        col = fields.get(field.name)
        if col is None:
            default = "'customer'" if field.name == "author_role" else "NULL"
            exprs.append(f"CAST({default} AS {field.sql_type}) AS {field.name}")
            continue
        t = _text([col])
        if field.kind == "timestamp":
            typed = timestamp_expr(t, formats)
            checks.append(
                f"WHEN {t} IS NOT NULL AND {typed} IS NULL THEN "
                f"'{field.name}: cannot parse the value as timestamp (column {col})'"
            )
        elif field.kind == "integer":
            typed = f"try_cast({t} AS INTEGER)"
            checks.append(
                f"WHEN {t} IS NOT NULL AND {typed} IS NULL THEN "
                f"'{field.name}: not an integer (column {col})'"
            )
        elif field.kind == "boolean":
            typed = f"coalesce(try_cast({t} AS BOOLEAN), true)"
        elif field.name == "author_role":
            lowered = f"lower({t})"
            typed = _value_mapped(lowered, {k.lower(): v for k, v in role_map.items()})
            checks.append(
                f"WHEN {typed} NOT IN ('customer', 'agent', 'system') THEN "
                f"'author_role: unknown role (column {col})'"
            )
        elif field.name == "author_id" and pseudonymize:
            typed = (
                f"CASE WHEN {t} IS NULL THEN NULL ELSE left(sha256({hash_key_sql} || {t}), 16) END"
            )
        else:
            typed = t
        if field.name == "body":
            checks.append(
                f"WHEN strlen({t}) > {max_text_bytes} THEN 'body: ' || strlen({t}) "
                f"|| ' bytes, over ingest.max_text_bytes ({max_text_bytes})'"
            )
        if field.name == "ticket_id":
            checks.insert(0, f"WHEN {t} IS NULL THEN 'ticket_id: missing'")
        exprs.append(f"{typed} AS {field.name}")
    reason = ("CASE " + " ".join(checks) + " END") if checks else "NULL"
    return f"SELECT _row_number, {', '.join(exprs)}, {reason} AS _reason FROM {table}"
