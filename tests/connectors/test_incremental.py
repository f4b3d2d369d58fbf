"""Crash safety of incremental loading: a chunk and its cursor commit together or not at all,
so a re-run after a crash (an error, or the process killed outright) neither loses nor
duplicates rows. Runs against this machine's PostgreSQL (tables made per test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml

import connectors.incremental as incremental
from connectors.ingest import ingest_config
from tests.conftest import REPO
from tests.connectors.helpers import balanced, config, cursor, no_duplicates, query, tickets
from tests.connectors.sql_tables import source, tables, ticket_rows
from ticket_audit.config import load_config


@pytest.fixture
def pg():
    with tables("postgres") as t:
        t.insert(ticket_rows(25))
        yield t


def _ids(cfg) -> list[str]:
    return [r["ticket_id"] for r in tickets(cfg, "ticket_id")]


@pytest.mark.services
def test_failure_between_chunks_resumes_after_the_last_commit(
    tmp_path: Path, pg, monkeypatch
) -> None:
    cfg = config(tmp_path, source("postgres", pg), batch_rows=10)
    real = incremental.IncrementalLoader.load
    calls = {"n": 0}

    def failing(self, chunk):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash before the third chunk")
        return real(self, chunk)

    monkeypatch.setattr(incremental.IncrementalLoader, "load", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest_config(cfg, progress=lambda _m: None)
    assert len(_ids(cfg)) == 20
    assert json.loads(cursor(cfg, "helpdesk_db"))["key"] == "T0020"
    monkeypatch.setattr(incremental.IncrementalLoader, "load", real)
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals()["rows_read"] == 5  # only what was not committed before
    assert _ids(cfg) == [f"T{i:04d}" for i in range(1, 26)]
    assert no_duplicates(cfg) and balanced(cfg)
    assert query(cfg, "SELECT count(*) FROM canonical.messages") == [(50,)]


@pytest.mark.services
def test_failure_inside_a_chunk_rolls_back_its_rows_with_its_cursor(
    tmp_path: Path, pg, monkeypatch
) -> None:
    cfg = config(tmp_path, source("postgres", pg), batch_rows=10)
    real = incremental._write_cursor
    calls = {"n": 0}

    def failing(con, src, cur):
        calls["n"] += 1
        if calls["n"] == 2:  # chunk 2: rows already inserted in this transaction
            raise RuntimeError("simulated crash before commit")
        return real(con, src, cur)

    monkeypatch.setattr(incremental, "_write_cursor", failing)
    with pytest.raises(RuntimeError):
        ingest_config(cfg, progress=lambda _m: None)
    assert len(_ids(cfg)) == 10  # chunk 2's rows went with its cursor
    assert query(cfg, "SELECT count(*) FROM raw.helpdesk_db") == [(10,)]
    assert query(cfg, "SELECT count(*) FROM audit.load_log WHERE kind = 'tickets'") == [(1,)]
    assert json.loads(cursor(cfg, "helpdesk_db"))["key"] == "T0010"
    monkeypatch.setattr(incremental, "_write_cursor", real)
    assert ingest_config(cfg, progress=lambda _m: None).totals()["rows_read"] == 15
    assert len(_ids(cfg)) == 25 and no_duplicates(cfg) and balanced(cfg)


KILLER = """
import os, signal, sys
import connectors.incremental as inc
from connectors.ingest import ingest_config
from ticket_audit.config import load_config

real, calls = inc._write_cursor, {"n": 0}
def write_then_die(con, source, cursor):
    calls["n"] += 1
    if calls["n"] == int(sys.argv[2]):
        # Killed outright inside the chunk's transaction: rows written, nothing committed.
        os.kill(os.getpid(), signal.SIGKILL)
    return real(con, source, cursor)
inc._write_cursor = write_then_die
ingest_config(load_config(sys.argv[1]), progress=lambda m: None)
"""


@pytest.mark.services
def test_process_killed_mid_transaction_loses_and_duplicates_nothing(tmp_path: Path, pg) -> None:
    cfg = config(tmp_path, source("postgres", pg), batch_rows=10)
    path = tmp_path / "audit.yaml"
    data = {
        "audit": {"duckdb_path": str(cfg.duckdb_path)},
        "ingest": {"batch_rows": 10},
        "sources": [source("postgres", pg)],
    }
    path.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLER), str(path), "3"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    cfg = load_config(path)
    assert len(_ids(cfg)) == 20  # two committed chunks survive; the third never happened
    assert json.loads(cursor(cfg, "helpdesk_db"))["key"] == "T0020"
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals()["rows_read"] == 5
    assert len(_ids(cfg)) == 25 and no_duplicates(cfg) and balanced(cfg)
    assert query(cfg, "SELECT count(*) FROM raw.helpdesk_db") == [(25,)]


def test_prefetch_passes_errors_and_stops_its_producer() -> None:
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    ahead = incremental.prefetch(items(), depth=1)
    assert next(ahead) == 0
    ahead.close()  # the consumer stops early: the producer thread must stop too
    time.sleep(0.3)
    assert len(produced) < 10
    assert not [t for t in threading.enumerate() if t.name == "ticket-audit-prefetch"]

    def broken():
        yield 1
        raise ValueError("source went away")

    with pytest.raises(ValueError, match="source went away"):
        list(incremental.prefetch(broken()))


@pytest.mark.services
def test_profile_counts_every_chunk_of_a_database_source(tmp_path: Path, pg) -> None:
    from reports.profile import compute_profile
    from ticket_audit.store import open_store

    cfg = config(tmp_path, source("postgres", pg), batch_rows=10)  # three chunks of 10, 10, 5
    ingest_config(cfg, progress=lambda _m: None)
    pg.insert(ticket_rows(3, start=26))  # a later run adds three tickets in one more chunk
    ingest_config(cfg, progress=lambda _m: None)
    with open_store(cfg.duckdb_path) as con:
        profile = compute_profile(con)
    assert profile["rows_read"] == profile["rows_loaded"] + profile["rows_quarantined"] == 28
    (origin,) = [o for o in profile["origins"] if o["kind"] == "tickets"]
    assert origin["rows_loaded"] == 28
