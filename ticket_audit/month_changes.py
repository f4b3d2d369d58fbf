"""Which months of the history changed since the last complete audit.

An audit re-runs its per-month stages only for the months whose tickets or messages changed
(a weekly export touches one or two months of years of history). A month's fingerprint
hashes the content of every ticket and message of the month, so a new, updated, deleted or
removed ticket or message changes it and an export loaded again unchanged does not; the
audit settings go with it (tuning keys left out: `AuditConfig.results_json`), so a changed
configuration re-runs every month. Fingerprints are recorded only after an audit completed, so
an interrupted audit is redone in full by the next one.
"""

from __future__ import annotations

from datetime import date

import duckdb

from ticket_audit.model import MESSAGE_COLUMNS, TICKET_COLUMNS
from ticket_audit.store import transaction


def _current_sql() -> str:
    # Content, not lineage: an export loaded again with the same rows changes nothing.
    t_cols = ", ".join(f"t.{c}" for c in ("source", *TICKET_COLUMNS))
    m_cols = ", ".join(f"m.{c}" for c in ("source", *MESSAGE_COLUMNS))
    return f"""
WITH t AS (
    SELECT t.created_month, bit_xor(hash({t_cols})) AS h FROM canonical.tickets t GROUP BY ALL),
m AS (
    SELECT t.created_month, bit_xor(hash({m_cols})) AS h
    FROM canonical.messages m
    JOIN canonical.tickets t ON t.source = m.source AND t.ticket_id = m.ticket_id
    GROUP BY ALL)
SELECT t.created_month, hash(t.h, coalesce(m.h, 0)) FROM t LEFT JOIN m USING (created_month)
"""


def current_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[date, int]:
    rows = con.execute(_current_sql()).fetchall()
    return {month: fp for month, fp in rows if month is not None}


def changed_months(
    con: duckdb.DuckDBPyConnection, current: dict[date, int], settings: str
) -> list[date] | None:
    """Months that differ from the last complete audit; None when there is nothing to
    compare with (first audit, or other settings): then every month counts as changed."""
    rows = con.execute("SELECT created_month, fingerprint, settings FROM audit.month_fingerprints")
    recorded = rows.fetchall()
    if not recorded or any(s != settings for _, _, s in recorded):
        return None
    before = {month: fp for month, fp, _ in recorded}
    return sorted(m for m in before.keys() | current.keys() if before.get(m) != current.get(m))


def record(con: duckdb.DuckDBPyConnection, current: dict[date, int], settings: str) -> None:
    """The fingerprints of a completed audit: what the next one compares with."""
    with transaction(con):
        con.execute("DELETE FROM audit.month_fingerprints")
        con.executemany(
            "INSERT INTO audit.month_fingerprints VALUES (?, ?, ?)",
            [[month, fp, settings] for month, fp in current.items()],
        )
