"""Backfills and the run queue with a real `dagster-daemon`: months run as independent runs,
and never two runs on one DuckDB file at the same time.

Two backfills of the same file are queued before the daemon starts: a job backfill of two
months from the command line (runs carry the job's `ticket_audit/duckdb` tag) and an asset
backfill of a third month as the UI makes it (its run carries no job tags, only Dagster's
`dagster/code_location`). Without the queue limits the daemon would launch all three runs at
once (max_concurrent_runs is 4).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.operations.conftest import BIN, REPO, audit_config, cli_env, table_counts

pytestmark = pytest.mark.slow

ASSET_BACKFILL = """
import sys, time
import dagster as dg
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id
from pipelines.definitions import defs

graph = (defs() if callable(defs) else defs).resolve_asset_graph()
keys = [k for k in graph.materializable_asset_keys if graph.get(k).partitions_def is not None]
with dg.DagsterInstance.get() as instance:
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(), asset_graph=graph, partition_names=sys.argv[1:],
        asset_selection=keys, backfill_timestamp=time.time(), tags={},
        dynamic_partitions_store=instance, all_partitions=False, title="months from the UI",
        description=None, run_config={"execution": {"config": {"in_process": {}}}},
    )
    instance.add_backfill(backfill)
    print(backfill.backfill_id)
"""


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_backfilled_months_run_one_at_a_time_per_duckdb_file(ops_history, tmp_path: Path):
    config = audit_config(ops_history, tmp_path)
    env = cli_env(tmp_path / "home", TICKET_AUDIT_CONFIG=str(config), PYTHONPATH=str(REPO))
    dagster = str(BIN / "dagster")
    location = ["-m", "pipelines.definitions"]
    _run(
        [dagster, "asset", "materialize", *location, "--select", "raw_tickets,canonical_tickets"],
        env,
    )

    job_months, ui_months = ["2026-01-01", "2026-02-01"], ["2026-03-01"]
    _run(
        [dagster, "job", "backfill", *location, "-j", "monthly_stages_job",
         "--partitions", ",".join(job_months), "--noprompt"],
        env,
    )  # fmt: skip
    _run([sys.executable, "-c", ASSET_BACKFILL, *ui_months], env)

    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", *location],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "daemon.log", "w"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
            deadline = time.monotonic() + 900
            while True:
                runs = [r for r in instance.get_runs() if "dagster/backfill" in r.tags]
                if len(runs) == 3 and all(r.is_finished for r in runs):
                    break
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-4000:]
                assert time.monotonic() < deadline, [(r.status, r.tags) for r in runs]
                time.sleep(1)
            records = [
                rec
                for rec in instance.get_run_records()
                if "dagster/backfill" in rec.dagster_run.tags
            ]
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()

    runs = [r.dagster_run for r in records]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [r.status for r in runs]
    # One run per month: independent, retryable on their own.
    by_month = {r.tags.get("dagster/partition"): r for r in runs}
    assert set(by_month) == set(job_months + ui_months)
    assert not any("dagster/asset_partition_range_start" in r.tags for r in runs)
    # The UI-style runs are held back by the code-location rule alone.
    assert all("ticket_audit/duckdb" in by_month[m].tags for m in job_months)
    assert not any("ticket_audit/duckdb" in by_month[m].tags for m in ui_months)
    assert all("dagster/code_location" in r.tags for r in runs)

    # Never two at once: each run started after the previous one ended.
    spans = sorted((rec.start_time, rec.end_time) for rec in records)
    for (_s1, end), (start, _e2) in zip(spans, spans[1:], strict=False):
        assert start >= end, spans

    counts = table_counts(tmp_path / "db" / "audit.duckdb")
    assert counts["audit.pii_findings"] > 0
