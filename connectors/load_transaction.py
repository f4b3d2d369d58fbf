"""The load transaction: the one place a load commits, checks that every row read was
loaded or quarantined, records itself in `audit.load_log`, or rolls back.

Every loader (files, and the chunked database and API loads) runs its writes inside
`load_transaction` and ends them with `record_load`: a load that would lose a row raises
there, inside the transaction, so nothing of it is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from connectors.errors import IngestError
from ticket_audit.store import transaction


def load_time() -> datetime:
    """The load clock: UTC, naive (as DuckDB's TIMESTAMP columns hold it)."""
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def load_transaction(
    con: duckdb.DuckDBPyConnection, on_rollback: Callable[[], None] | None = None
) -> Iterator[None]:
    """The store's transaction (`ticket_audit.store.transaction`: COMMIT when the block
    ends, ROLLBACK when it raises), then `on_rollback` after a rollback."""
    try:
        with transaction(con):
            yield
    except BaseException:
        if on_rollback is not None:
            on_rollback()
        raise


@dataclass
class Load:
    """One load of one origin, as `audit.load_log` records it."""

    load_id: str
    source: str
    origin: str
    kind: str  # tickets | messages
    fingerprint: str | None  # of the file, or "cursor:..." for a chunk
    started: datetime
    label: str  # how messages name the source ("source 'x'")


def check_rows(load: Load, read: int, loaded: int, quarantined: int) -> None:
    """Rows read = rows loaded + rows quarantined, or the load is refused."""
    if read != loaded + quarantined:
        what = "messages" if load.kind == "messages" else "rows"
        raise IngestError(
            f"{load.label}, {load.origin}: {read} {what} read but {loaded} loaded "
            f"+ {quarantined} quarantined; refusing to commit a load that loses rows"
        )


def record_load(
    con: duckdb.DuckDBPyConnection,
    load: Load,
    read: int,
    loaded: int,
    quarantined: int,
    messages: int,
) -> None:
    """Check the counts and write the load's `audit.load_log` row (inside the transaction)."""
    check_rows(load, read, loaded, quarantined)
    con.execute(
        "INSERT INTO audit.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load.load_id,
            load.source,
            load.origin,
            load.kind,
            load.fingerprint,
            read,
            loaded,
            quarantined,
            messages,
            load.started,
            load_time(),
        ],
    )
