"""Loads configured sources into the raw zone and the canonical tables.

Each origin (a file, later a table or an API page range) is loaded in one transaction:
its raw rows, quarantined rows and canonical rows are replaced together, so a re-run or a
resume after a crash neither loses nor duplicates rows. The invariant
rows read = rows loaded + rows quarantined is checked for every origin.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import duckdb

from connectors.errors import IngestError
from connectors.files import Staged, file_format, fingerprint, resolve_files, stage_file
from connectors.mapping import lit, message_select, q, ticket_select
from ticket_audit.config import AuditConfig, FileSource
from ticket_audit.model import MESSAGE_COLUMNS, TICKET_COLUMNS
from ticket_audit.secrets import hash_key
from ticket_audit.store import open_store

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class OriginReport:
    source: str
    origin: str
    kind: str  # tickets | messages
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped_unchanged: bool = False


@dataclass
class IngestReport:
    origins: list[OriginReport]

    def totals(self, kind: str = "tickets") -> dict[str, int]:
        rs = [o for o in self.origins if o.kind == kind]
        return {
            "rows_read": sum(o.rows_read for o in rs),
            "rows_loaded": sum(o.rows_loaded for o in rs),
            "rows_quarantined": sum(o.rows_quarantined for o in rs),
        }

    def as_dict(self) -> dict:
        return {
            "origins": [asdict(o) for o in self.origins],
            "tickets": self.totals(),
            "messages": self.totals("messages"),
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _ensure_raw_table(con: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS raw.{q(name)} (_source VARCHAR, _origin VARCHAR,
        _row_number BIGINT, _load_id VARCHAR, _loaded_at TIMESTAMP)"""
    )
    existing = {r[0] for r in con.execute(f"DESCRIBE raw.{q(name)}").fetchall()}
    for col in columns:
        if col not in existing:
            # Schema drift: a new export column is kept, older rows read NULL for it.
            con.execute(f"ALTER TABLE raw.{q(name)} ADD COLUMN {q(col)} VARCHAR")


def _already_loaded(con, source: str, origin: str, fp: str) -> bool:
    row = con.execute(
        "SELECT fingerprint FROM audit.load_log WHERE source = ? AND origin = ? "
        "ORDER BY finished_at DESC LIMIT 1",
        [source, origin],
    ).fetchone()
    return row is not None and row[0] == fp


