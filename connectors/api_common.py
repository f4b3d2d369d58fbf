"""What the helpdesk API sources share: JSON values as text, rows as Arrow, the run loop."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import Any

import duckdb
import pyarrow as pa

from connectors.incremental import Chunk, IncrementalLoader, MessageLayout, prefetch
from connectors.load_report import OriginReport, Progress
from ticket_audit.model import MESSAGE_COLUMNS

# Message rows the API connectors produce already have canonical names and roles.
API_MESSAGES = MessageLayout({c: c for c in MESSAGE_COLUMNS})


def text(value: Any) -> str | None:
    """A JSON value as the text the raw zone keeps (objects and lists as JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def rows_table(rows: list[dict[str, str | None]], columns: Iterable[str] = ()) -> pa.Table:
    """All-text Arrow table; columns in first-seen order, `columns` always present."""
    names = list(dict.fromkeys([*columns, *(k for r in rows for k in r)]))
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


def run_api_source(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source,
    chunks: Iterator[Chunk],
    progress: Progress,
) -> list[OriginReport]:
    loader = IncrementalLoader(
        con,
        cfg,
        source=source.name,
        mapping=source.mapping,
        messages=API_MESSAGES if source.messages else None,
        progress=progress,
    )
    # Fetching the next page (and its conversations) overlaps with loading this one.
    with closing(prefetch(chunks)) as ahead:
        for chunk in ahead:
            loader.load(chunk)
    return loader.reports()
