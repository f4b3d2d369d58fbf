"""Breakdowns by month, channel and team, and the worst examples (ticket ids only)."""

from __future__ import annotations

import duckdb

from ticket_audit.quality.funnel import CRITERION_KEYS

NONE = "(none)"
DIMENSIONS = {
    "month": "strftime(created_month, '%Y-%m')",
    "channel": f"coalesce(channel, '{NONE}')",
    "team": f"coalesce(team, '{NONE}')",
}


def breakdowns(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """{dimension: [{value, tickets, tagging_coverage, usable_share, <criterion>_fail_share}]}."""
    fails = ", ".join(f"avg((NOT {k})::INT) AS {k}_fail_share" for k in CRITERION_KEYS)
    out = {}
    for name, expr in DIMENSIONS.items():
        rel = con.sql(f"""
            SELECT {expr} AS value, count(*) AS tickets,
                avg(tagged::INT) AS tagging_coverage, avg(usable::INT) AS usable_share, {fails}
            FROM audit.quality_ticket_flags GROUP BY 1 ORDER BY 1
        """)
        cols = rel.columns
        out[f"by_{name}"] = [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]
    return out


def worst_examples(con: duckdb.DuckDBPyConnection, limit: int) -> dict:
    """Ticket ids behind each finding, worst first. Never text."""
    if limit <= 0:
        return {}
    fail_list = ", ".join(f"CASE WHEN NOT {k} THEN '{k}' END" for k in CRITERION_KEYS)
    worst = con.execute(
        f"""
        SELECT source, ticket_id, list_filter([{fail_list}], lambda x: x IS NOT NULL) AS failed
        FROM audit.quality_ticket_flags
        ORDER BY len(failed) DESC, source, ticket_id LIMIT ?""",
        [limit],
    ).fetchall()
    by_check = con.execute(
        """
        SELECT check_name, list(ticket_id ORDER BY ticket_id)[1:?] FROM (
            SELECT check_name, ticket_id,
                row_number() OVER (PARTITION BY check_name ORDER BY ticket_id) AS k
            FROM audit.quality_check_violations) WHERE k <= ?
        GROUP BY check_name ORDER BY check_name""",
        [limit, limit],
    ).fetchall()
    labels = con.execute(
        """
        SELECT ticket_id, given_category, suggested_category,
            round(suggested_probability - given_probability, 4) AS margin
        FROM audit.label_issues WHERE issue = 'implausible_label'
        ORDER BY margin DESC, ticket_id LIMIT ?""",
        [limit],
    ).fetchall()
    groups = con.execute(
        """
        SELECT group_id, any_value(group_size) AS size,
            count(*) FILTER (WHERE kind = 'exact') AS exact_copies,
            count(*) FILTER (WHERE kind = 'near') AS near_copies,
            any_value(distinct_categories) AS categories, bool_or(label_conflict) AS conflict,
            list(ticket_id ORDER BY ticket_id)[1:5] AS tickets
        FROM audit.duplicate_groups GROUP BY group_id
        ORDER BY conflict DESC, size DESC, group_id LIMIT ?""",
        [limit],
    ).fetchall()
    return {
        "worst_tickets": [{"source": s, "ticket_id": t, "failed": f} for s, t, f in worst if f],
        "by_check": {name: ids for name, ids in by_check},
        "label_issues": [
            {"ticket_id": t, "given": g, "suggested": s, "margin": m} for t, g, s, m in labels
        ],
        "duplicate_groups": [
            {
                "group_id": g,
                "size": n,
                "exact_copies": e,
                "near_copies": nc,
                "distinct_categories": c,
                "label_conflict": x,
                "tickets": ids,
            }
            for g, n, e, nc, c, x, ids in groups
        ],
    }
