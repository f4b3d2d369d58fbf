"""dagster-celery end to end on loopback: a real worker on the machine's Redis runs the audit.

The worker is started with the documented command (`dagster-celery worker start -y
deploy/celery.yaml`), two prefork processes, listening on a queue of its own so that test
sessions running at the same time on this machine never execute each other's steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.operations.conftest import (
    BIN,
    REPO,
    audit_config,
    cli_env,
    duplicate_rows,
    stable_profile,
    stable_scorecard,
    table_counts,
)

pytestmark = [pytest.mark.services, pytest.mark.slow]

REDIS_DB = int(os.environ.get("TICKET_AUDIT_TEST_REDIS_DB", "13"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def _require_redis() -> None:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5).ping()
    except redis.exceptions.ConnectionError as exc:  # pragma: no cover - service missing
        pytest.skip(f"Redis not reachable on 127.0.0.1:6379: {exc}")


class Celery:
    def __init__(self, base: Path, env: dict[str, str], worker_name: str):
        self.base, self.env, self.worker_name = base, env, worker_name

    def run(self, job: str, *args: str) -> dict:
        result = subprocess.run(
            [sys.executable, "-m", "tests.operations.celery_driver", job, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        lines = result.stdout.strip().splitlines()
        assert lines, result.stderr[-4000:]
        return json.loads(lines[-1])


@pytest.fixture(scope="module")
def celery(ops_history, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Celery]:
    base = tmp_path_factory.mktemp("celery")
    config = audit_config(ops_history, base)
    name = f"ticket-audit-test-{uuid.uuid4().hex[:8]}"
    env = cli_env(
        base / "home",
        TICKET_AUDIT_CONFIG=str(config),
        TICKET_AUDIT_CELERY_BROKER=REDIS_URL,
        TICKET_AUDIT_CELERY_BACKEND=REDIS_URL,
        TICKET_AUDIT_CELERY_QUEUE=name,
        PYTHONPATH=str(REPO),
    )
    _require_redis()
    log_path = base / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [
                str(BIN / "dagster-celery"),
                "worker",
                "start",
                "-A",
                "dagster_celery.app",
                "-y",
                str(REPO / "deploy" / "celery.yaml"),
                "-n",
                name,
                "-q",
                name,
                "--",
                "--concurrency=2",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while f"{name}@" not in log_path.read_text() or " ready." not in log_path.read_text():
            assert worker.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker not ready:\n" + log_path.read_text()
            time.sleep(0.5)
        yield Celery(base, env, name)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown of the worker and its children
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_full_audit_on_celery_workers_equals_the_in_process_audit(
    celery: Celery, reference: Path
) -> None:
    out = celery.run("audit_celery_job", "--full-audit")
    assert out["success"], out
    steps = {**out["ingest_steps"], **out["steps"]}
    assert {"ingest", "pii_findings", "quality_checks", "readiness_scorecard"} <= set(steps)
    for key, step in steps.items():
        assert step.get("success"), key
        # Executed by our worker, not by the process that launched the run.
        assert step["celery_worker"].startswith(celery.worker_name), key
        assert step["pid"] != out["driver_pid"], key
    # Independent stages were spread over the worker's two processes.
    assert len({s["pid"] for s in steps.values()}) >= 2

    # The DuckDB store lock kept concurrent steps from different processes correct:
    # the same tables, rows and scorecard numbers as the one-process audit.
    base = celery.base
    db, ref_db = base / "db" / "audit.duckdb", reference / "db" / "audit.duckdb"
    assert table_counts(db) == table_counts(ref_db)
    assert duplicate_rows(db, "canonical.tickets", "source, ticket_id") == 0
    assert stable_scorecard(base / "out") == stable_scorecard(reference / "out")
    assert stable_profile(base / "out") == stable_profile(reference / "out")


def test_month_runs_of_the_heavy_stages_on_celery_are_independent(
    celery: Celery, reference: Path
) -> None:
    months = ["2026-03-01", "2026-04-01"]
    runs = [celery.run("monthly_stages_celery_job", "--partition", m) for m in months]
    for month, out in zip(months, runs, strict=True):
        assert out["success"], out
        assert {"pii_findings", "redacted_tickets", "quality_checks"} <= set(out["steps"])
        assert all(s["celery_worker"].startswith(celery.worker_name) for s in out["steps"].values())
        # Each run materializes its own month and nothing else.
        assert out["materialized"]
        assert {partition for _asset, partition in out["materialized"]} == {month}
    assert runs[0]["run_id"] != runs[1]["run_id"]
    # Re-running months of an audited history changes no counts (replace by partition).
    db = celery.base / "db" / "audit.duckdb"
    assert table_counts(db) == table_counts(reference / "db" / "audit.duckdb")
