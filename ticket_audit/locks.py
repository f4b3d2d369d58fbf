"""Inter-process file locks (`filelock`) that say who holds them.

A lock file holds one line naming its holder (pid, host, what it is doing), written when the
lock is taken, so a process that gives up waiting can say whom it waited for. The operating
system releases the lock when its holder dies, so a killed audit never leaves a file locked.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = ["FileLock", "Timeout", "holder", "holder_lock"]


def holder_lock(path: Path, what: str = "") -> FileLock:
    """A lock on `path` that records this process as its holder once taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = f"pid {os.getpid()} on {os.uname().nodename}{', ' + what if what else ''}".encode()

    def record(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, line, 0)

    # preserve_lock_file: waiters keep the same file (and can read its holder line).
    return FileLock(path, on_acquired=record, preserve_lock_file=True)


def holder(path: Path) -> str:
    """Who holds the lock at `path`, as its holder wrote it."""
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"
