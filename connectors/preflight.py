"""`ticket-audit check`: what can be known about the sources before any Dagster run.

For each source: files exist, are not empty, have the mapped columns, and their first rows map
onto the canonical model (a file whose header is all it holds, or whose first rows all fail,
has nothing to audit); databases accept the connection and have the mapped columns; API
sources have their credentials in the environment. Each problem is one line naming the
source and the file, column or variable; nothing here quotes a cell value.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import duckdb

from connectors.errors import IngestError
from connectors.files import (
    excel_to_parquet,
    file_columns,
    file_format,
    max_line_bytes,
    resolve_files,
    stage_file,
)
from connectors.mapping import lit, ticket_select
from ticket_audit.config import AuditConfig

SAMPLE_LINES = 1000  # physical lines of a CSV/JSONL file the check maps (header included)


# Database drivers are imported on first use: each pulls in its client library.
def _postgres(source, label: str):
    from connectors.sql.postgres import PostgresDriver

    return PostgresDriver(source, label)


def _mysql(source, label: str):
    from connectors.sql.mysql import MySqlDriver

    return MySqlDriver(source, label)


_SQL_DRIVERS = {"postgres": _postgres, "mysql": _mysql}
_API_SECRETS = {"zendesk": ("email_env", "token_env"), "freshdesk": ("api_key_env",)}


def _head_copy(path: Path, directory: Path, lines: int) -> tuple[Path, bool]:
    """The first `lines` physical lines of a text file, and whether that is the whole file."""
    copy = directory / ("head" + path.suffix)
    with path.open("rb") as src, copy.open("wb") as dst:
        for _ in range(lines):
            line = src.readline()
            if not line:
                return copy, True
            dst.write(line)
        return copy, not src.read(1)


def _top_reason(reasons: list[str]) -> str:
    reason, count = Counter(reasons).most_common(1)[0]
    return f"{reason!r} x{count}" if len(set(reasons)) == 1 else f"most often {reason!r} x{count}"


def check_file(cfg: AuditConfig, source, path: Path, entry=None) -> list[str]:
    """Problems of one ticket file: unreadable, header only, or none of its first rows maps.

    `entry`: the source's file entry (`FileSource.entries()`) the path belongs to: its
    mapping, format and sheet; default the source's own."""
    entry = entry or source.entries()[0]
    mapping = entry.mapping
    label = f"source {source.name!r}"
    where = f"{label}, file {path}"
    con = duckdb.connect()
    sample, whole = path, True
    try:
        fmt = file_format(path, entry.format, label)
        with tempfile.TemporaryDirectory(prefix="ticket-audit-check-") as tmp:
            if fmt == "excel":
                sample = Path(tmp) / "sheet.parquet"
                excel_to_parquet(path, entry.sheet, sample, label)
                fmt = "parquet"
            elif fmt != "parquet" and path.is_file() and path.stat().st_size > 0:
                sample, whole = _head_copy(path, Path(tmp), SAMPLE_LINES)
            staged = stage_file(
                con,
                sample,
                fmt=fmt,
                lineage_sql="NULL AS _lineage",
                label=label,
                encoding=source.encoding,
                delimiter=source.delimiter,
                needed_columns=mapping.source_columns(),
                line_bytes=max_line_bytes(cfg.ingest.max_text_bytes),
            )
            con.execute(f"CREATE TEMP TABLE sample AS SELECT * FROM stage LIMIT {SAMPLE_LINES}")
            reasons = [
                r[1]
                for r in con.execute(
                    ticket_select(
                        mapping,
                        hash_key_sql=lit("check:"),
                        max_text_bytes=cfg.ingest.max_text_bytes,
                        table="sample",
                        reason_only=True,
                        row_id_prefix="check-",
                    )
                ).fetchall()
            ]
    except IngestError as exc:
        message = str(exc).replace(f"{label}, file {sample}", where)
        if not whole and "appear in no JSON object" in message:
            return []  # absent from the first objects only: the load itself decides
        if not whole and "cannot be read as csv" in message:
            # The copy of the first lines was cut inside a quoted value that spans lines
            # (answers with paragraphs); DuckDB's reader can stop on that cut. The whole file
            # is what the load reads: its own errors are reported there, with the line.
            return []
        return [message]
    finally:
        con.close()
    # A truncated copy may end inside a quoted record: that reject is the cut, not the file's.
    rejects = [r.reason for r in staged.rejects if whole or r.row_number < SAMPLE_LINES - 1]
    every = reasons + rejects
    scope = "its rows" if whole else f"its first {len(every):,} rows"
    if not every:
        return [f"{where}: the file holds a header but no data rows; nothing to audit"]
    if every and all(r is not None for r in every):
        return [f"{where}: none of {scope} maps onto a ticket ({_top_reason(every)})"]
    return []


