"""Output files are written whole or not at all: temporary name, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _file_mode() -> int:
    # mkstemp creates 0600 files; a report is for its readers (TPM, compliance), so give it
    # the mode an ordinary open() would: 0666 less the umask (read once, at import).
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


class OutputError(OSError):
    """The output directory cannot take the report (read-only, full disk, not a directory)."""


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write reports here ({exc.strerror})") from None
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: could not write the file ({exc.strerror})") from None
    return path


@contextmanager
def written_atomically(path: str | Path) -> Iterator[Path]:
    """A temporary path for a writer that writes files itself (DuckDB's COPY): renamed to
    `path` when the block ends without error, removed otherwise."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp, FILE_MODE)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write reports here ({exc.strerror})") from None
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: could not write the file ({exc.strerror})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def is_temporary(path: Path) -> bool:
    """A `write_atomic` temporary: `.<name>.<random>.tmp`."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def remove_stale_temporaries(directory: str | Path) -> list[Path]:
    """Delete temporaries a killed writer left behind (call only while no writer is running).

    A process killed between `mkstemp` and `os.replace` cannot remove its own file; the
    finished report of that name is untouched, the temporary is never read.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for path in directory.rglob(".*.tmp"):
        if path.is_file() and is_temporary(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
