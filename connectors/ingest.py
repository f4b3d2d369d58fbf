"""Loads the configured sources: the registry of source kinds and `ingest_config`.

A loader is `loader(con, cfg, source, progress, force) -> list[OriginReport]`; `force`
ignores the stored fingerprint or cursor and reads the source from its beginning (rows are
replaced or upserted, so nothing duplicates). Each loader commits through
`connectors.load_transaction`. Loaders of databases and helpdesk APIs are imported when a
source of their kind is loaded: a file-only audit never loads database drivers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import duckdb

from connectors import raw_zone
from connectors.errors import IngestError, values_withheld
from connectors.file_loader import ingest_file_source
from connectors.load_report import IngestReport, OriginReport, Progress
from ticket_audit.config import AuditConfig
from ticket_audit.store import open_store

log = logging.getLogger(__name__)

Loader = Callable[[duckdb.DuckDBPyConnection, AuditConfig, object, Progress, bool], list]


def _postgres() -> Loader:
    from connectors.sql.postgres import ingest

    return ingest


def _mysql() -> Loader:
    from connectors.sql.mysql import ingest

    return ingest


def _zendesk() -> Loader:
    from connectors.zendesk.source import ingest

    return ingest


def _freshdesk() -> Loader:
    from connectors.freshdesk.source import ingest

    return ingest


# Source kind -> its loader (imported on first use).
_LOADERS: dict[str, Callable[[], Loader]] = {
    "file": lambda: ingest_file_source,
    "postgres": _postgres,
    "mysql": _mysql,
    "zendesk": _zendesk,
    "freshdesk": _freshdesk,
}


def kinds() -> list[str]:
    return list(_LOADERS)


def loader_for(kind: str) -> Loader:
    get = _LOADERS.get(kind)
    if get is None:
        raise IngestError(f"no loader for source kind {kind!r}; known kinds: {kinds()}")
    return get()


def ingest_config(
    cfg: AuditConfig,
    progress: Progress = log.info,
    force: bool = False,
    sources: list[str] | None = None,
) -> IngestReport:
    """Load every configured source (or the named ones) into the audit database."""
    reports: list[OriginReport] = []
    with open_store(cfg.duckdb_path) as con:
        # Bounded so a large export spills to disk instead of growing the process.
        con.execute(f"SET memory_limit = '{cfg.ingest.memory_limit}'")
        # Copies left by a load that did not commit, or replaced by a newer load, go.
        raw_zone.prune(con)
        # A chunked source commits every chunk; past DuckDB's 16 MB default each commit would
        # also checkpoint the whole file. The WAL keeps every commit durable; one checkpoint
        # at the end writes them together.
        con.execute("SET checkpoint_threshold = '1GB'")
        for source in cfg.sources:
            if sources is not None and source.name not in sources:
                continue
            loader = loader_for(source.kind)
            if source.kind == "file":  # names the file (and messages file) itself
                reports += loader(con, cfg, source, progress, force)
                continue
            with values_withheld(f"source {source.name!r}"):
                reports += loader(con, cfg, source, progress, force)
        con.execute("CHECKPOINT")
        raw_zone.prune(con)
    return IngestReport(reports)


__all__ = ["IngestReport", "OriginReport", "ingest_config", "kinds", "loader_for"]
