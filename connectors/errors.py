"""Errors a source raises; each message names the source and the file, field or row."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


class IngestError(ValueError):
    """The source cannot be loaded as configured (missing column, empty file, ...)."""


class SourceUnavailableError(IngestError):
    """The source could not be reached (server down, wrong credentials, file missing)."""


class LoadFailed(RuntimeError):
    """A load failed inside DuckDB; its own message is withheld (it may quote a cell value)."""


@contextmanager
def values_withheld(where: str) -> Iterator[None]:
    """DuckDB names the value it failed on ('Could not convert string "jane@example.com"'),
    and an exception leaves the raw zone: it reaches stderr, the Dagster run database and the
    compute logs. Only the error's class goes on, with the source and origin."""
    try:
        yield
    except duckdb.IOException:
        raise  # names a file (a full disk, a missing copy), never a cell
    except duckdb.Error as exc:
        if "No space left on device" in str(exc):
            # A full disk can surface as a failed commit; say so (the runner names the
            # volume and exits 2), still without DuckDB's text.
            raise LoadFailed(
                f"{where}: No space left on device while DuckDB wrote the load "
                f"({type(exc).__name__}); nothing of this origin was committed"
            ) from None
        raise LoadFailed(
            f"{where}: the load failed in DuckDB ({type(exc).__name__}; its message is withheld "
            "because it may quote a cell value); nothing of this origin was committed"
        ) from None
