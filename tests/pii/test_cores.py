"""When the PII scan may use a second core, and how its helper starts (issue 19, item 7):
idle cores are counted without this process's own work, and a helper is forked (models
already in memory) only from a process where no other thread could hold a lock."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from ticket_audit.pii.cores import CpuMark, idle_between


def _mark(wall: float, own: float, busy: float, cores: int = 2) -> CpuMark:
    return CpuMark(wall=wall, own_cpu=own, busy=busy, cores=cores)


@pytest.mark.parametrize(
    ("own", "busy", "idle"),
    [
        (0.0, 0.0, 2.0),  # nothing ran
        (1.0, 1.0, 2.0),  # only this process worked: its own core counts as free
        (1.0, 2.0, 1.0),  # another process kept one core busy
        (0.0, 2.0, 0.0),  # others kept both busy
        (0.0, 3.0, 0.0),  # counters that overshoot never give a negative count
    ],
)
def test_idle_cores_leave_out_this_process(own: float, busy: float, idle: float) -> None:
    start = _mark(wall=10.0, own=5.0, busy=100.0)
    end = _mark(wall=11.0, own=5.0 + own, busy=100.0 + busy)
    assert idle_between(start, end) == pytest.approx(idle)


# Run in a process of its own: the test runner already has threads (polars', DuckDB's)
# that rule a fork out, and a check that is always False here would prove nothing.
_THREADS = textwrap.dedent(
    """
    import threading
    import time
    import duckdb
    from ticket_audit.pii.cores import fork_is_safe

    print("plain", fork_is_safe())
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    print("python thread", fork_is_safe())
    stop.set()
    worker.join()
    # The system thread ends a moment after `join` returns (until then: unsafe, the careful
    # answer).
    for _ in range(1000):  # up to 10 s: a busy machine may be slow to end the thread
        if fork_is_safe():
            break
        time.sleep(0.01)
    print("thread ended", fork_is_safe())
    con = duckdb.connect()
    con.execute("SET threads = 4")  # native threads, invisible to `threading`
    con.sql("SELECT sum(i) FROM range(100000) t(i)").fetchall()
    print("duckdb threads", fork_is_safe())
    """
)


def test_a_fork_is_safe_only_without_other_threads() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _THREADS], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [
        "plain True",
        "python thread False",
        "thread ended True",
        "duckdb threads False",
    ]


# In a process of its own too, as `ticket-audit scan-pii` runs it.
_FORKED_SCAN = textwrap.dedent(
    """
    import json, sys, time
    from ticket_audit.config.pii import PiiSection
    from ticket_audit.pii.cores import fork_is_safe
    from ticket_audit.pii.scan import Scanner

    texts = json.loads(sys.stdin.read())
    one = Scanner(PiiSection(n_process=1)).scan(texts)
    scanner = Scanner(PiiSection(n_process=2))
    scanner.language.detect(texts[0])  # its model's loading thread has ended
    for _ in range(1000):  # its system thread too (up to 10 s on a busy machine)
        if fork_is_safe():
            break
        time.sleep(0.01)
    assert fork_is_safe(), "a plain process with only BLAS threads may fork"
    two = scanner.scan(texts)
    assert scanner.stats.n_process == 2
    assert scanner._workers._ctx.get_start_method() == "fork"
    scanner.close()
    assert [[tuple(f) for f in fs] for fs in two] == [[tuple(f) for f in fs] for fs in one]
    print(sum(map(len, two)))
    """
)


def test_a_forked_helper_finds_what_one_process_finds() -> None:
    texts = [
        f"Hi, this is Maria Lopez from Leeds, call me on +44 20 7946 {i:04d}. Thanks, Maria"
        for i in range(150)
    ] + [
        f"Bonjour, je suis Camille Martin de Lyon, dossier {i}. Cordialement, Camille Martin"
        for i in range(150)
    ]
    run = subprocess.run(
        [sys.executable, "-c", _FORKED_SCAN],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.strip().splitlines()[-1]) >= 300  # a phone and a name per text
