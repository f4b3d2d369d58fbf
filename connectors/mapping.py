"""Compiles a source mapping into one DuckDB SQL pass: raw text columns -> canonical fields.

Every row either maps cleanly or gets a quarantine reason naming the field; nothing is
dropped. Values pass through `value_maps` and are otherwise kept as written, so invalid
values reach the quality checks instead of being hidden here.
"""

from __future__ import annotations

from ticket_audit.config.mapping import (
    BOOLEAN_TEXT,
    ONE_HOT_FALSE,
    ONE_HOT_TRUE,
    Columns,
    Constant,
    Mapping,
    OneHot,
    RowNumber,
)
from ticket_audit.model import MESSAGE_FIELDS, TICKET_FIELDS, Field


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(columns: list[str]) -> str:
    parts = [f"NULLIF(trim(CAST({q(c)} AS VARCHAR)), '')" for c in columns]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _cell(column: str) -> str:
    return f"lower(trim(CAST({q(column)} AS VARCHAR)))"


def one_hot_set(column: str) -> str:
    return f"({_cell(column)} IN ({', '.join(lit(v) for v in ONE_HOT_TRUE)}))"


def one_hot_invalid(column: str) -> str:
    """A cell that is neither set, unset nor empty: the row's label cannot be read."""
    known = ", ".join(lit(v) for v in (*ONE_HOT_TRUE, *ONE_HOT_FALSE, ""))
    return f"({_cell(column)} IS NOT NULL AND {_cell(column)} NOT IN ({known}))"


def one_hot_labels(spec: OneHot, value_map: dict[str, str]) -> str:
    """The labels a row sets, in the order of the configured columns."""
    items = ", ".join(
        f"CASE WHEN {one_hot_set(c)} THEN {lit(value_map.get(c, c))} END" for c in spec.one_hot
    )
    return f"list_filter([{items}]::VARCHAR[], lambda x: x IS NOT NULL)"


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


# Later stages hold timestamps as pandas/numpy nanoseconds (Great Expectations, the baselines),
# which end at these dates; DuckDB would load 9999-12-31 and a later stage would die on it. A
# value outside is quarantined at load with a reason naming the field (never the value).
TIMESTAMP_RANGE = ("1677-09-22", "2262-04-11")


def timestamp_in_range(expr: str) -> str:
    lo, hi = TIMESTAMP_RANGE
    return f"({expr} >= TIMESTAMP '{lo}' AND {expr} < TIMESTAMP '{hi}')"


def _out_of_range_check(name: str, expr: str, columns: list[str]) -> str:
    lo, hi = TIMESTAMP_RANGE
    return (
        f"WHEN {expr} IS NOT NULL AND NOT {timestamp_in_range(expr)} THEN '{name}: date outside "
        f"the supported range {lo}..{hi} (column {'/'.join(columns)})'"
    )


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
        return f"try_cast({one} AS INTEGER)"
    elif field.kind == "list" and kind == "VARCHAR[]":
        return (
            f"coalesce(list_filter(list_transform({one}, lambda x: trim(x)), "
            f"lambda x: x IS NOT NULL AND x <> ''), []::VARCHAR[])"
        )
    return None


