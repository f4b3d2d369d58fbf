"""Chunked, resumable reads of a table or query, shared by PostgreSQL and MySQL/MariaDB.

Rows are read by keyset pagination: each chunk is one query

    SELECT src.*, <cursor and key as text> FROM <table or (query)> AS src
    WHERE (cursor, key) > (<last committed cursor>, <last committed key>)
    ORDER BY cursor, key LIMIT <ingest.batch_rows>

so memory is bounded by the chunk size whatever the table size, no transaction stays open
on the source between chunks, and the position after every chunk is a plain pair of values
that is committed with the chunk (connectors.incremental). With an index on
(cursor_column, key_column) every chunk is an index range scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import IngestError
from connectors.incremental import (
    DELETED,
    Chunk,
    IncrementalLoader,
    MessageLayout,
    commit_cursor,
    mark_deleted_except,
    prefetch,
    read_cursor,
)
from connectors.load_report import OriginReport, Progress
from ticket_audit.config.sources import MySqlSource, PostgresSource

SqlSource = PostgresSource | MySqlSource

CURSOR_COL = "_ta_cursor"
KEY_COL = "_ta_key"
DELETED_COL = "_ta_deleted"
# Ids per messages query: long IN lists are fine for both servers, unbounded ones are not.
MESSAGE_ID_GROUP = 10_000


class SqlDriver(Protocol):
    """What the chunked reader needs from a database driver."""

    where: str  # "postgres 127.0.0.1:5432/test": names the server, never a secret

    def quote(self, identifier: str) -> str: ...

    def literal(self, value: str) -> str: ...

    def as_text(self, expr: str) -> str: ...

    def order_by(self, cursor: str | None, key: str) -> str: ...

    def columns(self, sql: str) -> list[str]: ...

    def fetch(self, sql: str) -> pa.Table: ...

    def stream(self, sql: str) -> pa.RecordBatchReader: ...

    def close(self) -> None: ...


@dataclass
class Position:
    """Where the next chunk starts: after (cursor, key); None before the first row."""

    cursor: str | None = None
    key: str | None = None
    started: bool = False
    complete: bool = False

    def as_dict(self, source: SqlSource) -> dict[str, Any]:
        return {
            "cursor_column": source.cursor_column,
            "key_column": source.key(),
            "cursor": self.cursor,
            "key": self.key,
            "started": self.started,
            "complete": self.complete,
        }

    @classmethod
    def restore(cls, stored: dict[str, Any] | None, source: SqlSource) -> Position:
        if not stored:
            return cls()
        # A cursor on other columns than configured now says nothing about this read.
        if (
            stored.get("cursor_column") != source.cursor_column
            or stored.get("key_column") != source.key()
        ):
            return cls()
        pos = cls(stored.get("cursor"), stored.get("key"), bool(stored.get("started")))
        # Without a cursor column every run reads everything; an interrupted one resumes.
        if source.cursor_column is None and stored.get("complete"):
            return cls()
        return pos


def relation(source: SqlSource, driver: SqlDriver) -> str:
    if source.table is not None:
        return ".".join(driver.quote(p) for p in source.table.split("."))
    return f"({source.query.strip().rstrip(';')})"


def messages_relation(source: SqlSource, driver: SqlDriver) -> str:
    m = source.messages
    assert m is not None
    if m.table is not None:
        return ".".join(driver.quote(p) for p in m.table.split("."))
    return f"({m.query.strip().rstrip(';')})"


def origin_of(source: SqlSource, driver: SqlDriver) -> str:
    return f"{driver.where}/{source.table}" if source.table else f"{driver.where} (query)"


def chunk_query(source: SqlSource, driver: SqlDriver, pos: Position, limit: int | None) -> str:
    key = f"src.{driver.quote(source.key())}"
    extra = [f"{driver.as_text(key)} AS {KEY_COL}"]
    where = ""
    cursor = None
    if source.cursor_column is not None:
        cursor = f"src.{driver.quote(source.cursor_column)}"
        extra.append(f"{driver.as_text(cursor)} AS {CURSOR_COL}")
    if source.deleted_condition:
        extra.append(f"CASE WHEN ({source.deleted_condition}) THEN 'true' END AS {DELETED_COL}")
    if pos.started:
        k = driver.literal(pos.key or "")
        if cursor is None:
            where = f"WHERE {key} > {k}"
        elif pos.cursor is None:
            # Rows without a cursor value sort first; after them come all the others.
            where = f"WHERE ({cursor} IS NULL AND {key} > {k}) OR {cursor} IS NOT NULL"
        else:
            c = driver.literal(pos.cursor)
            where = f"WHERE {cursor} > {c} OR ({cursor} = {c} AND {key} > {k})"
    sql = (
        f"SELECT src.*, {', '.join(extra)} FROM {relation(source, driver)} AS src {where} "
        f"ORDER BY {driver.order_by(cursor, key)}"
    )
    return sql + (f" LIMIT {int(limit)}" if limit else "")


def check_columns(source: SqlSource, driver: SqlDriver, label: str) -> list[str]:
    """Fail early, naming the columns, when the table no longer has what the config maps."""
    present = driver.columns(f"SELECT * FROM {relation(source, driver)} AS src LIMIT 0")
    wanted = list(source.mapping.source_columns())
    wanted += [c for c in (source.key(), source.cursor_column) if c and c not in wanted]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise IngestError(
            f"{label}, {origin_of(source, driver)}: configured column(s) {missing} not in the "
            f"source (renamed or dropped?); columns present: {present}"
        )
    if source.messages is not None:
        m = source.messages
        have = driver.columns(f"SELECT * FROM {messages_relation(source, driver)} AS m LIMIT 0")
        gone = [c for c in dict.fromkeys(m.fields.values()) if c not in have]
        if gone:
            raise IngestError(
                f"{label}, messages {m.table or '(query)'}: mapped column(s) {gone} not in the "
                f"source (renamed or dropped?); columns present: {have}"
            )
    return present


def _null_keys(source: SqlSource, driver: SqlDriver) -> bool:
    key = driver.quote(source.key())
    sql = f"SELECT 1 AS x FROM {relation(source, driver)} AS src WHERE src.{key} IS NULL LIMIT 1"
    return driver.fetch(sql).num_rows > 0


def _ticket_ids(table: pa.Table, columns: list[str]) -> list[str]:
    values = None
    for c in columns:
        col = pc.utf8_trim_whitespace(pc.cast(table.column(c), pa.string()))
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        values = col if values is None else pc.coalesce(values, col)
    assert values is not None
    return [v for v in values.to_pylist() if v is not None]


def _messages_for(source: SqlSource, driver: SqlDriver, ids: list[str]) -> pa.Table | None:
    m = source.messages
    assert m is not None
    rel = messages_relation(source, driver)
    col = f"m.{driver.quote(m.fields['ticket_id'])}"
    parts = []
    for i in range(0, len(ids), MESSAGE_ID_GROUP):
        group = ", ".join(driver.literal(v) for v in ids[i : i + MESSAGE_ID_GROUP])
        parts.append(driver.fetch(f"SELECT m.* FROM {rel} AS m WHERE {col} IN ({group})"))
    if not parts:
        return None
    return pa.concat_tables(parts, promote_options="permissive")


def read_chunks(
    source: SqlSource, connect, start: Position, batch_rows: int, label: str
) -> Iterator[Chunk]:
    """Chunks of the source from `start`, each with the position just past it."""
    driver: SqlDriver = connect()
    try:
        check_columns(source, driver, label)
        if _null_keys(source, driver):
            raise IngestError(
                f"{label}: key column {source.key()!r} has NULL values; chunked reading needs "
                "a unique, non-null key (set `key_column`)"
            )
        origin = origin_of(source, driver)
        msg_origin = None
        if source.messages is not None:
            msg_origin = f"{driver.where}/{source.messages.table or '(messages query)'}"
        pos = start
        id_columns = source.mapping.columns_for("ticket_id")
        while True:
            table = driver.fetch(chunk_query(source, driver, pos, batch_rows))
            if table.num_rows == 0:
                return
            last = table.slice(table.num_rows - 1).to_pylist()[0]
            if last[KEY_COL] is None:
                raise IngestError(
                    f"{label}: key column {source.key()!r} has NULL values; chunked reading "
                    "needs a unique, non-null key (set `key_column`)"
                )
            pos = Position(
                last.get(CURSOR_COL) if source.cursor_column else None, last[KEY_COL], True
            )
            tickets = table.drop_columns(
                [c for c in (CURSOR_COL, KEY_COL) if c in table.column_names]
            )
            if DELETED_COL in tickets.column_names:
                idx = tickets.column_names.index(DELETED_COL)
                tickets = tickets.rename_columns(
                    [DELETED if i == idx else n for i, n in enumerate(tickets.column_names)]
                )
            messages = None
            if source.messages is not None:
                # The database's own text of the key is the safest literal to send back.
                if id_columns == [source.key()]:
                    ids = [k.strip() for k in table.column(KEY_COL).to_pylist() if k and k.strip()]
                else:
                    ids = _ticket_ids(tickets, id_columns)
                messages = _messages_for(source, driver, ids)
                if messages is None:
                    messages = pa.table(
                        {
                            f: pa.array([], pa.string())
                            for f in dict.fromkeys(source.messages.fields.values())
                        }
                    )
            yield Chunk(
                tickets,
                pos.as_dict(source),
                origin,
                messages=messages,
                messages_origin=msg_origin,
            )
            if table.num_rows < batch_rows:
                return
    finally:
        driver.close()


def ingest_sql_source(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source: SqlSource,
    connect,
    progress: Progress,
    force: bool = False,
) -> list[OriginReport]:
    """Load one database source incrementally; returns the run's totals per kind."""
    label = f"source {source.name!r}"
    stored = None if force else read_cursor(con, source.name)
    start = Position.restore(stored, source)
    if start.started:
        progress(f"{label}: resuming after {source.cursor_column or 'key'} position")
    else:
        progress(f"{label}: reading from the beginning")
    messages = None
    if source.messages is not None:
        messages = MessageLayout(
            source.messages.fields, source.messages.role_map, source.messages.value_maps
        )
    loader = IncrementalLoader(
        con, cfg, source=source.name, mapping=source.mapping, messages=messages, progress=progress
    )
    last = start
    reader = read_chunks(source, connect, start, cfg.ingest.batch_rows, label)
    with closing(prefetch(reader)) as ahead:
        for chunk in ahead:
            loader.load(chunk)
            last = Position(chunk.cursor["cursor"], chunk.cursor["key"], True)
    last.complete = True
    commit_cursor(con, source.name, last.as_dict(source))
    if source.detect_hard_deletes:
        # Read after the chunks: a ticket inserted meanwhile is in the scan, never marked.
        driver: SqlDriver = connect()
        try:
            key = "src." + driver.quote(source.key())
            ids = driver.stream(
                f"SELECT {driver.as_text(key)} AS id FROM {relation(source, driver)} AS src"
            )
            marked = mark_deleted_except(con, source.name, ids)
        finally:
            driver.close()
        progress(f"{label}: {marked:,} tickets no longer in the source marked deleted")
    return loader.reports()
