"""Fields that exist only for some ticket statuses (e.g. resolution and CSAT only when closed).

A reply assistant learns from resolved conversations: when the resolution, the agent reply
or the CSAT exist only for closed tickets, every open or pending ticket carries no answer
to learn from. The pattern is found, not configured: a field counts as status-dependent
when it is filled for at least `high` of the tickets of some statuses and at most `low` of
the others (each status with at least `min_tickets` tickets).
"""

from __future__ import annotations

import duckdb

FIELDS = {
    "resolved_at": "t.resolved_at IS NOT NULL",
    "first_response_at": "t.first_response_at IS NOT NULL",
    "csat": "t.csat IS NOT NULL",
    "agent_reply": "r.ticket_id IS NOT NULL",
}


def completeness_by_status(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cols = ", ".join(f"avg(({expr})::INT) AS {name}" for name, expr in FIELDS.items())
    rel = con.sql(f"""
        WITH r AS (SELECT DISTINCT source, ticket_id FROM canonical.messages
                   WHERE author_role = 'agent' AND coalesce(is_public, true))
        SELECT coalesce(t.status, '(none)') AS status, count(*) AS tickets, {cols}
        FROM canonical.tickets t
        LEFT JOIN r ON r.source = t.source AND r.ticket_id = t.ticket_id
        GROUP BY 1 ORDER BY 1""")
    cols_ = rel.columns
    return [dict(zip(cols_, row, strict=True)) for row in rel.fetchall()]


def status_patterns(
    by_status: list[dict], *, high: float = 0.95, low: float = 0.05, min_tickets: int = 20
) -> list[dict]:
    """[{field, present_for, absent_for, tickets_without}] for status-dependent fields."""
    rows = [r for r in by_status if r["tickets"] >= min_tickets]
    out = []
    for field in FIELDS:
        present = [r for r in rows if r[field] >= high]
        absent = [r for r in rows if r[field] <= low]
        if present and absent and len(present) + len(absent) == len(rows):
            out.append(
                {
                    "field": field,
                    "present_for": [r["status"] for r in present],
                    "absent_for": [r["status"] for r in absent],
                    "tickets_without": int(
                        sum(round(r["tickets"] * (1 - r[field])) for r in absent)
                    ),
                }
            )
    return out