def _quarantine(con, source: str, staged: Staged, load_id: str, now: datetime, mapped: str | None):
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
    if mapped:
        con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT ?, ?, m._row_number, split_part(m._reason, ':', 1), m._reason,
                   to_json(s)::VARCHAR, ?, ?
            FROM {mapped} m JOIN {staged.table} s USING (_row_number)
            WHERE m._reason IS NOT NULL""",
            [source, staged.origin, load_id, now],
        )


def _load_tickets_origin(
    con, cfg: AuditConfig, source: FileSource, staged: Staged, fp: str, key_sql: str
) -> OriginReport:
    mapping = source.mapping
    load_id, now = uuid.uuid4().hex[:12], _now()
    select = ticket_select(mapping, hash_key_sql=key_sql, max_text_bytes=cfg.ingest.max_text_bytes)
    con.execute(f"CREATE OR REPLACE TEMP TABLE mapped AS {select}")
    con.execute("BEGIN TRANSACTION")
    try:
        _ensure_raw_table(con, source.name, staged.columns)
        con.execute(f"DELETE FROM raw.{q(source.name)} WHERE _origin = ?", [staged.origin])
        con.execute(
            f"INSERT INTO raw.{q(source.name)} BY NAME SELECT ? AS _source, ? AS _origin, "
            f"? AS _load_id, ? AS _loaded_at, * FROM {staged.table}",
            [source.name, staged.origin, load_id, now],
        )
        _quarantine(con, source.name, staged, load_id, now, "mapped")
        con.execute(
            """DELETE FROM canonical.tickets WHERE source = ? AND
            (origin = ? OR ticket_id IN (SELECT ticket_id FROM mapped WHERE _reason IS NULL))""",
            [source.name, staged.origin],
        )
        cols = ", ".join(TICKET_COLUMNS)
        con.execute(
            f"""INSERT INTO canonical.tickets (source, {cols}, created_month, origin, row_number,
                load_id, loaded_at)
            SELECT ?, {cols}, CAST(date_trunc('month', created_at) AS DATE), ?, _row_number, ?, ?
            FROM mapped WHERE _reason IS NULL""",
            [source.name, staged.origin, load_id, now],
        )
        messages = _column_messages(con, source, staged, load_id, now)
        loaded, quarantined = con.execute(
            "SELECT count(*) FILTER (WHERE _reason IS NULL), count(*) FILTER "
            "(WHERE _reason IS NOT NULL) FROM mapped"
        ).fetchone()
        quarantined += len(staged.rejects)
        read = staged.rows + len(staged.rejects)
        if read != loaded + quarantined:
            raise IngestError(
                f"source {source.name!r}, {staged.origin}: {read} rows read but {loaded} loaded "
                f"+ {quarantined} quarantined; refusing to commit a load that loses rows"
            )
        con.execute(
            "INSERT INTO audit.load_log VALUES (?, ?, ?, 'tickets', ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                source.name,
                staged.origin,
                fp,
                read,
                loaded,
                quarantined,
                messages,
                now,
                _now(),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged.table}")
    return OriginReport(source.name, staged.origin, "tickets", read, loaded, quarantined)


def _column_messages(con, source: FileSource, staged: Staged, load_id: str, now: datetime) -> int:
    """Messages held in ticket columns (flat exports): one message per configured column."""
    specs = source.mapping.messages.from_columns
    origin = staged.origin
    con.execute(
        "DELETE FROM canonical.messages WHERE source = ? AND origin = ?", [source.name, origin]
    )
    if not specs:
        return 0
    parts = []
    for seq, spec in enumerate(specs):
        when = spec.created_at or "NULL::TIMESTAMP"
        parts.append(
            f"SELECT m.ticket_id, {seq} AS seq, {lit(spec.author_role)} AS author_role, "
            f"NULL AS author_id, m.{when} AS created_at, "
            f"NULLIF(trim(s.{q(spec.column)}), '') AS body, true AS is_public, m._row_number "
            f"FROM mapped m JOIN {staged.table} s USING (_row_number) "
            f"WHERE m._reason IS NULL AND NULLIF(trim(s.{q(spec.column)}), '') IS NOT NULL"
        )
    union = " UNION ALL ".join(parts)
    cols = ", ".join(MESSAGE_COLUMNS)
    con.execute(
        f"""INSERT INTO canonical.messages (source, {cols}, origin, row_number, load_id, loaded_at)
        SELECT ?, {cols}, ?, _row_number, ?, ? FROM ({union})""",
        [source.name, origin, load_id, now],
    )
    return con.execute(
        "SELECT count(*) FROM canonical.messages WHERE source = ? AND origin = ?",
        [source.name, origin],
    ).fetchone()[0]


def _load_messages_file(
    con, cfg: AuditConfig, source: FileSource, staged: Staged, fp: str, key_sql: str
) -> OriginReport:
    spec = source.mapping.messages.file
    assert spec is not None
    load_id, now = uuid.uuid4().hex[:12], _now()
    select = message_select(
        spec.fields,
        spec.role_map,
        table=staged.table,
        formats=source.mapping.timestamp_formats,
        hash_key_sql=key_sql,
        pseudonymize="assignee_id" in source.mapping.pseudonymize,
        max_text_bytes=cfg.ingest.max_text_bytes,
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE mapped_messages AS {select}")
    # A message is only loadable if its ticket is: orphans are quarantined, not dropped.
    con.execute(
        """UPDATE mapped_messages SET _reason = 'ticket_id: no loaded ticket with this id'
        WHERE _reason IS NULL AND ticket_id NOT IN
            (SELECT ticket_id FROM canonical.tickets WHERE source = ?)""",
        [source.name],
    )
    con.execute(
        """UPDATE mapped_messages SET _reason = 'seq: duplicate message position for the ticket'
        WHERE _reason IS NULL AND _row_number IN (SELECT _row_number FROM (
            SELECT _row_number, row_number() OVER (PARTITION BY ticket_id, seq
                                                   ORDER BY _row_number) AS k
            FROM mapped_messages WHERE _reason IS NULL) WHERE k > 1)"""
    )
    raw_name = f"{source.name}__messages"
    con.execute("BEGIN TRANSACTION")
    try:
        _ensure_raw_table(con, raw_name, staged.columns)
        con.execute(f"DELETE FROM raw.{q(raw_name)} WHERE _origin = ?", [staged.origin])
        con.execute(
            f"INSERT INTO raw.{q(raw_name)} BY NAME SELECT ? AS _source, ? AS _origin, "
            f"? AS _load_id, ? AS _loaded_at, * FROM {staged.table}",
            [source.name, staged.origin, load_id, now],
        )
        _quarantine(con, source.name, staged, load_id, now, "mapped_messages")
        con.execute(
            "DELETE FROM canonical.messages WHERE source = ? AND origin = ?",
            [source.name, staged.origin],
        )
        cols = ", ".join(MESSAGE_COLUMNS)
        con.execute(
            f"""INSERT INTO canonical.messages (source, {cols}, origin, row_number, load_id, loaded_at)
            SELECT ?, {cols}, ?, _row_number, ?, ? FROM mapped_messages WHERE _reason IS NULL""",
            [source.name, staged.origin, load_id, now],
        )
        loaded, quarantined = con.execute(
            "SELECT count(*) FILTER (WHERE _reason IS NULL), count(*) FILTER "
            "(WHERE _reason IS NOT NULL) FROM mapped_messages"
        ).fetchone()
        quarantined += len(staged.rejects)
        read = staged.rows + len(staged.rejects)
        con.execute(
            "INSERT INTO audit.load_log VALUES (?, ?, ?, 'messages', ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                source.name,
                staged.origin,
                fp,
                read,
                loaded,
                quarantined,
                loaded,
                now,
                _now(),
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {staged.table}")
    return OriginReport(source.name, staged.origin, "messages", read, loaded, quarantined)


def _mapping_salt(source: FileSource) -> str:
    return json.dumps(source.mapping.model_dump(mode="json"), sort_keys=True)


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
    needed = source.mapping.source_columns()
    for path in resolve_files(cfg.resolve(source.path), label):
        origin = str(path)
        fp = fingerprint(path, salt)
        if not force and _already_loaded(con, source.name, origin, fp):
            progress(f"{label}: {path.name} unchanged since last load, skipped")
            reports.append(OriginReport(source.name, origin, "tickets", 0, 0, 0, True))
            continue
        progress(f"{label}: reading {path.name}")
        staged = stage_file(
            con,
            path,
            fmt=file_format(path, source.format, label),
            table="stage",
            label=label,
            encoding=source.encoding,
            delimiter=source.delimiter,
            needed_columns=needed,
        )
        rep = _load_tickets_origin(con, cfg, source, staged, fp, key_sql)
        progress(
            f"{label}: {path.name}: {rep.rows_read} rows read, {rep.rows_loaded} loaded, "
            f"{rep.rows_quarantined} quarantined"
        )
        reports.append(rep)
    spec = source.mapping.messages.file
    if spec is not None:
        for path in resolve_files(cfg.resolve(spec.path), f"{label} messages"):
            origin = str(path)
            fp = fingerprint(path, salt)
            tickets_changed = any(not r.skipped_unchanged for r in reports)
            if not force and not tickets_changed and _already_loaded(con, source.name, origin, fp):
                reports.append(OriginReport(source.name, origin, "messages", 0, 0, 0, True))
                continue
            progress(f"{label}: reading messages {path.name}")
            staged = stage_file(
                con,
                path,
                fmt=file_format(path, spec.format, label),
                table="stage",
                label=f"{label} messages",
                encoding=spec.encoding,
                needed_columns=list(dict.fromkeys(spec.fields.values())),
            )
            rep = _load_messages_file(con, cfg, source, staged, fp, key_sql)
            progress(
                f"{label}: {path.name}: {rep.rows_read} messages read, {rep.rows_loaded} "
                f"loaded, {rep.rows_quarantined} quarantined"
            )
            reports.append(rep)
    return reports


def ingest_config(
    cfg: AuditConfig,
    progress: Progress = log.info,
    force: bool = False,
    sources: list[str] | None = None,
) -> IngestReport:
    """Load every configured source (or the named ones) into the audit database."""
    reports: list[OriginReport] = []
    with open_store(cfg.duckdb_path) as con:
        for source in cfg.sources:
            if sources is not None and source.name not in sources:
                continue
            if source.kind == "file":
                reports += ingest_file_source(con, cfg, source, progress, force)
            else:  # pragma: no cover - other kinds register their loader in connectors.registry
                from connectors.registry import loader_for

                reports += loader_for(source.kind)(con, cfg, source, progress, force)
    return IngestReport(reports)
