"""The DuckDB store: schemas, canonical DDL derived from the model, and locked access."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ticket_audit.locks import Timeout, holder, holder_lock
from ticket_audit.model import LINEAGE_FIELDS, MESSAGE_FIELDS, TICKET_FIELDS


class StoreBusyError(RuntimeError):
    """Another process holds the audit database for longer than we are willing to wait."""


def _lineage_ddl() -> str:
    return ",\n    ".join(f"{f.name} {f.sql_type}" for f in LINEAGE_FIELDS if f.name != "source")


def tickets_ddl() -> str:
    cols = ",\n    ".join(f"{f.name} {f.sql_type}" for f in TICKET_FIELDS)
    return f"""CREATE TABLE IF NOT EXISTS canonical.tickets (
    source VARCHAR NOT NULL,
    {cols},
    created_month DATE,
    {_lineage_ddl()}
)"""


def messages_ddl() -> str:
    cols = ",\n    ".join(f"{f.name} {f.sql_type}" for f in MESSAGE_FIELDS)
    return f"""CREATE TABLE IF NOT EXISTS canonical.messages (
    source VARCHAR NOT NULL,
    {cols},
    {_lineage_ddl()}
)"""


BASE_DDL = (
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS canonical",
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS raw.quarantine (
    source VARCHAR, origin VARCHAR, row_number BIGINT, field VARCHAR, reason VARCHAR,
    record VARCHAR, load_id VARCHAR, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS audit.load_log (
    load_id VARCHAR, source VARCHAR, origin VARCHAR, kind VARCHAR, fingerprint VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    messages_loaded BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP)""",
    # The raw zone of file sources: which kept copy holds which origin (connectors/raw_zone.py).
    """CREATE TABLE IF NOT EXISTS audit.raw_files (
    source VARCHAR, raw_name VARCHAR, origin VARCHAR, stored_file VARCHAR, select_sql VARCHAR,
    load_id VARCHAR, loaded_at TIMESTAMP)""",
    # Chunked raw zones (database, API sources): the key whose latest row their view shows.
    """CREATE TABLE IF NOT EXISTS audit.raw_latest (raw_name VARCHAR PRIMARY KEY, key_sql VARCHAR)""",
    # Per month, what the last complete audit saw (ticket_audit/month_changes.py).
    """CREATE TABLE IF NOT EXISTS audit.month_fingerprints (
    created_month DATE PRIMARY KEY, fingerprint UBIGINT, settings VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.layer_summaries (
    layer VARCHAR PRIMARY KEY, computed_at TIMESTAMP, summary JSON)""",
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in (*BASE_DDL, tickets_ddl(), messages_ddl()):
        con.execute(stmt)
    # Databases made before a ticket field existed get it (NULL for the rows they hold).
    for f in TICKET_FIELDS:
        con.execute(f"ALTER TABLE canonical.tickets ADD COLUMN IF NOT EXISTS {f.name} {f.sql_type}")


@contextmanager
def _file_lock(lock_path: Path, timeout: float) -> Iterator[None]:
    lock = holder_lock(lock_path)
    try:
        lock.acquire(timeout=timeout, poll_interval=0.1)
    except Timeout:
        raise StoreBusyError(
            f"{lock_path.with_suffix('')}: audit database is in use by {holder(lock_path)}; "
            f"waited {timeout:.0f} s. Two audits must not write the same DuckDB "
            "file at once: wait for the other run or point audit.duckdb_path elsewhere."
        ) from None
    try:
        yield
    finally:
        lock.release()


CATALOG = "ticket_audit"


def connect_attached(path: Path) -> duckdb.DuckDBPyConnection:
    # Attaching under a fixed catalog name keeps table names unambiguous whatever the file is
    # called (a file named audit.duckdb would otherwise shadow the `audit` schema).
    con = duckdb.connect()
    con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {CATALOG}")
    con.execute(f"USE {CATALOG}")
    return con


FULL_COLLECTION_EVERY_S = 15.0
_last_full_collection = float("-inf")


def release_memory() -> None:
    """Give freed memory back to the system.

    Stages free large frames and DuckDB instances one after another; glibc keeps the freed
    heap for reuse, so without this a long audit's resident size is the sum of its stages'
    peaks rather than the largest of them. A full collection walks every object the process
    holds (NER caches, the language model, Dagster's definitions): about a third of a second
    at 1M tickets, and this runs each time a store closes, so a full one runs at most every
    FULL_COLLECTION_EVERY_S seconds and the young generations otherwise.
    """
    global _last_full_collection
    now = time.monotonic()
    if now - _last_full_collection >= FULL_COLLECTION_EVERY_S:
        gc.collect()
        _last_full_collection = time.monotonic()
    else:
        gc.collect(1)
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """Keep what exists now (imported libraries, loaded definitions) out of full collections.

    Those objects live as long as the process, yet a full collection walked all of them
    each time: half a second at every `release_memory` that ran one, most of its cost.
    They are collected once, frozen (`gc.freeze`) for the block, and unfrozen at its end so
    the interpreter's own shutdown still sees them.
    """
    global _last_full_collection
    gc.collect()
    _last_full_collection = time.monotonic()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, **views) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction, with `views` (name: Arrow table) registered for its statements.

    Committed when the block ends, rolled back if it raises; the views are unregistered
    either way, so a connection kept open does not hold on to their data.
    """
    try:
        for name, data in views.items():
            con.register(name, data)
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            # The original error is the one worth reporting, not a failed rollback.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    finally:
        for name in views:
            con.unregister(name)


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc() if os.name == "posix" else None
if _LIBC is not None and not hasattr(_LIBC, "malloc_trim"):  # not glibc
    _LIBC = None


@contextmanager
def open_store(
    path: str | Path, *, timeout: float | None = None, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the audit database exclusively (waits for other holders up to `timeout` s)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if timeout is None:
        timeout = float(os.environ.get("TICKET_AUDIT_LOCK_TIMEOUT", "900"))
    with _file_lock(path.with_name(path.name + ".lock"), timeout):
        con = connect_attached(path)
        try:
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            ensure_schema(con)
            yield con
        finally:
            con.close()
            release_memory()
