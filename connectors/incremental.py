"""Incremental loading shared by the database and helpdesk API sources.

A connector yields `Chunk`s: a block of source rows as an Arrow table (any column types;
staging turns them into text, as the file sources keep theirs), optionally the conversation
of those tickets, and the cursor that points just past the block. Each chunk is loaded in ONE
DuckDB transaction together with its cursor in `audit.source_cursors`: after a crash either
the chunk and its cursor are both there or neither is, so the next run resumes from the last
committed cursor. Rows are upserted by (source, ticket_id), so a chunk read twice (a resume,
an overlapping cursor, a forced full reload) never duplicates anything.

The mapping is the same as for files (`connectors.mapping`), and so are the quarantine and the
invariant: for every chunk, rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from connectors import raw_zone
from connectors.errors import IngestError
from connectors.load_report import OriginReport, Progress
from connectors.load_sql import ensure_raw_table, filter_pushdown_off, lineage_sql, not_loaded_sql
from connectors.load_transaction import Load, load_time, load_transaction, record_load
from connectors.mapping import lit, message_select, q, ticket_select
from ticket_audit.config.mapping import Mapping
from ticket_audit.config.sources import INCREMENTAL_KINDS
from ticket_audit.model import MESSAGE_COLUMNS, TICKET_COLUMNS
from ticket_audit.secrets import hash_key

CURSORS_DDL = """CREATE TABLE IF NOT EXISTS audit.source_cursors (
    source VARCHAR PRIMARY KEY, cursor VARCHAR, updated_at TIMESTAMP)"""

# Optional chunk column: a true value marks the ticket deleted in the source.
DELETED = "_deleted"
# Native timestamp columns are staged in this form (UTC), whatever formats the mapping lists.
STAGED_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")
_TRUE = "('true', 't', '1', 'yes', 'y')"

T = TypeVar("T")


@dataclass
class Chunk:
    """Source rows plus the cursor that covers them; committed together or not at all."""

    tickets: pa.Table
    cursor: dict[str, Any]
    origin: str
    messages: pa.Table | None = None
    messages_origin: str | None = None


@dataclass
class MessageLayout:
    """How a chunk's message table maps onto canonical.messages."""

    fields: dict[str, str]
    role_map: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    # Every result is fetched to the end: DuckDB refuses further work (register, ...) on a
    # connection with an unfinished result.
    return con.execute(sql, params or []).fetchall()


def ensure_cursor_table(con: duckdb.DuckDBPyConnection) -> None:
    _run(con, CURSORS_DDL)


def read_cursor(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, Any] | None:
    ensure_cursor_table(con)
    rows = _run(con, "SELECT cursor FROM audit.source_cursors WHERE source = ?", [source])
    row = rows[0] if rows else None
    return json.loads(row[0]) if row and row[0] else None


def _write_cursor(con: duckdb.DuckDBPyConnection, source: str, cursor: dict[str, Any]) -> None:
    _run(
        con,
        """INSERT INTO audit.source_cursors VALUES (?, ?, ?)
        ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,
                                           updated_at = excluded.updated_at""",
        [source, json.dumps(cursor, sort_keys=True, default=str), load_time()],
    )


def commit_cursor(con: duckdb.DuckDBPyConnection, source: str, cursor: dict[str, Any]) -> None:
    """Store a cursor on its own (end of a run that read nothing new, a completed scan)."""
    ensure_cursor_table(con)
    with load_transaction(con):
        _write_cursor(con, source, cursor)


def _text_expr(name: str, typ: pa.DataType) -> str:
    col = q(name)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return col
    if pa.types.is_timestamp(typ):
        # UTC, microseconds: the form STAGED_TIMESTAMP_FORMATS parse, whatever the zone of
        # the DuckDB session (a zoned value cast to text would carry the session's offset).
        if typ.tz is not None:
            return f"CAST(timezone('UTC', {col}) AS VARCHAR)"
        return f"CAST(CAST({col} AS TIMESTAMP) AS VARCHAR)"
    if (
        pa.types.is_list(typ)
        or pa.types.is_large_list(typ)
        or pa.types.is_fixed_size_list(typ)
        or pa.types.is_struct(typ)
        or pa.types.is_map(typ)
    ):
        return f"to_json({col})::VARCHAR"
    return f"CAST({col} AS VARCHAR)"