def _check_messages(cfg: AuditConfig, spec, label: str) -> list[str]:
    """A messages export: present, readable header, the mapped columns there."""
    needed = spec.source_columns()
    con = duckdb.connect()
    try:
        problems = []
        for path in resolve_files(cfg.resolve(spec.path), label):
            where = f"{label}, file {path}"
            try:
                columns = file_columns(
                    path, file_format(path, spec.format, label), spec.encoding, ",", where, con
                )
            except duckdb.Error as exc:
                problems.append(f"{where}: cannot be read: {type(exc).__name__}")
                continue
            missing = [c for c in needed if columns is not None and c not in columns]
            if missing:
                problems.append(
                    f"{where}: mapped column(s) {missing} not in the file; "
                    f"columns present: {columns}"
                )
        return problems
    except IngestError as exc:
        return [str(exc)]
    finally:
        con.close()


def _check_sql(source) -> list[str]:
    from connectors.sql.common import check_columns

    label = f"source {source.name!r}"
    try:
        driver = _SQL_DRIVERS[source.kind](source, label)
    except IngestError as exc:
        return [str(exc)]
    try:
        check_columns(source, driver, label)
    except IngestError as exc:
        return [str(exc)]
    finally:
        driver.close()
    return []


def check_sources(cfg: AuditConfig) -> list[str]:
    """One line per problem found in the configured sources; empty when all look loadable."""
    problems: list[str] = []
    for source in cfg.sources:
        label = f"source {source.name!r}"
        if source.kind == "file":
            for entry in source.entries():
                try:
                    files = resolve_files(cfg.resolve(entry.path), label)
                except IngestError as exc:
                    problems.append(str(exc))
                    continue
                for path in files:
                    problems += check_file(cfg, source, path, entry)
            spec = source.mapping.messages.file
            if spec is not None:
                problems += _check_messages(cfg, spec, f"{label} messages")
        elif source.kind in _SQL_DRIVERS:
            problems += _check_sql(source)
        for attr in _API_SECRETS.get(source.kind, ()):
            env = getattr(source, attr)
            if not os.environ.get(env):
                problems.append(f"{label}: environment variable {env} ({attr}) is not set or empty")
    return problems


def nothing_loaded(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why an audit has no ticket to work on, per origin of the last loads; None if it has."""
    (tickets,) = con.execute("SELECT count(*) FROM canonical.tickets").fetchone()
    if tickets:
        return None
    origins = con.execute(
        """SELECT l.source, l.origin, l.rows_read, l.rows_quarantined,
                  (SELECT mode(q.reason) FROM raw.quarantine q
                   WHERE q.source = l.source AND q.origin = l.origin)
        FROM audit.load_log l WHERE l.kind = 'tickets'
        QUALIFY row_number() OVER (PARTITION BY l.source, l.origin ORDER BY l.finished_at DESC) = 1
        ORDER BY l.source, l.origin"""
    ).fetchall()
    parts = [
        f"source {s!r}, {o}: "
        + ("a header but no data rows" if not read else f"{read:,} rows, all quarantined")
        + (f" (most often {reason!r})" if reason else "")
        for s, o, read, _q, reason in origins
    ]
    return "no ticket loaded, nothing to audit: " + ("; ".join(parts) or "no source has rows")
