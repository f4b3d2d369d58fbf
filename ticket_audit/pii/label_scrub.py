"""Label values that hold personal data, replaced wherever the audit copied them.

Category, subcategory, product, team and tags leave the raw zone by design: the quality
layer counts them (rare categories, team tables, label conflicts), the scorecard prints them,
audit.* keeps them. A customer's e-mail typed into the category field would travel along.
The redacted dataset redacts each label like any text (redact_tickets.py); this module
gives every other copy the same redacted value: it scans the distinct label values of
canonical with the pattern recognizers (a few hundred values, milliseconds), and rewrites
the audit tables' text columns where a raw value occurs, before the scorecard is written.
"""

from __future__ import annotations

import json

import duckdb

from ticket_audit.config import AuditConfig
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.ticket_texts import LABEL_FIELDS, LIST_FIELDS, q

# Column types of audit.* that can hold a copied label.
_TEXT_TYPES = ("VARCHAR", "JSON", "VARCHAR[]")


def distinct_labels(con: duckdb.DuckDBPyConnection) -> list[str]:
    columns = {
        c
        for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'canonical' AND table_name = 'tickets'"
        ).fetchall()
    }
    parts = [f"SELECT {q(f)} AS v FROM canonical.tickets" for f in LABEL_FIELDS if f in columns]
    parts += [
        f"SELECT unnest({q(f)}) AS v FROM canonical.tickets" for f in LIST_FIELDS if f in columns
    ]
    if not parts:
        return []
    rows = con.execute(
        f"SELECT DISTINCT v FROM ({' UNION ALL '.join(parts)}) WHERE v IS NOT NULL AND v <> ''"
    ).fetchall()
    return [v for (v,) in rows]


def label_redactions(
    con: duckdb.DuckDBPyConnection, cfg: AuditConfig, hasher: KeyedHasher
) -> dict[str, str]:
    """{raw label value: its redacted form} for the label values that hold personal data."""
    from ticket_audit.pii.redact import Redactor
    from ticket_audit.pii.runtime import get_scanner

    values = distinct_labels(con)
    if not values:
        return {}
    scanner = get_scanner(cfg.pii)
    found = scanner.scan(values, patterns_only=True, n_process=1)
    redactor = Redactor(cfg.pii, hasher)
    out = {}
    for value, fs in zip(values, found, strict=True):
        if fs:
            redacted = redactor.redact(value, fs)
            if redacted != value:
                out[value] = redacted
    return out


def scrub_audit_tables(con: duckdb.DuckDBPyConnection, redactions: dict[str, str]) -> int:
    """Replace each raw label value in every text column of audit.* (JSON included);
    returns the columns rewritten."""
    if not redactions:
        return 0
    pairs: list[tuple[str, str]] = []
    for raw, red in redactions.items():
        pairs.append((raw, red))
        escaped = json.dumps(raw)[1:-1]
        if escaped != raw:  # the JSON text of a summary holds the escaped form
            pairs.append((escaped, json.dumps(red)[1:-1]))
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'audit' AND data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]') "
        "AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'audit' AND table_type = 'BASE TABLE')"
    ).fetchall()
    rewritten = 0
    for table, column, dtype in columns:
        col = q(column)
        expr = f"CAST({col} AS VARCHAR)" if dtype == "JSON" else col
        if dtype == "VARCHAR[]":
            element = "x"
            for _ in pairs:
                element = f"replace({element}, ?, ?)"
            params = [p for pair in pairs for p in pair]
            hit = " OR ".join(f"list_contains({col}, ?)" for _ in redactions)
            sql = (
                f"UPDATE audit.{q(table)} SET {col} = list_transform({col}, lambda x: {element}) "
                f"WHERE {hit}"
            )
            params += list(redactions)
        else:
            new = expr
            for _ in pairs:
                new = f"replace({new}, ?, ?)"
            params = [p for pair in pairs for p in pair]
            hit = " OR ".join(f"contains({expr}, ?)" for _ in pairs)
            params += [raw for raw, _ in pairs]
            if dtype == "JSON":
                new = f"CAST({new} AS JSON)"
            sql = f"UPDATE audit.{q(table)} SET {col} = {new} WHERE {hit}"
        changed = con.execute(sql, params).fetchall()[0][0]
        rewritten += bool(changed)
    return rewritten


def scrub_labels(con: duckdb.DuckDBPyConnection, cfg: AuditConfig) -> int:
    """Label values with personal data: redacted in audit.* (before the scorecard reads the
    layer summaries). Returns how many distinct label values were redacted."""
    hasher = KeyedHasher.from_env(cfg.audit.hash_key_env)
    redactions = label_redactions(con, cfg, hasher)
    scrub_audit_tables(con, redactions)
    return len(redactions)
