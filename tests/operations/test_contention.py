"""Two processes on one DuckDB file: the second is told clearly, by name, and nothing is mixed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.runner import AuditFailed, audit_lock
from tests.operations.conftest import audit_config, cli_env, run_cli
from ticket_audit.store import StoreBusyError, open_store

HOLD = """
import sys, time
from pathlib import Path
{imports}
with {context}:
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(context: str, imports: str, path: Path, seconds: float) -> subprocess.Popen:
    """A second process holding a lock on `path`; returns once it holds it."""
    code = HOLD.format(imports=imports, context=context)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_store_lock_makes_the_second_process_wait_then_names_the_file(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    holder = _holder(
        "open_store(Path(sys.argv[1]))",
        "from ticket_audit.store import open_store",
        db,
        seconds=30,
    )
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError) as err, open_store(db, timeout=1.0):
            pass
        assert time.monotonic() - started >= 1.0  # waited first
        message = str(err.value)
        assert str(db) in message
        assert f"pid {holder.pid}" in message
        assert "Two audits must not write the same DuckDB file at once" in message
    finally:
        holder.kill()
        holder.wait()
    # The kernel drops the lock of a killed holder: the file is usable at once.
    with open_store(db, timeout=1.0) as con:
        assert con.execute("SELECT 1").fetchone() == (1,)


def test_store_lock_serializes_writers_from_two_processes(tmp_path: Path) -> None:
    """Several processes appending through open_store: every row lands, none is lost."""
    db = tmp_path / "audit.duckdb"
    with open_store(db) as con:
        con.execute("CREATE TABLE audit.t (writer INTEGER, i INTEGER)")
    code = (
        "import sys\nfrom ticket_audit.store import open_store\n"
        "for i in range(20):\n"
        "    with open_store(sys.argv[1], timeout=60) as con:\n"
        "        con.execute('INSERT INTO audit.t VALUES (?, ?)', [int(sys.argv[2]), i])\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db), str(w)]) for w in range(3)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0, 0]
    with open_store(db) as con:
        assert con.execute(
            "SELECT count(*), count(DISTINCT (writer, i)) FROM audit.t"
        ).fetchone() == (
            60,
            60,
        )


def test_audit_lock_refuses_a_second_audit_at_once(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    holder = _holder(
        "audit_lock(Path(sys.argv[1]))",
        "from pipelines.runner import audit_lock",
        db,
        seconds=30,
    )
    try:
        started = time.monotonic()
        with pytest.raises(AuditFailed) as err, audit_lock(db):
            pass
        assert time.monotonic() - started < 1.0  # no waiting: an audit takes minutes
        assert err.value.input_error
        assert str(db) in str(err.value)
        assert f"pid {holder.pid}" in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    with audit_lock(db):
        pass


def test_cli_audit_while_another_audit_runs_exits_2_naming_the_file(
    ops_history, tmp_path: Path
) -> None:
    config = audit_config(ops_history, tmp_path / "a")
    db = tmp_path / "a" / "db" / "audit.duckdb"
    holder = _holder(
        "audit_lock(Path(sys.argv[1]))", "from pipelines.runner import audit_lock", db, 60
    )
    try:
        result = run_cli(["run", "--config", str(config)], cli_env(tmp_path / "home"), 120)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2, result.stderr
    assert str(db) in result.stderr
    assert "another audit is already running on this DuckDB file" in result.stderr
    assert not (tmp_path / "a" / "out" / "scorecard.json").exists()


def test_cli_audit_waits_for_the_store_then_exits_2_when_it_stays_busy(
    ops_history, tmp_path: Path
) -> None:
    """Someone holds the database itself (a notebook, a stuck job): bounded wait, clear error."""
    config = audit_config(ops_history, tmp_path / "a")
    db = tmp_path / "a" / "db" / "audit.duckdb"
    holder = _holder(
        "open_store(Path(sys.argv[1]))", "from ticket_audit.store import open_store", db, 120
    )
    try:
        env = cli_env(tmp_path / "home", TICKET_AUDIT_LOCK_TIMEOUT="2")
        result = run_cli(["run", "--config", str(config)], env, 300)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2, result.stderr
    assert str(db) in result.stderr
    assert "audit database is in use by" in result.stderr