def _typed(
    field: Field,
    text_expr: str,
    columns: list[str],
    mapping: Mapping,
    hash_key_sql: str,
    native: str | None = None,
) -> tuple[str, list[str]]:
    """(typed expression, quarantine checks as `WHEN ... THEN reason`) for one canonical field.

    No expression may raise on a value: a cast that can fail is a try_cast with a check, so a
    bad cell is a quarantined row with its reason, never an exception carrying the value.
    """
    name, cols = field.name, "/".join(columns)
    if field.kind == "timestamp":
        expr = native or timestamp_expr(text_expr, mapping.timestamp_formats)
        checks = (
            []
            if native
            else [
                f"WHEN {text_expr} IS NOT NULL AND {expr} IS NULL THEN '{name}: cannot parse the "
                f"value as timestamp (column {cols})'"
            ]
        )
        return expr, [*checks, _out_of_range_check(name, expr, columns)]
    if field.kind == "integer":
        if native is not None:
            raw = q(columns[0]) if len(columns) == 1 else f"coalesce({', '.join(map(q, columns))})"
            return native, [
                f"WHEN {raw} IS NOT NULL AND {native} IS NULL THEN '{name}: number outside the "
                f"32-bit integer range (column {cols})'"
            ]
        number = f"try_cast({text_expr} AS DOUBLE)"
        # try_cast to INTEGER is NULL for NaN, infinities and anything beyond 32 bits.
        expr = f"try_cast({number} AS INTEGER)"
        return expr, [
            f"WHEN {number} IS NULL AND {text_expr} IS NOT NULL THEN '{name}: cannot parse the "
            f"value as integer (column {cols})'",
            f"WHEN {number} IS NOT NULL AND {expr} IS NULL THEN '{name}: number outside the "
            f"32-bit integer range, NaN or infinite (column {cols})'",
            f"WHEN {number} IS NOT NULL AND {number} <> round({number}) THEN '{name}: cannot "
            f"parse the value as integer (column {cols})'",
        ]
    if native is not None:
        return native, []
    if field.kind == "list":
        sep = lit(mapping.tags_separator)
        expr = (
            f"(CASE WHEN {text_expr} IS NULL THEN []::VARCHAR[] "
            f"WHEN starts_with({text_expr}, '[') AND json_valid({text_expr}) "
            f"THEN from_json({text_expr}, '[\"VARCHAR\"]') "
            f"ELSE list_filter(list_transform(string_split({text_expr}, {sep}), lambda x: trim(x)), "
            f"lambda x: x <> '') END)"
        )
        return expr, []
    expr = _value_mapped(text_expr, mapping.value_maps.get(name, {}))
    if name in mapping.pseudonymize:
        expr = f"CASE WHEN {expr} IS NULL THEN NULL ELSE left(sha256({hash_key_sql} || {expr}), 16) END"
    return expr, []


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
    row_id_prefix: str | None = None,
) -> str:
    """SELECT over `table` (raw text + `_row_number`) with canonical columns + `_reason`.

    `_reason` is NULL for rows that load; otherwise the first problem found, naming the field.
    `reason_only` gives just (`_row_number`, `_reason`); `where` limits the rows mapped
    (duplicates are still found against every row of `table`). `types` (column -> DuckDB
    type) lets natively typed columns skip the text parsers; `carry` adds select items of
    `table` to the output. `row_id_prefix` makes the ids of `{row_number: true}`.
    """
    exprs: list[str] = []
    checks: list[str] = []
    text_cols: dict[str, str] = {}
    label_source: OneHot | None = None
    for field in TICKET_FIELDS:
        spec = mapping.spec(field.name)
        columns = mapping.columns_for(field.name)
        if spec is None:
            exprs.append(_unmapped(field, label_source, mapping))
            continue
        if isinstance(spec, OneHot):
            labels = one_hot_labels(spec, mapping.value_maps.get(field.name, {}))
            # One label set: that label. Several: a multi-label ticket keeps them in `labels`
            # and gets no single category, which would be wrong for every label but one.
            exprs.append(f"CASE WHEN len({labels}) = 1 THEN {labels}[1] END AS {field.name}")
            if label_source is None:
                label_source = spec
            checks += [
                f"WHEN {one_hot_invalid(c)} THEN '{field.name}: one-hot column {c} holds ' "
                f"|| left(trim(CAST({q(c)} AS VARCHAR)), 40) || ', not 0/1'"
                for c in spec.one_hot
            ]
            continue
        if isinstance(spec, Columns):
            items = ", ".join(f"NULLIF(trim(CAST({q(c)} AS VARCHAR)), '')" for c in spec.columns)
            exprs.append(
                f"list_filter([{items}]::VARCHAR[], lambda x: x IS NOT NULL) AS {field.name}"
            )
            continue
        text_expr = _text_of(spec, columns, row_id_prefix)
        text_cols[field.name] = text_expr
        native = _native(field, columns, types) if types and columns else None
        typed, typed_checks = _typed(field, text_expr, columns, mapping, hash_key_sql, native)
        exprs.append(f"{typed} AS {field.name}")
        if columns:  # else a constant (checked when the configuration loaded) or a row number
            checks += _required_checks(field, columns, text_expr, native)
            checks += typed_checks
            checks += _size_checks(field, columns, text_expr, mapping, max_text_bytes)
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


def _unmapped(field: Field, label_source: OneHot | None, mapping: Mapping) -> str:
    """A field no column maps: NULL, or the labels of the one-hot columns of the category."""
    if field.name == "labels" and label_source is not None:
        return f"{one_hot_labels(label_source, mapping.value_maps.get('category', {}))} AS labels"
    return f"CAST(NULL AS {field.sql_type}) AS {field.name}"


