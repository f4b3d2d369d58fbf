"""Leftovers of broken tooling, named: which unfilled template tokens, in how many tickets.

Only strings shaped like a merge field ({name}, {{ name }}, [FIRST_NAME], %NAME%) are kept
as evidence; anything else a configured pattern matches is counted as "(other)" so a loose
pattern cannot copy customer text into the report.
"""

from __future__ import annotations

import re

import duckdb

from ticket_audit.config import AuditConfig

TOKEN_SHAPE = re.compile(r"[{\[%<]{1,2} ?[A-Za-z_][A-Za-z0-9_.]{0,40} ?[}\]%>]{1,2}")
OTHER = "(other)"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def template_tokens(con: duckdb.DuckDBPyConnection, cfg: AuditConfig) -> list[dict]:
    """[{field, token, tickets}] over canonical.tickets, most frequent first."""
    rows: dict[tuple[str, str], int] = {}
    for field in ("description", "subject"):
        for pattern in cfg.quality.template_token_patterns:
            # Only tickets the text suite flagged can hold a token: no full scan.
            found = con.execute(f"""
                SELECT token, count(DISTINCT (source, ticket_id)) FROM (
                    SELECT t.source, t.ticket_id,
                        unnest(regexp_extract_all(t.{field}, {_lit(pattern)})) AS token
                    FROM canonical.tickets t
                    SEMI JOIN (SELECT source, ticket_id FROM audit.quality_check_violations
                               WHERE check_name = '{field}_no_template_token') v
                        ON v.source = t.source AND v.ticket_id = t.ticket_id)
                GROUP BY token""").fetchall()
            for token, n in found:
                key = (field, token if TOKEN_SHAPE.fullmatch(token) else OTHER)
                rows[key] = rows.get(key, 0) + n
    return sorted(
        ({"field": f, "token": t, "tickets": n} for (f, t), n in rows.items()),
        key=lambda r: (-r["tickets"], r["field"], r["token"]),
    )


def store_template_tokens(con: duckdb.DuckDBPyConnection, tokens: list[dict]) -> None:
    con.execute("DELETE FROM audit.template_tokens")
    if tokens:
        con.executemany(
            "INSERT INTO audit.template_tokens VALUES (?, ?, ?)",
            [[t["field"], t["token"], t["tickets"]] for t in tokens],
        )
