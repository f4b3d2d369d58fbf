"""A helper killed while it waits for work must not leave the pool's read lock taken: the
pool's finalizer takes that lock, and the audit hung there at 1M (residual scan)."""

from __future__ import annotations

import multiprocessing
import time

from ticket_audit.pii.scan import free_read_lock


def _lock_taken_by_idle_helper(lock, deadline: float) -> bool:
    # An idle helper blocks in the queue's read with the lock held.
    while time.monotonic() < deadline:
        if not lock.acquire(block=False):
            return True
        lock.release()
        time.sleep(0.05)
    return False


def test_a_killed_idle_helper_does_not_leave_the_read_lock_taken() -> None:
    pool = multiprocessing.get_context("spawn").Pool(1)
    lock = pool._inqueue._rlock
    assert _lock_taken_by_idle_helper(lock, time.monotonic() + 60)
    for process in pool._pool:
        process.kill()
        process.join()
    free_read_lock(pool)
    # Without the release this waits forever (the finalizer's `_help_stuff_finish`).
    assert lock.acquire(timeout=30)
    lock.release()
    pool.terminate()


def test_freeing_a_lock_nobody_holds_leaves_it_free() -> None:
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        pool.close()
        pool.join()
        free_read_lock(pool)
        lock = pool._inqueue._rlock
        assert lock.acquire(block=False)
        lock.release()
    finally:
        pool.terminate()
