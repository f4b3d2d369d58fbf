"""Whether a second core is worth using for the PII scan, and how a helper may start.

A helper process costs nothing but an idle core if it is forked from a scanner that has its
models loaded (copy-on-write memory, ready at once), and about a second of a core if it is
spawned (a new interpreter imports spaCy and reads the model again). Forking is only safe
where no other thread runs: a thread holding a lock at the moment of the fork (Dagster's,
DuckDB's) leaves the child waiting on it forever (seen in a 1M-ticket audit before helpers
were spawned). `fork_is_safe` says when that cannot happen.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass

# The shortest stretch over which the cores' use is measured: /proc/stat counts in ticks of
# 10 ms, so shorter samples round a half-busy core to idle or busy.
MIN_SAMPLE_S = 0.1
# The longest: an average over minutes says little about the cores now.
MAX_SAMPLE_S = 10.0


@dataclass(frozen=True)
class CpuMark:
    """The machine's and this process's CPU counters at one moment."""

    wall: float
    own_cpu: float  # this process's CPU seconds, every thread
    busy: float  # seconds of every core of the machine spent working
    cores: int

    @classmethod
    def now(cls) -> CpuMark | None:
        """None where /proc/stat cannot be read (not Linux)."""
        try:
            with open("/proc/stat") as fh:
                values = [int(v) for v in fh.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        idle = values[3] + values[4]  # idle + iowait
        # The first line of /proc/stat sums every core of the machine.
        return cls(
            wall=time.perf_counter(),
            own_cpu=time.process_time(),
            busy=(sum(values) - idle) / tick,
            cores=os.cpu_count() or 1,
        )


def idle_between(start: CpuMark, end: CpuMark) -> float:
    """Cores that other processes left idle from `start` to `end`: this process's own work
    is not counted as busy (it is the work a helper would share)."""
    wall = max(end.wall - start.wall, 1e-9)
    others = (end.busy - start.busy) - (end.own_cpu - start.own_cpu)
    return min(max(end.cores - others / wall, 0.0), float(end.cores))


def idle_cpus(since: CpuMark | None = None) -> float:
    """Cores idle apart from this process, measured from `since` (a recent moment: no
    waiting) or, when that is missing, too recent or too old, over MIN_SAMPLE_S from now.

    Not the load average: it trails by a minute and counts this scan's own helpers of the
    previous batch, which made every other month of a backfill run on one core.
    """
    if since is None or not MIN_SAMPLE_S <= time.perf_counter() - since.wall <= MAX_SAMPLE_S:
        since = CpuMark.now()
        time.sleep(MIN_SAMPLE_S)
    end = CpuMark.now()
    if since is None or end is None:
        return (os.cpu_count() or 1) - os.getloadavg()[0]
    return idle_between(since, end)


def _blas_worker_threads() -> int:
    """Threads the BLAS libraries keep besides the caller (OpenBLAS: its pool, stopped
    around a fork by its own pthread_atfork handler)."""
    from threadpoolctl import threadpool_info

    return sum(
        max(int(info.get("num_threads") or 1) - 1, 0)
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    )


def fork_is_safe() -> bool:
    """True when this process runs no thread but the calling one and BLAS's workers, so a
    forked child cannot inherit a lock that another thread held."""
    if "fork" not in mp.get_all_start_methods() or threading.active_count() != 1:
        return False
    try:
        threads = len(os.listdir("/proc/self/task"))  # native threads too (DuckDB's)
    except OSError:
        return False
    return threads <= 1 + _blas_worker_threads()