def text_projection(schema: pa.Schema, skip: Iterable[str] = ()) -> tuple[list[str], str]:
    """(column names, SQL select list) turning every column of `schema` into text."""
    skipped = set(skip)
    names = [f.name for f in schema if f.name not in skipped]
    exprs = [f"{_text_expr(f.name, f.type)} AS {q(f.name)}" for f in schema if f.name in names]
    return names, ", ".join(exprs)


def _id_expr(columns: list[str], json_record: bool = False) -> str:
    if json_record:
        parts = [
            f"NULLIF(trim(json_extract_string(record, {lit('$.' + json.dumps(c))})), '')"
            for c in columns
        ]
    else:
        parts = [f"NULLIF(trim(CAST({q(c)} AS VARCHAR)), '')" for c in columns]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _with_row_numbers(table: pa.Table, first: int) -> pa.Table:
    numbers = pa.array(range(first, first + table.num_rows), pa.int64())
    if "_row_number" in table.column_names:
        table = table.drop_columns(["_row_number"])
    return table.append_column("_row_number", numbers)


class _Background:
    """Runs one call on a thread; `result()` waits for it and re-raises its error."""

    def __init__(self, fn, *args: Any) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # handed to result()
                self._error = exc

        self._thread = threading.Thread(target=run, name="ticket-audit-raw-copy", daemon=True)
        self._thread.start()

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def wait(self) -> None:
        """Wait without raising: the caller is already failing with a better error."""
        self._thread.join()


