"""Business baselines: the numbers a GenAI programme must anchor to before it claims gains.

Definitions (docs/readiness.md):
- tickets dated after the load (future-dated defects) and deleted tickets are left out;
- monthly volume: mean tickets per calendar month over the most recent `recent_months`
  complete months (months that ended before the load; months without tickets count as zero);
- resolution time: resolved_at - created_at in hours, over tickets where it is >= 0;
- first response time: first_response_at - created_at in hours, over tickets where it is >= 0;
- CSAT: mean of ratings 1-5; response rate = rated tickets / resolved tickets.
Medians are interpolated (DuckDB `median`, the 50th percentile of a continuous distribution).
"""

from __future__ import annotations

import duckdb

from ticket_audit.sqlutil import checked_table
from ticket_audit.tagging import Labels, tagged_predicate

UNTAGGED = "(untagged)"
NO_CHANNEL = "(none)"

_METRICS = """
    count(*) AS tickets,
    count(*) FILTER (WHERE {window}) AS recent_tickets,
    median(res_h) AS median_resolution_hours,
    avg(res_h) AS mean_resolution_hours,
    median(frt_h) AS median_first_response_hours,
    avg(frt_h) AS mean_first_response_hours,
    avg(csat_ok) AS csat_mean,
    count(csat_ok) AS csat_responses,
    count(resolved_at) AS resolved
"""


def _base(table: str) -> str:
    # One pass of cleaning shared by every grouping, so totals and breakdowns agree.
    return f"""
    WITH as_of AS (SELECT max(loaded_at) AS t FROM {table}),
    base AS (
        SELECT t.*,
            CASE WHEN resolved_at >= created_at
                 THEN epoch(resolved_at - created_at) / 3600.0 END AS res_h,
            CASE WHEN first_response_at >= created_at
                 THEN epoch(first_response_at - created_at) / 3600.0 END AS frt_h,
            CASE WHEN csat BETWEEN 1 AND 5 THEN csat END AS csat_ok
        FROM {table} t, as_of
        WHERE t.deleted_at IS NULL AND t.created_at IS NOT NULL
          AND (as_of.t IS NULL OR t.created_at <= as_of.t)
    )"""


def _row(cols: list[str], values: tuple, recent_months: int) -> dict:
    r = dict(zip(cols, values, strict=True))
    r["monthly_volume"] = r.pop("recent_tickets") / recent_months if recent_months else 0.0
    r["csat_response_rate"] = r["csat_responses"] / r["resolved"] if r["resolved"] else None
    return r


def monthly_series(con: duckdb.DuckDBPyConnection, table: str, labels: Labels = None) -> list[dict]:
    """Tickets and tagged tickets per calendar month, gap months included as zero."""
    table = checked_table(table)
    tagged, params = tagged_predicate(labels, column="b.category")
    rows = con.execute(
        _base(table)
        + f""", span AS (SELECT min(created_month) AS lo, max(created_month) AS hi FROM base)
        SELECT m::DATE AS month, count(b.created_month) AS tickets,
               count(b.created_month) FILTER (WHERE {tagged}),
               coalesce(m + INTERVAL 1 MONTH <= (SELECT t FROM as_of), true) AS complete
        FROM span, range(span.lo, span.hi + INTERVAL 1 MONTH, INTERVAL 1 MONTH) r(m)
        LEFT JOIN base b ON b.created_month = r.m::DATE
        GROUP BY 1, 4 ORDER BY 1""",
        params,
    ).fetchall()
    return [
        {"month": m.isoformat(), "tickets": n, "tagged": t, "complete": c} for m, n, t, c in rows
    ]


def business_baselines(
    con: duckdb.DuckDBPyConnection,
    table: str = "canonical.tickets",
    recent_months: int = 12,
    labels: Labels = None,
) -> dict:
    """The "baselines" summary; `labels` (`tagging.tagged_labels`) decide what is tagged."""
    table = checked_table(table)
    series = monthly_series(con, table, labels)
    # The month the data was loaded in is still running; counting it would understate volume.
    recent = [m for m in series if m["complete"]][-recent_months:]
    n_recent = len(recent)
    lo, hi = (recent[0]["month"], recent[-1]["month"]) if recent else ("9999-01-01", "0001-01-01")
    metrics = _METRICS.format(window=f"created_month BETWEEN DATE '{lo}' AND DATE '{hi}'")

    def grouped(key_sql: str) -> dict[str, dict]:
        cur = con.execute(
            _base(table)
            + f" SELECT {key_sql} AS k, {metrics} FROM base GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        cols = [d[0] for d in cur.description][1:]
        return {k: _row(cols, v, n_recent) for k, *v in cur.fetchall()}

    cur = con.execute(_base(table) + f" SELECT {metrics} FROM base")
    cols = [d[0] for d in cur.description]
    overall = _row(cols, cur.fetchone(), n_recent)
    excluded = con.execute(
        f"""SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL),
                   count(*) FILTER (WHERE created_at > (SELECT max(loaded_at) FROM {table})),
                   count(*) FILTER (WHERE resolved_at < created_at),
                   count(*) FILTER (WHERE first_response_at < created_at)
            FROM {table}"""
    ).fetchone()
    return {
        **overall,
        "months": len(series),
        "recent_months": n_recent,
        "monthly": series,
        "by_category": grouped(f"coalesce(nullif(trim(category), ''), '{UNTAGGED}')"),
        "by_channel": grouped(f"coalesce(nullif(trim(channel), ''), '{NO_CHANNEL}')"),
        "excluded": {
            "deleted": excluded[0],
            "future_dated": excluded[1],
            "resolved_before_created": excluded[2],
            "first_response_before_created": excluded[3],
        },
    }
