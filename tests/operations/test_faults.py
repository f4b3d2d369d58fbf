"""Faults: an audit killed mid-stage and re-run, a read-only output directory, a full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from reports.files import is_temporary
from tests.operations.conftest import (
    BIN,
    REPO,
    audit_config,
    cli_env,
    duplicate_rows,
    report_files,
    run_cli,
    stable_profile,
    stable_scorecard,
    table_counts,
)

UNIQUE_KEYS = {
    "canonical.tickets": "source, ticket_id",
    "canonical.messages": "source, ticket_id, seq",
    "raw.quarantine": "source, origin, row_number, reason",
}

# A report writer killed between writing its temporary file and renaming it.
KILLED_WRITER = """
import os, sys, time
from reports.files import write_atomic
def stuck(*_a, **_k):
    print("written", flush=True)
    time.sleep(3600)
os.replace = stuck
write_atomic(sys.argv[1], b"half of a report")
"""


def _kill_during(
    args: list[str], env: dict, step: str, delay: float, marker: str | None = None
) -> tuple[str, bool]:
    """Start the CLI, SIGKILL its whole process group `delay` s into `step` (or after the
    step logs `marker`, for a step too quick to aim at by time alone).

    Returns the log up to the kill and whether the step had already finished (a missed aim).
    """
    proc = subprocess.Popen(
        [str(BIN / "ticket-audit"), "-v", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        for line in proc.stderr:
            lines.append(line)
            started = any(f'Started execution of step "{step}"' in x for x in lines)
            if started and (marker is None or marker in line):
                time.sleep(delay)
                break
        else:
            pytest.fail(f"the audit ended before step {step!r} started:\n{''.join(lines)[-3000:]}")
        os.killpg(proc.pid, signal.SIGKILL)
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    log = "".join(lines) + rest
    finished = f'Finished execution of step "{step}"' in log
    return log, finished


def _leave_a_killed_writer_behind(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(output_dir / "scorecard.json")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "written"
    proc.kill()
    proc.wait()
    leftovers = [p for p in output_dir.iterdir() if is_temporary(p)]
    assert leftovers, "the killed writer should have left its temporary file"
    return leftovers[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("step", "delay", "marker"),
    [
        # the tickets file is committed, the messages file is being loaded
        ("ingest", 0.02, "reading messages"),
        # scanning: findings not yet written
        ("pii_residual_scan", 0.0, "PII scan:"),
        ("quality_checks", 2.0, None),
    ],
)
def test_sigkill_mid_stage_then_rerun_gives_the_same_audit(
    ops_history, reference: Path, tmp_path: Path, step: str, delay: float, marker: str | None
) -> None:
    config = audit_config(ops_history, tmp_path)
    env = cli_env(tmp_path / "home")
    log, finished = _kill_during(["run", "--config", str(config)], env, step, delay, marker)
    assert not finished, f"aimed at the middle of {step!r} but it had already finished"
    stale = _leave_a_killed_writer_behind(tmp_path / "out")

    result = run_cli(["run", "--config", str(config)], env)
    assert result.returncode in (0, 1), result.stderr

    out, ref_out = tmp_path / "out", reference / "out"
    assert stable_scorecard(out) == stable_scorecard(ref_out)
    assert stable_profile(out) == stable_profile(ref_out)
    db, ref_db = tmp_path / "db" / "audit.duckdb", reference / "db" / "audit.duckdb"
    assert table_counts(db) == table_counts(ref_db)
    for table, key in UNIQUE_KEYS.items():
        assert duplicate_rows(db, table, key) == 0, table
    # Whole files only: the same reports as the uninterrupted audit, no temporaries.
    assert not stale.exists()
    assert not [p for p in out.rglob("*") if is_temporary(p)]
    assert report_files(out) == report_files(ref_out)
    # The killed run is not left "in progress" in Dagster, where it would hold the run queue.
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        in_progress = {"STARTING", "STARTED", "CANCELING", "SUSPENDED"}
        assert not [r for r in instance.get_runs() if r.status.value in in_progress]


def test_read_only_output_directory_exits_2_before_any_work(ops_history, tmp_path, tmpfs):
    read_only = tmpfs("out", "1m", "ro")
    config = audit_config(ops_history, tmp_path)
    started = time.monotonic()
    result = run_cli(
        ["run", "--config", str(config), "--output", str(read_only)], cli_env(tmp_path / "home")
    )
    assert result.returncode == 2, result.stderr
    assert str(read_only) in result.stderr
    assert "Read-only file system" in result.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "db" / "audit.duckdb").exists()  # nothing was loaded


def test_output_directory_that_is_a_file_exits_2(ops_history, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "report.txt"
    not_a_dir.write_text("")
    config = audit_config(ops_history, tmp_path)
    result = run_cli(
        ["run", "--config", str(config), "--output", str(not_a_dir)], cli_env(tmp_path / "home")
    )
    assert result.returncode == 2, result.stderr
    assert str(not_a_dir) in result.stderr
    assert "not a directory" in result.stderr


def _fill(directory: Path) -> None:
    with open(directory / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass


def test_full_output_disk_exits_2_naming_the_file(ops_history, tmp_path, tmpfs) -> None:
    out = tmpfs("out", "512k")
    _fill(out)
    config = audit_config(ops_history, tmp_path)
    result = run_cli(
        ["run", "--config", str(config), "--output", str(out)], cli_env(tmp_path / "home")
    )
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ticket-audit: ")
    assert f"the output directory {out} is full" in message
    assert not [p for p in out.iterdir() if is_temporary(p)]


def test_full_disk_under_the_database_exits_2_with_what_to_do(ops_history, tmp_path, tmpfs):
    db_dir = tmpfs("db", "1m")
    config = audit_config(ops_history, tmp_path)
    config.write_text(config.read_text().replace(str(tmp_path / "db"), str(db_dir)))
    env = cli_env(tmp_path / "home")
    result = run_cli(["run", "--config", str(config)], env)
    assert result.returncode == 2, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert f"the volume of the audit database {db_dir / 'audit.duckdb'} is full" in message
    assert "Free space or move it" in message