class IncrementalLoader:
    """Loads the chunks of one source run; collects per-run totals for the ingest report."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        cfg,
        *,
        source: str,
        mapping: Mapping,
        messages: MessageLayout | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.con = con
        self.cfg = cfg
        self.source = source
        self.label = f"source {source!r}"
        formats = list(mapping.timestamp_formats)
        formats += [f for f in STAGED_TIMESTAMP_FORMATS if f not in formats]
        self.mapping = mapping.model_copy(update={"timestamp_formats": formats})
        self.messages = messages
        self.progress = progress or (lambda _m: None)
        self.key_sql = lit(hash_key(cfg.audit.hash_key_env) + ":")
        self.max_text_bytes = cfg.ingest.max_text_bytes
        self.id_columns = self.mapping.columns_for("ticket_id")
        self.tickets_read = 0
        self.messages_read = 0
        self.totals: dict[str, dict[str, int]] = {}
        self.origins: dict[str, str] = {}
        self.chunks = 0
        ensure_cursor_table(con)
        # A source with nothing loaded yet has no earlier versions to replace, until its
        # first chunk commits.
        self.has_rows = bool(
            _run(
                con,
                "SELECT EXISTS (SELECT 1 FROM canonical.tickets WHERE source = ?) OR EXISTS "
                "(SELECT 1 FROM raw.quarantine WHERE source = ?)",
                [source, source],
            )[0][0]
        )
        # Loading runs unattended (Dagster, the CLI): DuckDB's terminal progress bar is noise.
        _run(con, "SET enable_progress_bar = false")

    # -- one chunk, one transaction -------------------------------------------------------

    def load(self, chunk: Chunk) -> None:
        con = self.con
        if chunk.tickets.num_rows == 0:
            # Nothing new (an empty export page): the source's cursor still moves on.
            commit_cursor(con, self.source, chunk.cursor)
            return
        load_id, now = uuid.uuid4().hex[:12], load_time()
        cursor = "cursor:" + json.dumps(chunk.cursor, sort_keys=True, default=str)
        load = Load(load_id, self.source, chunk.origin, "tickets", cursor, now, self.label)
        try:
            with load_transaction(con):
                read, loaded, quarantined = self._tickets(chunk, load_id, now)
                msgs = (0, 0, 0)
                if chunk.messages is not None and self.messages is not None:
                    msgs = self._messages(chunk, load_id, now)
                record_load(con, load, read, loaded, quarantined, msgs[1])
                _write_cursor(con, self.source, chunk.cursor)
        finally:
            for view in ("inc_chunk_tickets", "inc_chunk_messages"):
                with contextlib.suppress(duckdb.Error):
                    con.unregister(view)
        self.chunks += 1
        self._add("tickets", chunk.origin, read, loaded, quarantined)
        if chunk.messages is not None and self.messages is not None:
            self._add("messages", chunk.messages_origin or chunk.origin, *msgs)
        self.progress(
            f"{self.label}: chunk {self.chunks}: {read:,} rows read, {loaded:,} loaded, "
            f"{quarantined:,} quarantined"
            + (f", {msgs[1]:,} messages" if chunk.messages is not None else "")
            + "; cursor committed"
        )

    def _add(self, kind: str, origin: str, read: int, loaded: int, quarantined: int) -> None:
        t = self.totals.setdefault(kind, {"read": 0, "loaded": 0, "quarantined": 0})
        t["read"] += read
        t["loaded"] += loaded
        t["quarantined"] += quarantined
        self.origins[kind] = origin

    def reports(self) -> list[OriginReport]:
        return [
            OriginReport(
                self.source, self.origins[kind], kind, t["read"], t["loaded"], t["quarantined"]
            )
            for kind, t in self.totals.items()
        ]

    def _stage(
        self, view: str, table: pa.Table, target: str, skip: Iterable[str] = ()
    ) -> list[str]:
        self.con.register(view, table)
        names, projection = text_projection(table.schema, skip=("_row_number", *skip))
        # Copied once into DuckDB's own format: every later statement reads it (raw insert,
        # mapping, duplicate ids, deletes), and scanning Arrow each time measured slower.
        _run(
            self.con,
            f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT _row_number"
            f"{', ' + projection if projection else ''} FROM {view}",
        )
        return names

    def _tickets(self, chunk: Chunk, load_id: str, now: datetime) -> tuple[int, int, int]:
        """The chunk's tickets: kept as read in the raw zone, mapped into canonical, the rows
        that did not map quarantined. Returns (read, loaded, quarantined)."""
        con, src = self.con, self.source
        table = _with_row_numbers(chunk.tickets, self.tickets_read + 1)
        self.tickets_read += table.num_rows
        view = "inc_chunk_tickets"
        con.register(view, table)
        types = self._mapped_types(view, chunk.origin)
        ids = _id_expr(self.id_columns)
        _, text = text_projection(table.schema, skip=("_row_number", DELETED))
        stored = raw_zone.chunk_path(con, src, load_id)
        writer = self._keep_raw(table, view, text, stored)
        try:
            flagged = DELETED in table.column_names
            deleted_flag = (
                f"coalesce(lower(CAST({q(DELETED)} AS VARCHAR)) IN {_TRUE}, false)"
                if flagged
                else "false"
            )
            if self.has_rows:
                self._replace_earlier_versions(view, ids, deleted_flag, chunk.origin)
            select_args = dict(
                hash_key_sql=self.key_sql,
                max_text_bytes=self.max_text_bytes,
                table=view,
                types=types,
            )
            loaded = self._map_tickets(
                chunk.origin, load_id, now, select_args, flagged, deleted_flag
            )
            if self.has_rows and flagged:
                self._keep_status_of_deleted(load_id)
            quarantined = self._quarantine_tickets(
                view, text, chunk.origin, load_id, now, select_args
            )
            if chunk.messages is not None and self.messages is not None:
                self._mapped_ids(view, ids, deleted_flag, load_id)
        except BaseException:
            if writer is not None:
                writer.wait()
            raise
        if writer is not None:
            writer.result()
        raw_zone.register_chunk(
            con,
            source=src,
            raw_name=src,
            origin=chunk.origin,
            stored=stored,
            key_sql=ids,
            load_id=load_id,
            loaded_at=now,
        )
        # The counts are what the inserts report, so the check (record_load, in `load`) costs
        # no scan of the growing tables; a row the mapping neither loads nor quarantines
        # still fails it.
        read = table.num_rows
        self.has_rows = True
        return read, loaded, quarantined

    def _mapped_types(self, view: str, origin: str) -> dict[str, str]:
        """The chunk's column types; every mapped column must be there (schema drift stops
        the load before anything is written)."""
        types = {
            name: typ
            for name, typ, *_ in _run(self.con, f"DESCRIBE SELECT * FROM {view}")
            if name not in ("_row_number", DELETED)
        }
        columns = list(types)
        missing = [c for c in self.mapping.source_columns() if c not in columns]
        if missing:
            raise IngestError(
                f"{self.label}, {origin}: mapped column(s) {missing} not in the source "
                f"(renamed or dropped?); columns present: {columns}"
            )
        return types

    def _keep_raw(self, table: pa.Table, view: str, text: str, stored) -> _Background | None:
        """The raw zone keeps every row as read, one Parquet file per chunk; its view shows
        each ticket's latest version. A flat chunk is written by a thread while DuckDB maps
        it (both release the GIL): the writer is returned, to be waited for."""
        if raw_zone.is_flat(table.schema):
            rows = table.drop_columns([DELETED]) if DELETED in table.column_names else table
            return _Background(raw_zone.write_chunk, rows, stored)
        raw_zone.copy_chunk(
            self.con, f"SELECT _row_number{', ' + text if text else ''} FROM {view}", stored
        )
        return None

    def _map_tickets(
        self,
        origin: str,
        load_id: str,
        now: datetime,
        select_args: dict,
        flagged: bool,
        deleted_flag: str,
    ) -> int:
        """Tickets mapped straight from the chunk into canonical (each value parsed once and
        written once); returns how many loaded."""
        select = ticket_select(
            self.mapping,
            **select_args,
            carry=f"{deleted_flag} AS {DELETED}" if flagged else "",
        )
        cols = ", ".join(TICKET_COLUMNS)
        deleted_at = "deleted_at"
        if flagged:
            deleted_at = f"CASE WHEN {DELETED} THEN coalesce(deleted_at, updated_at, ?) END"
        values = ", ".join(deleted_at if c == "deleted_at" else c for c in TICKET_COLUMNS)
        params: list = [self.source] + ([now] if flagged else []) + [origin, load_id, now]
        with filter_pushdown_off(self.con):
            return _run(
                self.con,
                f"""INSERT INTO canonical.tickets (source, {cols}, created_month, origin,
                    row_number, load_id, loaded_at)
                SELECT ?, {values}, CAST(date_trunc('month', created_at) AS DATE), ?,
                       _row_number, ?, ?
                FROM ({select}) WHERE _reason IS NULL""",
                params,
            )[0][0]

    def _quarantine_tickets(
        self, view: str, text: str, origin: str, load_id: str, now: datetime, select_args: dict
    ) -> int:
        """The rows that did not load are the quarantine; only their reasons are computed."""
        reasons = ticket_select(
            self.mapping,
            **select_args,
            reason_only=True,
            where=f"_row_number IN ({not_loaded_sql(view, self.source, load_id)})",
        )
        return _run(
            self.con,
            f"""INSERT INTO raw.quarantine
            SELECT ?, ?, m._row_number, split_part(m._reason, ':', 1), m._reason,
                   to_json(s)::VARCHAR, ?, ?
            FROM ({reasons}) m JOIN (SELECT _row_number{", " + text if text else ""}
                                     FROM {view}) s USING (_row_number)
            WHERE m._reason IS NOT NULL""",
            [self.source, origin, load_id, now],
        )[0][0]

    def _replace_earlier_versions(
        self, view: str, ids: str, deleted_flag: str, origin: str
    ) -> None:
        """The newest version of a ticket decides: its earlier row and quarantine entry go."""
        con, src = self.con, self.source
        _run(
            con, f"CREATE OR REPLACE TEMP TABLE inc_ids AS SELECT DISTINCT {ids} AS id FROM {view}"
        )
        _run(
            con,
            f"""DELETE FROM raw.quarantine WHERE source = ? AND origin = ?
            AND {_id_expr(self.id_columns, json_record=True)} IN (SELECT id FROM inc_ids)""",
            [src, origin],
        )
        # A deleted ticket keeps its last lifecycle status; deleted_at says it is gone.
        _run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE inc_prev AS
            SELECT ticket_id, status FROM canonical.tickets WHERE source = ? AND ticket_id IN
                (SELECT {ids} FROM {view} WHERE {deleted_flag})""",
            [src],
        )
        _run(
            con,
            "DELETE FROM canonical.tickets WHERE source = ? AND ticket_id IN "
            "(SELECT id FROM inc_ids)",
            [src],
        )

    def _keep_status_of_deleted(self, load_id: str) -> None:
        _run(
            self.con,
            """UPDATE canonical.tickets t SET status = p.status FROM inc_prev p
            WHERE t.source = ? AND t.load_id = ? AND t.ticket_id = p.ticket_id
              AND t.deleted_at IS NOT NULL AND p.status IS NOT NULL""",
            [self.source, load_id],
        )

    def _mapped_ids(self, view: str, ids: str, deleted_flag: str, load_id: str) -> None:
        """`inc_mapped`: the chunk's tickets (loaded or not) for matching its conversation."""
        _run(
            self.con,
            f"""CREATE OR REPLACE TEMP TABLE inc_mapped AS
            SELECT ticket_id, NULL::VARCHAR AS _reason, deleted_at IS NOT NULL AS {DELETED}
            FROM canonical.tickets WHERE source = ? AND load_id = ?
            UNION ALL
            SELECT {ids}, 'quarantined', {deleted_flag} FROM {view}
            WHERE _row_number IN (SELECT row_number FROM raw.quarantine
                                  WHERE source = ? AND load_id = ?)""",
            [self.source, load_id, self.source, load_id],
        )

    def _messages(self, chunk: Chunk, load_id: str, now: datetime) -> tuple[int, int, int]:
        assert chunk.messages is not None and self.messages is not None
        con, src, spec = self.con, self.source, self.messages
        origin = chunk.messages_origin or f"{chunk.origin} (messages)"
        table = _with_row_numbers(chunk.messages, self.messages_read + 1)
        self.messages_read += table.num_rows
        columns = self._stage("inc_chunk_messages", table, "inc_msg_stage")
        needed = list(dict.fromkeys(spec.fields.values()))
        missing = [c for c in needed if c not in columns]
        if missing:
            raise IngestError(
                f"{self.label}, {origin}: mapped message column(s) {missing} not in the source "
                f"(renamed or dropped?); columns present: {columns}"
            )
        tid = _id_expr([spec.fields["ticket_id"]])
        # The conversation of every ticket re-read here is replaced, except for deleted
        # tickets that came without one (the source no longer serves their messages).
        _run(
            con,
            f"""CREATE OR REPLACE TEMP TABLE inc_conv AS
            SELECT ticket_id FROM inc_mapped WHERE ticket_id IS NOT NULL AND NOT {DELETED}
            UNION SELECT {tid} FROM inc_msg_stage WHERE {tid} IS NOT NULL""",
        )
        self._keep_raw_messages(columns, tid, origin, load_id, now)
        self._map_messages()
        quarantined = self._quarantine_messages(origin, load_id, now)
        _run(
            con,
            """DELETE FROM canonical.messages WHERE source = ? AND ticket_id IN
            (SELECT ticket_id FROM inc_conv)""",
            [src],
        )
        cols = ", ".join(MESSAGE_COLUMNS)
        loaded = _run(
            con,
            f"""INSERT INTO canonical.messages (source, {cols}, origin, row_number, load_id,
                loaded_at)
            SELECT ?, {cols}, ?, _row_number, ?, ? FROM inc_msg_mapped WHERE _reason IS NULL""",
            [src, origin, load_id, now],
        )[0][0]
        read = table.num_rows
        messages = Load(load_id, src, origin, "messages", None, now, self.label)
        record_load(con, messages, read, loaded, quarantined, loaded)
        return read, loaded, quarantined

    def _keep_raw_messages(
        self, columns: list[str], tid: str, origin: str, load_id: str, now: datetime
    ) -> None:
        """The raw messages of every re-read conversation, replaced by the chunk's."""
        con, src = self.con, self.source
        raw_name = f"{src}__messages"
        ensure_raw_table(con, raw_name, columns)
        _run(con, f"DELETE FROM raw.{q(raw_name)} WHERE {tid} IN (SELECT ticket_id FROM inc_conv)")
        _run(
            con,
            f"INSERT INTO raw.{q(raw_name)} BY NAME SELECT "
            f"{lineage_sql(src, origin, load_id, now)}, * FROM inc_msg_stage",
        )

    def _map_messages(self) -> None:
        """`inc_msg_mapped`: the chunk's messages mapped, each with its reason not to load."""
        con, spec = self.con, self.messages
        assert spec is not None
        select = message_select(
            spec.fields,
            spec.role_map,
            table="inc_msg_stage",
            formats=self.mapping.timestamp_formats,
            hash_key_sql=self.key_sql,
            pseudonymize="assignee_id" in self.mapping.pseudonymize,
            max_text_bytes=self.max_text_bytes,
            value_maps=spec.value_maps,
        )
        _run(con, f"CREATE OR REPLACE TEMP TABLE inc_msg_mapped AS {select}")
        if "seq" not in spec.fields:
            # Without a position column the conversation is ordered by time, then by read order.
            _run(
                con,
                """UPDATE inc_msg_mapped m SET seq = o.seq FROM (
                    SELECT _row_number, CAST(row_number() OVER (
                        PARTITION BY ticket_id ORDER BY created_at NULLS LAST, _row_number)
                        - 1 AS INTEGER) AS seq
                    FROM inc_msg_mapped) o WHERE m._row_number = o._row_number""",
            )
        _run(
            con,
            # Messages are read for this chunk's tickets: checking against the tickets this
            # chunk loaded keeps the cost per chunk flat as the canonical table grows.
            """UPDATE inc_msg_mapped SET _reason = 'ticket_id: no loaded ticket with this id'
            WHERE _reason IS NULL AND ticket_id NOT IN
                (SELECT ticket_id FROM inc_mapped WHERE _reason IS NULL)""",
        )
        _run(
            con,
            """UPDATE inc_msg_mapped SET _reason = 'seq: duplicate message position for the ticket'
            WHERE _reason IS NULL AND _row_number IN (SELECT _row_number FROM (
                SELECT _row_number, row_number() OVER (PARTITION BY ticket_id, seq
                                                       ORDER BY _row_number) AS k
                FROM inc_msg_mapped WHERE _reason IS NULL) WHERE k > 1)""",
        )

    def _quarantine_messages(self, origin: str, load_id: str, now: datetime) -> int:
        """The re-read conversations' quarantine replaced by the messages that did not map."""
        con, src, spec = self.con, self.source, self.messages
        assert spec is not None
        _run(
            con,
            f"""DELETE FROM raw.quarantine WHERE source = ? AND origin = ?
            AND {_id_expr([spec.fields["ticket_id"]], json_record=True)} IN
                (SELECT ticket_id FROM inc_conv)""",
            [src, origin],
        )
        quarantined = _run(
            con,
            """INSERT INTO raw.quarantine
            SELECT ?, ?, m._row_number, split_part(m._reason, ':', 1), m._reason,
                   to_json(s)::VARCHAR, ?, ?
            FROM inc_msg_mapped m JOIN inc_msg_stage s USING (_row_number)
            WHERE m._reason IS NOT NULL""",
            [src, origin, load_id, now],
        )[0][0]
        return quarantined


