"""Monthly partitions on ticket creation time."""

import dagster as dg

from pipelines.settings import config_path
from ticket_audit.config import ConfigError, load_config


def _start_date() -> str:
    # The partition set is fixed when the code location loads; fall back to the documented
    # default so a missing or broken config still lets the UI show what is wrong.
    try:
        return load_config(config_path()).audit.partitions_start.isoformat()
    except ConfigError:
        return "2018-01-01"


monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=_start_date(), end_offset=1)


def month_window(context: dg.AssetExecutionContext) -> tuple[str, list]:
    """SQL predicate on `created_month` for the run's partition window (one month or a range).

    Tickets dated before the first or after the last partition (future-dated tickets are a
    defect the audit reports) belong to the edge partitions, so every ticket is processed by
    exactly one partition.
    """
    return window_predicate(context.partition_time_window)


def month_windows(context: dg.AssetExecutionContext) -> list[tuple[str, str, list]]:
    """(month, predicate, params) for each month of the run's partition window, in order.

    A backfill of many months in one run still works a month at a time, so its memory is
    that of the largest month, not of the whole history.
    """
    return [
        (key, *window_predicate(monthly_partitions.time_window_for_partition_key(key)))
        for key in context.partition_keys
    ]


def window_predicate(window: dg.TimeWindow) -> tuple[str, list]:
    start, end = window.start.date(), window.end.date()
    keys = monthly_partitions.get_partition_keys()
    clauses, params = [], []
    if keys and start.isoformat() > keys[0]:
        clauses.append("created_month >= ?")
        params.append(start)
    if keys and end.isoformat() <= keys[-1]:
        clauses.append("created_month < ?")
        params.append(end)
    return (" AND ".join(clauses) or "TRUE"), params
