"""The file loader: CSV, JSON Lines, Parquet and spreadsheet exports of a file source.

Each origin (a file) is loaded in one load transaction (`connectors.load_transaction`): its
raw rows, quarantined rows and canonical rows are replaced together, so a re-run or a
resume after a crash neither loses nor duplicates rows, and rows read = rows loaded + rows
quarantined is checked before it commits. An unchanged file (same fingerprint, same
mapping) is skipped.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from connectors import message_shape, raw_zone
from connectors.errors import IngestError, values_withheld
from connectors.files import (
    Staged,
    excel_to_parquet,
    file_format,
    fingerprint,
    max_line_bytes,
    resolve_files,
    stage_file,
)
from connectors.load_report import OriginReport, Progress
from connectors.load_sql import filter_pushdown_off, lineage_sql, not_loaded_sql
from connectors.load_transaction import Load, load_time, load_transaction, record_load
from connectors.mapping import lit, message_select, q, ticket_select
from ticket_audit.config import AuditConfig, FileSource
from ticket_audit.config.mapping import MessagesFile, RowNumber
from ticket_audit.config.sources import SourceFile
from ticket_audit.model import MESSAGE_COLUMNS, TICKET_COLUMNS
from ticket_audit.secrets import hash_key

log = logging.getLogger(__name__)


def _already_loaded(con, source: str, origin: str, fp: str) -> bool:
    row = con.execute(
        "SELECT fingerprint FROM audit.load_log WHERE source = ? AND origin = ? "
        "ORDER BY finished_at DESC LIMIT 1",
        [source, origin],
    ).fetchone()
    return row is not None and row[0] == fp


def _stage_into_raw(
    con,
    source_name: str,
    raw_name: str,
    path: Path,
    *,
    fmt: str,
    label: str,
    encoding: str,
    delimiter: str,
    needed: list[str],
    load_id: str,
    now: datetime,
    line_bytes: int,
    sheet: str | None = None,
) -> Staged:
    """Stage the file as the temp view `stage` and make a kept copy of it the origin's raw rows.

    A spreadsheet's sheet is converted to Parquet in the raw zone first; that copy is both what
    the load reads and what the raw view reads."""
    read_path, converted = path, None
    if fmt == "excel":
        folder = raw_zone.raw_dir(con) / raw_name
        folder.mkdir(parents=True, exist_ok=True)
        converted = folder / f"{load_id}-{path.name}.parquet"
        excel_to_parquet(path, sheet, converted, label)
        read_path, fmt = converted, "parquet"
    staged = stage_file(
        con,
        read_path,
        fmt=fmt,
        label=label,
        encoding=encoding,
        delimiter=delimiter,
        lineage_sql=lineage_sql(source_name, str(path), load_id, now),
        needed_columns=needed,
        line_bytes=line_bytes,
        shown=path,
    )
    staged.origin = str(path)
    stored = converted or raw_zone.keep_copy(con, raw_name, path, load_id)
    raw_zone.register(
        con,
        source=source_name,
        raw_name=raw_name,
        origin=str(path),
        stored=stored,
        select_sql=staged.select_sql,
        load_id=load_id,
        loaded_at=now,
    )
    return staged


def _quarantine_rejects(con, source: str, staged: Staged, load_id: str, now: datetime) -> None:
    con.execute(
        "DELETE FROM raw.quarantine WHERE source = ? AND origin = ?", [source, staged.origin]
    )
    if staged.rejects:
        con.executemany(
            "INSERT INTO raw.quarantine VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
            [
                [source, staged.origin, r.row_number, r.reason, r.record, load_id, now]
                for r in staged.rejects
            ],
        )


def _quarantine_mapped(
    con, source: str, staged: Staged, load_id: str, now: datetime, reasons_sql: str
) -> None:
    con.execute(
        f"""INSERT INTO raw.quarantine
        SELECT ?, ?, m._row_number, split_part(m._reason, ':', 1), m._reason,
               to_json(s)::VARCHAR, ?, ?
        FROM ({reasons_sql}) m JOIN stage s USING (_row_number)
        WHERE m._reason IS NOT NULL""",
        [source, staged.origin, load_id, now],
    )


def _counts(con, source: str, origin: str, load_id: str, table: str) -> tuple[int, int]:
    loaded = con.execute(
        f"SELECT count(*) FROM {table} WHERE source = ? AND origin = ? AND load_id = ?",
        [source, origin, load_id],
    ).fetchone()[0]
    quarantined = con.execute(
        "SELECT count(*) FROM raw.quarantine WHERE source = ? AND origin = ? AND load_id = ?",
        [source, origin, load_id],
    ).fetchone()[0]
    return loaded, quarantined


@dataclass(frozen=True)
class _Staging:
    """How one export file is staged (`_stage_into_raw`): its kept copy's name in the raw
    zone, format, reading options and the columns the mapping needs."""

    raw_name: str
    fmt: str | None
    label: str
    encoding: str
    delimiter: str
    needed: list[str]
    sheet: str | None


@contextmanager
def _file_load(
    con, cfg: AuditConfig, source_name: str, kind: str, path: Path, fp: str, staging: _Staging
) -> Iterator[tuple[Load, Staged]]:
    """One load of a tickets or messages file: inside the load transaction, the file staged
    as the view `stage` with its raw copy kept; the staging views and tables dropped after."""
    label = f"source {source_name!r}"
    load = Load(uuid.uuid4().hex[:12], source_name, str(path), kind, fp, load_time(), label)
    try:
        # A failed load also drops the copy of the export it kept in the raw zone.
        with load_transaction(con, on_rollback=lambda: raw_zone.prune(con)):
            staged = _stage_into_raw(
                con,
                source_name,
                staging.raw_name,
                path,
                fmt=file_format(path, staging.fmt, staging.label),
                label=staging.label,
                encoding=staging.encoding,
                delimiter=staging.delimiter,
                needed=staging.needed,
                load_id=load.load_id,
                now=load.started,
                line_bytes=max_line_bytes(cfg.ingest.max_text_bytes),
                sheet=staging.sheet,
            )
            yield load, staged
    finally:
        con.execute(
            "DROP VIEW IF EXISTS stage_threaded; DROP TABLE IF EXISTS thread_roots; "
            "DROP VIEW IF EXISTS stage; DROP TABLE IF EXISTS stage_rows"
        )


def _load_tickets_file(
    con,
    cfg: AuditConfig,
    source: FileSource,
    entry: SourceFile,
    path: Path,
    fp: str,
    key_sql: str,
) -> OriginReport:
    mapping = entry.mapping
    select_args = dict(
        hash_key_sql=key_sql,
        max_text_bytes=cfg.ingest.max_text_bytes,
        row_id_prefix=row_id_prefix(source.name, path),
    )
    staging = _Staging(
        raw_name=source.name,
        fmt=entry.format,
        label=f"source {source.name!r}",
        encoding=source.encoding,
        delimiter=source.delimiter,
        needed=mapping.source_columns(),
        sheet=entry.sheet,
    )
    with _file_load(con, cfg, source.name, "tickets", path, fp, staging) as (load, staged):
        load_id, now, origin = load.load_id, load.started, load.origin
        _quarantine_rejects(con, source.name, staged, load_id, now)
        con.execute(
            "DELETE FROM canonical.tickets WHERE source = ? AND origin = ?",
            [source.name, origin],
        )
        cols = ", ".join(TICKET_COLUMNS)
        # Ids that moved here from another origin of the source: the newer export wins.
        prefix = row_id_prefix(source.name, path)
        con.execute(
            f"""DELETE FROM canonical.tickets WHERE source = ? AND ticket_id IN
            (SELECT {_text_id(mapping, prefix)} FROM stage)""",
            [source.name],
        )
        with filter_pushdown_off(con):
            con.execute(
                f"""INSERT INTO canonical.tickets (source, {cols}, created_month, origin,
                    row_number, load_id, loaded_at)
                SELECT ?, {cols}, CAST(date_trunc('month', created_at) AS DATE), ?, _row_number,
                       ?, ?
                FROM ({ticket_select(mapping, **select_args)}) WHERE _reason IS NULL""",
                [source.name, origin, load_id, now],
            )
        # The rows that did not load are the quarantine: their reasons are computed again
        # for those rows only, not for the whole file.
        _quarantine_mapped(
            con,
            source.name,
            staged,
            load_id,
            now,
            ticket_select(
                mapping,
                reason_only=True,
                where=f"_row_number IN ({not_loaded_sql('stage', source.name, load_id)})",
                **select_args,
            ),
        )
        messages = _column_messages(con, source.name, mapping, origin, load_id, now)
        loaded, quarantined = _counts(con, source.name, origin, load_id, "canonical.tickets")
        read = staged.rows + len(staged.rejects)
        record_load(con, load, read, loaded, quarantined, messages)
    return OriginReport(source.name, origin, "tickets", read, loaded, quarantined)


def row_id_prefix(source: str, path: Path) -> str:
    """Ids of `ticket_id: {row_number: true}`: `<source>-<file name>-<row number>`."""
    return f"{source}-{path.name}-"


def _text_id(mapping, prefix: str) -> str:
    if isinstance(mapping.spec("ticket_id"), RowNumber):
        return f"({lit(prefix)} || CAST(_row_number AS VARCHAR))"
    cols = mapping.columns_for("ticket_id")
    parts = [f"NULLIF(trim(CAST({q(c)} AS VARCHAR)), '')" for c in cols]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _column_messages(
    con, source_name: str, mapping, origin: str, load_id: str, now: datetime
) -> int:
    """Messages held in ticket columns (flat exports): one message per configured column."""
    specs = mapping.messages.from_columns
    con.execute(
        "DELETE FROM canonical.messages WHERE source = ? AND origin = ?", [source_name, origin]
    )
    if not specs:
        return 0
    parts = []
    for seq, spec in enumerate(specs):
        when = f"c.{spec.created_at}" if spec.created_at else "NULL::TIMESTAMP"
        body = f"NULLIF(trim(s.{q(spec.column)}), '')"
        parts.append(
            f"SELECT c.ticket_id, {seq} AS seq, {lit(spec.author_role)} AS author_role, "
            f"NULL AS author_id, {when} AS created_at, {body} AS body, true AS is_public, "
            f"c.row_number AS _row_number FROM canonical.tickets c "
            f"JOIN stage s ON s._row_number = c.row_number "
            f"WHERE c.source = {lit(source_name)} AND c.load_id = {lit(load_id)} "
            f"AND {body} IS NOT NULL"
        )
    cols = ", ".join(MESSAGE_COLUMNS)
    con.execute(
        f"""INSERT INTO canonical.messages (source, {cols}, origin, row_number, load_id, loaded_at)
        SELECT ?, {cols}, ?, _row_number, ?, ? FROM ({" UNION ALL ".join(parts)})""",
        [source_name, origin, load_id, now],
    )
    return con.execute(
        "SELECT count(*) FROM canonical.messages WHERE source = ? AND origin = ?",
        [source_name, origin],
    ).fetchone()[0]


def _map_messages(
    con, cfg: AuditConfig, source: FileSource, spec: MessagesFile, key_sql: str
) -> None:
    """The staged rows mapped to messages (`mapped_messages`; `message_rows` too when rows
    are grouped into messages), with the reason a message cannot load: no loaded ticket, or
    a position its ticket already has."""
    table, fields = "stage", dict(spec.fields)
    if spec.thread_by is not None:
        table = message_shape.thread_stage(con, spec)
        fields["ticket_id"] = message_shape.THREAD_COLUMN
    order_sql, order = message_shape.order_items(spec)
    carry = ", ".join(x for x in (message_shape.group_item(spec), order_sql) if x)
    select = message_select(
        fields,
        spec.role_map,
        table=table,
        formats=source.mapping.timestamp_formats,
        hash_key_sql=key_sql,
        pseudonymize="assignee_id" in source.mapping.pseudonymize,
        max_text_bytes=cfg.ingest.max_text_bytes,
        value_maps=spec.value_maps,
        carry=carry,
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE message_rows AS {select}")
    if spec.group_rows_by:
        message_shape.group_messages(con, spec, order)
    else:
        con.execute("ALTER TABLE message_rows RENAME TO mapped_messages")
        con.execute("ALTER TABLE mapped_messages ADD COLUMN _rows BIGINT DEFAULT 1")
    # A message is only loadable if its ticket is: orphans are quarantined, not dropped.
    con.execute(
        """UPDATE mapped_messages SET _reason = 'ticket_id: no loaded ticket with this id'
        WHERE _reason IS NULL AND ticket_id NOT IN
            (SELECT ticket_id FROM canonical.tickets WHERE source = ?)""",
        [source.name],
    )
    if "seq" not in spec.fields:
        message_shape.number_messages(con, order)
    con.execute(
        """UPDATE mapped_messages SET _reason = 'seq: duplicate message position for the ticket'
        WHERE _reason IS NULL AND _row_number IN (SELECT _row_number FROM (
            SELECT _row_number, row_number() OVER (PARTITION BY ticket_id, seq
                                                   ORDER BY _row_number) AS k
            FROM mapped_messages WHERE _reason IS NULL) WHERE k > 1)"""
    )


def _load_messages_file(
    con, cfg: AuditConfig, source: FileSource, path: Path, fp: str, key_sql: str
) -> OriginReport:
    spec = source.mapping.messages.file
    assert spec is not None
    staging = _Staging(
        raw_name=f"{source.name}__messages",
        fmt=spec.format,
        label=f"source {source.name!r} messages",
        encoding=spec.encoding,
        delimiter=",",
        needed=spec.source_columns(),
        sheet=spec.sheet,
    )
    with _file_load(con, cfg, source.name, "messages", path, fp, staging) as (load, staged):
        load_id, now, origin = load.load_id, load.started, load.origin
        _map_messages(con, cfg, source, spec, key_sql)
        # Every row of a message held back is quarantined, with the message's reason.
        reasons = (
            """SELECT r._row_number, coalesce(r._reason, m._reason) AS _reason
            FROM message_rows r JOIN mapped_messages m USING (_group)
            WHERE m._reason IS NOT NULL"""
            if spec.group_rows_by
            else "SELECT _row_number, _reason FROM mapped_messages"
        )
        _quarantine_rejects(con, source.name, staged, load_id, now)
        _quarantine_mapped(con, source.name, staged, load_id, now, reasons)
        con.execute(
            "DELETE FROM canonical.messages WHERE source = ? AND origin = ?",
            [source.name, origin],
        )
        cols = ", ".join(MESSAGE_COLUMNS)
        con.execute(
            f"""INSERT INTO canonical.messages (source, {cols}, origin, row_number, load_id, loaded_at)
            SELECT ?, {cols}, ?, _row_number, ?, ? FROM mapped_messages WHERE _reason IS NULL""",
            [source.name, origin, load_id, now],
        )
        (loaded_rows,) = con.execute(
            "SELECT coalesce(sum(_rows), 0) FROM mapped_messages WHERE _reason IS NULL"
        ).fetchone()
        con.execute("DROP TABLE mapped_messages; DROP TABLE IF EXISTS message_rows")
        messages, quarantined = _counts(con, source.name, origin, load_id, "canonical.messages")
        # Rows, not messages: a message grouped from several rows loads all of them.
        loaded = int(loaded_rows)
        read = staged.rows + len(staged.rejects)
        record_load(con, load, read, loaded, quarantined, messages)
    return OriginReport(source.name, origin, "messages", read, loaded, quarantined)


def _messages_depend_on_change(con, source: str, origin: str, id_column: str) -> bool:
    """After the tickets changed, an unchanged messages file is read again only if the change
    can matter to it: a message waiting in quarantine for a ticket that is now loaded, or a
    loaded message whose ticket is gone. A weekly export of new tickets leaves years of
    messages alone, even when some wait for tickets that will never load."""
    key = lit("$." + q(id_column))
    (depends,) = con.execute(
        f"""SELECT EXISTS (
                SELECT 1 FROM raw.quarantine w JOIN canonical.tickets t
                    ON t.source = w.source
                   AND t.ticket_id = trim(json_extract_string(w.record, {key}))
                WHERE w.source = ? AND w.origin = ?
                  AND w.reason = 'ticket_id: no loaded ticket with this id')
            OR EXISTS (
                SELECT 1 FROM canonical.messages m WHERE m.source = ? AND m.origin = ?
                AND NOT EXISTS (SELECT 1 FROM canonical.tickets t
                                WHERE t.source = m.source AND t.ticket_id = m.ticket_id))""",
        [source, origin, source, origin],
    ).fetchone()
    return bool(depends)


def _mapping_salt(source: FileSource) -> str:
    return json.dumps(
        source.model_dump(mode="json", include={"mapping", "files", "sheet"}), sort_keys=True
    )


def ingest_file_source(
    con: duckdb.DuckDBPyConnection,
    cfg: AuditConfig,
    source: FileSource,
    progress: Progress = log.info,
    force: bool = False,
) -> list[OriginReport]:
    label = f"source {source.name!r}"
    key_sql = lit(hash_key(cfg.audit.hash_key_env) + ":")
    salt = _mapping_salt(source)
    reports: list[OriginReport] = []
    files = [
        (path, entry)
        for entry in source.entries()
        for path in resolve_files(cfg.resolve(entry.path), label)
    ]
    for path, entry in files:
        origin = str(path)
        fp = fingerprint(path, salt)
        if not force and _already_loaded(con, source.name, origin, fp):
            progress(f"{label}: {path.name} unchanged since last load, skipped")
            reports.append(OriginReport(source.name, origin, "tickets", 0, 0, 0, True))
            continue
        progress(f"{label}: reading {path.name}")
        with values_withheld(f"{label}, {origin}"):
            rep = _load_tickets_file(con, cfg, source, entry, path, fp, key_sql)
        progress(
            f"{label}: {path.name}: {rep.rows_read} rows read, {rep.rows_loaded} loaded, "
            f"{rep.rows_quarantined} quarantined"
        )
        reports.append(rep)
    spec = source.mapping.messages.file
    if spec is not None:
        tickets_changed = any(not r.skipped_unchanged for r in reports)
        ticket_files = {p.resolve() for p, _ in files}
        for path in resolve_files(cfg.resolve(spec.path), f"{label} messages"):
            if path.resolve() in ticket_files:
                # Load log, quarantine and lineage key an origin by (source, file): one file
                # cannot be both. A message per row of the tickets file is `from_columns`.
                raise IngestError(
                    f"{label}: {path} is both a tickets file and the messages file; map its "
                    "message column with mapping.messages.from_columns instead"
                )
            origin = str(path)
            fp = fingerprint(path, salt)
            if (
                not force
                and _already_loaded(con, source.name, origin, fp)
                and not (
                    tickets_changed
                    and (
                        spec.thread_by is not None  # roots are not a column: always re-read
                        or _messages_depend_on_change(
                            con, source.name, origin, spec.fields["ticket_id"]
                        )
                    )
                )
            ):
                reports.append(OriginReport(source.name, origin, "messages", 0, 0, 0, True))
                continue
            progress(f"{label}: reading messages {path.name}")
            with values_withheld(f"{label}, messages {origin}"):
                rep = _load_messages_file(con, cfg, source, path, fp, key_sql)
            progress(
                f"{label}: {path.name}: {rep.rows_read} messages read, {rep.rows_loaded} "
                f"loaded, {rep.rows_quarantined} quarantined"
            )
            reports.append(rep)
    return reports
