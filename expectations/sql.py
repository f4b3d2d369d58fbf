"""The same checks as DuckDB SQL: per-ticket violations and per-month counts in one pass."""

from __future__ import annotations

from datetime import date

from expectations.checks import Check, sql_str
from expectations.suites import frame_sql
from ticket_audit.config import AuditConfig


def partition_month_sql(bounds: tuple[date, date] | None) -> str:
    """created_month clamped to the partition range: out-of-range tickets (future-dated ones
    are a defect the audit reports) belong to the edge partitions."""
    if bounds is None:
        return "created_month"
    first, last = bounds
    return f"greatest(least(created_month, DATE '{last.isoformat()}'), DATE '{first.isoformat()}')"


def window_sql(bounds: tuple[date, date] | None, months: tuple[date, date] | None) -> str:
    """Predicate for tickets whose partition month lies in [start, end)."""
    if months is None:
        return "TRUE"
    start, end = months
    pm = partition_month_sql(bounds)
    return f"({pm} >= DATE '{start.isoformat()}' AND {pm} < DATE '{end.isoformat()}')"


def window_frame_sql(cfg: AuditConfig, bounds, months) -> str:
    pm = partition_month_sql(bounds)
    return (
        f"SELECT *, {pm} AS partition_month FROM ({frame_sql(cfg)}) "
        f"WHERE {window_sql(bounds, months)}"
    )


def counts_query(cfg: AuditConfig, checks: list[Check], bounds=None, months=None) -> str:
    """One query: tickets and unexpected count of every check, per partition month.

    This is the benchmark's "GX without GX": the identical definitions, one scan.
    """
    cols = ", ".join(
        f"count(*) FILTER (WHERE {c.unexpected_sql}) AS {sql_ident(c.name)}" for c in checks
    )
    return (
        f"SELECT partition_month, count(*) AS tickets, {cols} "
        f"FROM ({window_frame_sql(cfg, bounds, months)}) GROUP BY partition_month "
        "ORDER BY partition_month"
    )


def violations_query(cfg: AuditConfig, checks: list[Check], bounds=None, months=None) -> str:
    """(source, ticket_id, partition_month, check_name) for every failed check, one scan."""
    fails = ", ".join(f"CASE WHEN {c.unexpected_sql} THEN {sql_str(c.name)} END" for c in checks)
    return (
        "SELECT source, ticket_id, partition_month, check_name FROM ("
        f"SELECT source, ticket_id, partition_month, "
        f"list_filter([{fails}], lambda x: x IS NOT NULL) AS fails "
        f"FROM ({window_frame_sql(cfg, bounds, months)})"
        ") AS t, unnest(t.fails) AS u(check_name)"
    )


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