def _text_of(spec: object, columns: list[str], row_id_prefix: str | None) -> str:
    """The field's value as trimmed text: a constant, the row's id, or its columns."""
    if isinstance(spec, Constant):
        return lit(spec.value)
    if isinstance(spec, RowNumber):
        if row_id_prefix is None:
            raise ValueError("ticket_id {row_number: true} needs a file source")
        return f"({lit(row_id_prefix)} || CAST(_row_number AS VARCHAR))"
    return _text(columns)


def _required_checks(
    field: Field, columns: list[str], text_expr: str, native: str | None
) -> list[str]:
    """The required fields' checks: a ticket needs an id and a creation time."""
    if field.name == "ticket_id":
        return [f"WHEN {text_expr} IS NULL THEN 'ticket_id: missing'"]
    if field.name == "created_at":
        missing = f"{native} IS NULL" if native else f"{text_expr} IS NULL"
        return [f"WHEN {missing} THEN 'created_at: missing (column {'/'.join(columns)})'"]
    return []


def _size_checks(
    field: Field, columns: list[str], text_expr: str, mapping: Mapping, max_bytes: int
) -> list[str]:
    """A text over ingest.max_text_bytes is quarantined, naming the field."""
    if not (field.kind == "text" or field.name in mapping.text_fields):
        return []
    # Measured as written: trimming a long text only to measure it costs a copy.
    size = (
        f"strlen(CAST({q(columns[0])} AS VARCHAR))" if len(columns) == 1 else f"strlen({text_expr})"
    )
    return [
        f"WHEN {size} > {max_bytes} THEN '{field.name}: ' || "
        f"{size} || ' bytes, over ingest.max_text_bytes ({max_bytes})'"
    ]


def message_select(
    fields: dict[str, str],
    role_map: dict[str, str],
    *,
    table: str,
    formats: list[str],
    hash_key_sql: str,
    pseudonymize: bool,
    max_text_bytes: int,
    value_maps: dict[str, dict[str, str]] | None = None,
    carry: str = "",
) -> str:
    """SELECT over staging table `table` for a separate messages export.

    Strict where a guess would mislead: an `is_public` that is not a boolean after
    `value_maps`, and an author role that is missing or neither canonical nor in `role_map`,
    quarantine the message with the reason instead of defaulting to public or customer.
    `carry` adds select items of `table` to the output.
    """
    value_maps = value_maps or {}
    exprs, checks = [], []
    for field in MESSAGE_FIELDS:
        col = fields.get(field.name)
        if col is None:
            default = "'customer'" if field.name == "author_role" else "NULL"
            exprs.append(f"CAST({default} AS {field.sql_type}) AS {field.name}")
            continue
        t = _value_mapped(_text([col]), value_maps.get(field.name, {}))
        if field.kind == "timestamp":
            typed = timestamp_expr(t, formats)
            checks.append(
                f"WHEN {t} IS NOT NULL AND {typed} IS NULL THEN "
                f"'{field.name}: cannot parse the value as timestamp (column {col})'"
            )
            checks.append(_out_of_range_check(field.name, typed, [col]))
        elif field.kind == "integer":
            typed = f"try_cast({t} AS INTEGER)"
            checks.append(
                f"WHEN {t} IS NOT NULL AND {typed} IS NULL THEN "
                f"'{field.name}: not an integer (column {col})'"
            )
        elif field.kind == "boolean":
            known = ", ".join(
                f"{lit(k)}: {'true' if v else 'false'}" for k, v in BOOLEAN_TEXT.items()
            )
            parsed = f"(MAP {{{known}}})[lower({t})]"
            # An empty cell is the default (public); a value that is not a boolean is not.
            typed = f"coalesce({parsed}, true)"
            checks.append(
                f"WHEN {t} IS NOT NULL AND {parsed} IS NULL THEN '{field.name}: not a boolean "
                f"(column {col}; map its values with value_maps.{field.name})'"
            )
        elif field.name == "author_role":
            lowered = f"lower({t})"
            typed = _value_mapped(lowered, {k.lower(): v for k, v in role_map.items()})
            checks.append(f"WHEN {t} IS NULL THEN 'author_role: missing (column {col})'")
            checks.append(
                f"WHEN {typed} NOT IN ('customer', 'agent', 'system') THEN "
                f"'author_role: unknown role (column {col}; map it with role_map)'"
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
    extra = f", {carry}" if carry else ""
    return f"SELECT _row_number, {', '.join(exprs)}, {reason} AS _reason{extra} FROM {table}"