def mark_deleted_except(
    con: duckdb.DuckDBPyConnection,
    source: str,
    present: pa.Table | pa.RecordBatchReader,
    now: datetime | None = None,
) -> int:
    """Set deleted_at on live tickets of `source` whose id is not in `present` (column `id`).

    `present` may be a stream: DuckDB reads it once, batch by batch, into a temporary table.

    For sources that delete rows outright: only a complete scan of the source's ids can
    tell a deleted ticket from an unchanged one.
    """
    now = now or load_time()
    con.register("inc_present_ids", present)
    try:
        with load_transaction(con):
            _run(
                con,
                """CREATE OR REPLACE TEMP TABLE inc_present AS
                SELECT DISTINCT CAST(id AS VARCHAR) AS id FROM inc_present_ids""",
            )
            marked = _run(
                con,
                """UPDATE canonical.tickets SET deleted_at = ? WHERE source = ?
                AND deleted_at IS NULL AND ticket_id NOT IN (SELECT id FROM inc_present)""",
                [now, source],
            )[0][0]
    finally:
        con.unregister("inc_present_ids")
    return int(marked)


def prefetch(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Iterate `items` in a background thread, `depth` items ahead.

    Reading the next chunk from the server overlaps with loading this one into DuckDB (both
    release the GIL). Errors surface in the consumer; stopping early stops the producer.
    """
    q_: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q_.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, done))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((False, exc))

    worker = threading.Thread(target=produce, name="ticket-audit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = q_.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)


__all__ = [
    "INCREMENTAL_KINDS",
    "Chunk",
    "IncrementalLoader",
    "MessageLayout",
    "commit_cursor",
    "mark_deleted_except",
    "prefetch",
    "read_cursor",
]
