"""Evidence from the tickets themselves: who leaves tickets untagged.

The canonical model has no "categorised by" field, so the assignee (a pseudonym) stands in
for who set the category. Only team and channel names, pseudonyms and counts leave here.
"""

from __future__ import annotations

import duckdb

from ticket_audit.sqlutil import checked_table
from ticket_audit.tagging import Labels, tagged_predicate


def _breakdown(
    con, table: str, column: str, tagged: str, params: list, top_n: int, min_tickets: int = 1
) -> list[dict]:
    rows = con.execute(
        f"""SELECT coalesce({column}, '(none)') AS k, count(*) AS n,
                   count(*) FILTER (WHERE NOT {tagged}) AS u
            FROM {table} WHERE deleted_at IS NULL
            GROUP BY 1 HAVING count(*) >= ?
            ORDER BY u / n DESC, n DESC, k
            LIMIT ?""",
        [*params, min_tickets, top_n],
    ).fetchall()
    return [
        {"key": k, "tickets": n, "untagged": u, "untagged_share": u / n if n else 0.0}
        for k, n, u in rows
    ]


def tagging_evidence(
    con: duckdb.DuckDBPyConnection, table: str, labels: Labels, top_n: int = 10
) -> dict:
    """Untagged tickets (`tagging.tagged_predicate` over `labels`) overall and by group."""
    table = checked_table(table)
    tagged, params = tagged_predicate(labels)
    total, untagged, assignees = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE NOT {tagged}), count(DISTINCT assignee_id)
            FROM {table} WHERE deleted_at IS NULL""",
        params,
    ).fetchone()
    by_team = _breakdown(con, table, "team", tagged, params, top_n)
    by_assignee = _breakdown(con, table, "assignee_id", tagged, params, top_n, min_tickets=20)
    return {
        "tickets": total,
        "untagged": untagged,
        "untagged_share": untagged / total if total else 0.0,
        "by_team": [{"team": r.pop("key"), **r} for r in by_team],
        "by_channel": [
            {"channel": r.pop("key"), **r}
            for r in _breakdown(con, table, "channel", tagged, params, top_n)
        ],
        "assignees": assignees,
        "by_assignee": [{"assignee": r.pop("key"), **r} for r in by_assignee],
        "note": "The source has no 'categorised by' field; the assignee (pseudonymous) "
        "stands in for who set the category.",
    }
