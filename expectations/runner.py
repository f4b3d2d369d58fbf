"""Runs the suites through GX Core 1.x over pandas frames, one validation per month and suite.

The context is ephemeral (suites, validation definitions and checkpoint are rebuilt from
code on every run) except for the validation results, which live in a file store beside the
audit database so that Data Docs list every month even when months run in separate
processes (Dagster backfills). Re-validating a month replaces its earlier results.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import great_expectations as gx
import pandas as pd
import polars as pl
from filelock import FileLock
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from expectations.checks import RESULT_FORMAT, Check
from expectations.suites import SUITE_COLUMNS, SUITES, build_suite, checks_by_suite
from reports.data_docs import make_offline

log = logging.getLogger(__name__)
DOCS_SITE = "ticket_audit"
# Result keys that would carry flagged values (ticket text) rather than counts.
VALUE_KEYS = frozenset(
    {
        "partial_unexpected_list",
        "partial_unexpected_counts",
        "partial_unexpected_index_list",
        "unexpected_list",
        "unexpected_index_list",
        "unexpected_rows",
        "unexpected_index_query",
    }
)
DATASOURCE = "canonical_tickets"


@dataclass(frozen=True)
class CheckResult:
    suite: str
    check: str
    expectation_type: str
    column: str
    partition_month: date
    success: bool
    unexpected_count: int | None
    element_count: int | None
    unexpected_percent: float | None
    # GX's own "exception raised" flag; the exception text is not kept (it may quote data).
    raised: bool = False


def _month_key(month: date) -> str:
    return month.strftime("%Y-%m")


class GxRunner:
    """One GX context for a run: validate monthly frames, then build Data Docs once."""

    def _results_lock(self) -> FileLock:
        # Runs of other months (other processes) write the same results store and Data Docs.
        lock = self.results_dir.parent / (self.results_dir.name + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(lock)

    def __init__(self, checks: list[Check], *, results_dir: Path, docs_dir: Path | None):
        self.checks = {c.name: c for c in checks}
        self.results_dir = Path(results_dir)
        self.docs_dir = Path(docs_dir) if docs_dir else None
        stores = InMemoryStoreBackendDefaults().stores
        stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(self.results_dir.resolve()),
            },
        }
        sites = {}
        if self.docs_dir is not None:
            sites[DOCS_SITE] = {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(self.docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        config = DataContextConfig(
            stores=stores,
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites=sites,
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        asset = self.context.data_sources.add_pandas(DATASOURCE).add_dataframe_asset("tickets")
        batch = asset.add_batch_definition_whole_dataframe("month")
        # One checkpoint per suite: each suite gets its own narrow frame.
        self.checkpoints: dict[str, gx.Checkpoint] = {}
        for name, suite_checks in checks_by_suite(checks).items():
            if not suite_checks:
                continue
            suite = self.context.suites.add(build_suite(name, suite_checks))
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            self.checkpoints[name] = self.context.checkpoints.add(
                gx.Checkpoint(
                    name=name,
                    validation_definitions=[definition],
                    actions=[],
                    result_format=RESULT_FORMAT,
                )
            )

    def _forget_month(self, month: date) -> None:
        roots = [self.results_dir]
        if self.docs_dir is not None:
            roots.append(self.docs_dir / "validations")
        for root in roots:
            for suite in SUITES:
                shutil.rmtree(root / suite / _month_key(month), ignore_errors=True)

    def validate(self, month: date, frames: dict[str, pd.DataFrame]) -> list[CheckResult]:
        """Validate one month: `frames` maps suite name -> that suite's columns (SUITE_COLUMNS).

        Results also go to the file store (for Data Docs).
        """
        runs = []
        run_time = datetime.now(UTC)
        with self._results_lock():
            self._forget_month(month)
            for name, checkpoint in self.checkpoints.items():
                result = checkpoint.run(
                    batch_parameters={"dataframe": frames[name]},
                    run_id=RunIdentifier(run_name=_month_key(month), run_time=run_time),
                )
                runs.extend(result.run_results.values())
            leaked = sorted(
                {k for run in runs for er in run.results for k in (er.result or {})} & VALUE_KEYS
            )
            if leaked:
                # Defence in depth: a GX upgrade that ignores the result format must not get
                # ticket text into the store or the Data Docs.
                self._forget_month(month)
                raise RuntimeError(
                    f"GX returned flagged values ({', '.join(leaked)}); "
                    "results for this month were discarded"
                )
        rows: list[CheckResult] = []
        for run in runs:
            suite = run.suite_name
            for er in run.results:
                cfg = er.expectation_config
                name = (cfg.meta or {}).get("check", cfg.type)
                check = self.checks.get(name)
                res = er.result or {}
                raised = bool((er.exception_info or {}).get("raised_exception"))
                if raised:
                    log.error("GX expectation %s/%s raised for %s", suite, name, month)
                rows.append(
                    CheckResult(
                        suite=suite,
                        check=name,
                        expectation_type=cfg.type,
                        column=check.column if check else str(cfg.kwargs.get("column", "")),
                        partition_month=month,
                        success=bool(er.success),
                        unexpected_count=res.get("unexpected_count"),
                        element_count=res.get("element_count"),
                        unexpected_percent=res.get("unexpected_percent"),
                        raised=raised,
                    )
                )
        return rows

    def build_docs(self) -> Path | None:
        if self.docs_dir is None:
            return None
        with self._results_lock():
            self.context.build_data_docs(site_names=[DOCS_SITE])
            # The output directory must open offline: GX links its scripts from CDNs.
            make_offline(self.docs_dir)
        return self.docs_dir / "index.html"


def suite_frames(tickets: pl.DataFrame) -> dict[str, pd.DataFrame]:
    """Polars -> pandas at the GX boundary, one narrow frame per suite.

    Timestamps cross as datetime64[ns]: GX's between-check is vectorised only for that unit.
    """
    out = {}
    for suite, columns in SUITE_COLUMNS.items():
        frame = tickets.select(columns).with_columns(pl.col(pl.Datetime).dt.cast_time_unit("ns"))
        out[suite] = frame.to_pandas()
    return out
