"""Runs the expectation suites for a window of monthly partitions and stores the results.

Read (one short connection) -> GX per month and suite (no connection held) -> write results,
per-ticket violations from the SQL twin, and the GX/SQL agreement (one short connection).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from expectations.checks import Check
from expectations.sql import partition_month_sql, violations_query, window_frame_sql
from expectations.suites import all_checks
from ticket_audit.config import AuditConfig
from ticket_audit.quality.tables import ensure_tables
from ticket_audit.store import open_store, transaction

if TYPE_CHECKING:
    from expectations.runner import CheckResult

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def default_bounds(cfg: AuditConfig, today: date | None = None) -> tuple[date, date]:
    """First and last monthly partition, as pipelines/defs/partitions.py defines them
    (start from the config, the current month included)."""
    today = today or datetime.now(UTC).date()
    return cfg.audit.partitions_start.replace(day=1), today.replace(day=1)


def gx_results_dir(cfg: AuditConfig) -> Path:
    """GX's validation result store, beside (and named after) the audit's DuckDB file, so
    two audits sharing a directory never mix their Data Docs."""
    return cfg.duckdb_path.with_name(cfg.duckdb_path.name + ".gx")


@dataclass
class ChecksOutcome:
    results: list[CheckResult]
    # (partition month, check name) -> unexpected count from the SQL twin
    sql_counts: dict[tuple[date, str], int]
    tickets_by_month: dict[date, int]
    timings: dict[str, float] = field(default_factory=dict)
    docs_index: Path | None = None

    @property
    def tickets(self) -> int:
        return sum(self.tickets_by_month.values())

    def mismatches(self) -> list[dict]:
        """Checks where GX and SQL disagree (or GX raised): the funnel cannot be trusted."""
        out = []
        for r in self.results:
            sql = self.sql_counts.get((r.partition_month, r.check), 0)
            tickets = self.tickets_by_month.get(r.partition_month, 0)
            if r.raised or r.unexpected_count != sql or r.element_count != tickets:
                out.append(
                    {
                        "month": r.partition_month.isoformat(),
                        "check": r.check,
                        "gx": r.unexpected_count,
                        "sql": sql,
                        "gx_elements": r.element_count,
                        "tickets": tickets,
                        "raised": r.raised,
                    }
                )
        return out

    def by_suite(self) -> dict[str, dict[str, int]]:
        """suite -> check -> unexpected tickets over the window."""
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            suite = out.setdefault(r.suite, {})
            suite[r.check] = suite.get(r.check, 0) + (r.unexpected_count or 0)
        return out


def run_checks(
    cfg: AuditConfig,
    *,
    months: tuple[date, date] | None = None,
    bounds: tuple[date, date] | None = None,
    docs_dir: Path | None = None,
    progress: Progress = log.info,
    checks: list[Check] | None = None,
) -> ChecksOutcome:
    """Validate the tickets whose partition month lies in `months` ([start, end); None: all).

    `bounds` are the first and last partition (tickets outside go to the edge partitions).
    """
    bounds = bounds or default_bounds(cfg)
    checks = checks or all_checks(cfg)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        table = con.sql(window_frame_sql(cfg, bounds, months)).to_arrow_table()
    tickets = pl.from_arrow(table)
    del table
    timings["read"] = time.perf_counter() - t0
    progress(f"quality checks: {tickets.height:,} tickets read")

    from expectations.runner import GxRunner, suite_frames  # GX: seconds to import

    t0, cpu0 = time.perf_counter(), time.process_time()
    results_dir = gx_results_dir(cfg)
    runner = GxRunner(checks, results_dir=results_dir, docs_dir=docs_dir)
    results: list[CheckResult] = []
    tickets_by_month: dict[date, int] = {}
    for (month,), part in sorted(tickets.partition_by("partition_month", as_dict=True).items()):
        tickets_by_month[month] = part.height
        results += runner.validate(month, suite_frames(part))
        progress(f"quality checks: {month:%Y-%m} validated ({part.height:,} tickets)")
    del tickets
    timings["gx"] = time.perf_counter() - t0
    timings["gx_cpu"] = time.process_time() - cpu0
    t0 = time.perf_counter()
    docs_index = runner.build_docs()
    timings["data_docs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sql_counts = _write(cfg, checks, results, bounds, months)
    timings["write"] = time.perf_counter() - t0
    return ChecksOutcome(results, sql_counts, tickets_by_month, timings, docs_index)


def _write(cfg, checks, results, bounds, months) -> dict[tuple[date, str], int]:
    meta = pl.DataFrame(
        {
            "check_name": [c.name for c in checks],
            "suite": [c.suite for c in checks],
            "criterion": [c.criterion for c in checks],
        }
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = pl.DataFrame(
        [
            {
                "suite": r.suite,
                "check_name": r.check,
                "expectation_type": r.expectation_type,
                "column_name": r.column,
                "partition_month": r.partition_month,
                "success": r.success,
                "unexpected_count": r.unexpected_count,
                "element_count": r.element_count,
                "unexpected_percent": r.unexpected_percent,
                "raised": r.raised,
            }
            for r in results
        ],
        schema={
            "suite": pl.Utf8,
            "check_name": pl.Utf8,
            "expectation_type": pl.Utf8,
            "column_name": pl.Utf8,
            "partition_month": pl.Date,
            "success": pl.Boolean,
            "unexpected_count": pl.Int64,
            "element_count": pl.Int64,
            "unexpected_percent": pl.Float64,
            "raised": pl.Boolean,
        },
    )
    month_filter = "TRUE"
    if months is not None:
        month_filter = (
            f"partition_month >= DATE '{months[0].isoformat()}' "
            f"AND partition_month < DATE '{months[1].isoformat()}'"
        )
    with open_store(cfg.duckdb_path) as con:
        ensure_tables(con)
        with transaction(con, check_meta=meta.to_arrow(), gx_rows=rows.to_arrow()):
            con.execute("DELETE FROM audit.quality_partition_bounds")
            con.execute("INSERT INTO audit.quality_partition_bounds VALUES (?, ?)", list(bounds))
            con.execute(f"DELETE FROM audit.quality_check_violations WHERE {month_filter}")
            con.execute(
                f"""INSERT INTO audit.quality_check_violations
                SELECT v.source, v.ticket_id, v.partition_month, m.suite, v.check_name, m.criterion
                FROM ({violations_query(cfg, checks, bounds, months)}) v
                JOIN check_meta m USING (check_name)"""
            )
            con.execute(f"DELETE FROM audit.quality_check_results WHERE {month_filter}")
            con.execute(
                """INSERT INTO audit.quality_check_results
                SELECT g.suite, g.check_name, g.expectation_type, g.column_name,
                       g.partition_month, g.success, g.unexpected_count, g.element_count,
                       g.unexpected_percent, coalesce(s.n, 0), m.criterion, g.raised, ?
                FROM gx_rows g JOIN check_meta m USING (check_name)
                LEFT JOIN (SELECT partition_month, check_name, count(*) AS n
                           FROM audit.quality_check_violations
                           GROUP BY ALL) s USING (partition_month, check_name)""",
                [now],
            )
            counts = con.execute(
                f"""SELECT partition_month, check_name, count(*)
                FROM audit.quality_check_violations WHERE {month_filter} GROUP BY ALL"""
            ).fetchall()
    return {(m, c): n for m, c, n in counts}


__all__ = ["ChecksOutcome", "default_bounds", "partition_month_sql", "run_checks"]
