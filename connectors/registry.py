"""Which loader handles which source kind (connectors.ingest dispatches non-file kinds here).

A loader is `loader(con, cfg, source, progress, force) -> list[OriginReport]`; `force`
ignores the stored cursor and reads the source from its beginning (rows are upserted, so
nothing duplicates). Imports are lazy: a file-only audit never loads database drivers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from connectors.errors import IngestError

_LOADERS = {
    "postgres": "connectors.sql.postgres",
    "mysql": "connectors.sql.mysql",
    "zendesk": "connectors.zendesk.source",
    "freshdesk": "connectors.freshdesk.source",
}


def kinds() -> list[str]:
    return ["file", *_LOADERS]


def loader_for(kind: str) -> Callable:
    module = _LOADERS.get(kind)
    if module is None:
        raise IngestError(f"no loader for source kind {kind!r}; known kinds: {kinds()}")
    return importlib.import_module(module).ingest
