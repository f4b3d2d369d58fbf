"""`redacted_tickets/`: the dataset a GenAI team may use, exported from the redacted tables.

One row per redacted ticket, its conversation nested, as a month-partitioned Parquet dataset
in the hive layout (`created_month=YYYY-MM-01/part-0.parquet`): polars, DuckDB, pandas,
pyarrow and Spark read the directory as one table, `created_month` coming from the
directory names. Each month file carries, in its Parquet key-value metadata, a fingerprint
of everything it holds; a re-audit writes again only the months whose fingerprint changed
(a weekly re-audit changes one or two months of years) and leaves the other files untouched.

Each month file is written under a temporary name in the output directory (outside the
dataset: polars refuses a directory holding other files) and renamed into place, so a reader
never sees half a month. pyarrow's `write_dataset(existing_data_behavior="delete_matching")`
would delete a month before writing it again; the rename keeps the old month readable until
the new one is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ticket_audit.pii.scan_tickets import Store
from ticket_audit.pii.tables import ensure_pii_tables

DATASET = "redacted_tickets"
PARTITION = "created_month"
PART_FILE = "part-0.parquet"
# Hive's (and pyarrow's) directory value for a NULL partition; canonical tickets always have a
# month (created_at is required), so it is there for completeness.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# The single-file export of earlier versions; replaced by the dataset directory.
LEGACY_FILE = "redacted_tickets.parquet"

# The tickets of a set of months (a list parameter, NULL standing for tickets without a
# month), each with its conversation nested; months in order, so each is one slice.
_EXPORT_MONTHS = """
WITH k AS (
    SELECT source, ticket_id FROM audit.redacted_tickets
    WHERE list_contains($months, created_month) OR (created_month IS NULL AND $undated))
SELECT t.*, coalesce(m.messages, []) AS messages
FROM (SELECT * FROM audit.redacted_tickets
      WHERE list_contains($months, created_month) OR (created_month IS NULL AND $undated)) t
LEFT JOIN (
    SELECT source, ticket_id,
           list({'seq': seq, 'author_role': author_role, 'author_id': author_id,
                 'created_at': created_at, 'body': body, 'is_public': is_public}
                ORDER BY seq) AS messages
    FROM audit.redacted_messages r
    SEMI JOIN k ON k.source = r.source AND k.ticket_id = r.ticket_id
    GROUP BY ALL
) m USING (source, ticket_id)
ORDER BY t.created_month NULLS LAST, t.source, t.created_at, t.ticket_id
"""
# Months built in one query, up to about this many tickets: one query per month reads the
# whole messages table each time, which made many small months (planted future dates)
# cost more than the month that grew; nesting a million tickets' conversations in one
# query outgrows the audit's memory.
BUILD_BATCH_TICKETS = 150_000

# Per month, a fingerprint of everything the export holds: tickets (every column) and their
# messages. A month whose fingerprint is unchanged keeps its file.
_MONTH_FINGERPRINTS = """
WITH t AS (
    SELECT created_month, bit_xor(hash(t)) AS h, count(*) AS n
    FROM audit.redacted_tickets t GROUP BY ALL),
m AS (
    SELECT r.created_month, bit_xor(hash(m)) AS h
    FROM audit.redacted_messages m
    JOIN audit.redacted_tickets r ON r.source = m.source AND r.ticket_id = m.ticket_id
    GROUP BY ALL)
SELECT t.created_month, CAST(hash(t.h, coalesce(m.h, 0)) AS VARCHAR), t.n
FROM t LEFT JOIN m ON m.created_month IS NOT DISTINCT FROM t.created_month
ORDER BY 1 NULLS LAST
"""
# mkstemp creates 0600 files; the dataset is for its readers, so give it the mode an ordinary
# open() would (as reports.files does for the reports; the core does not import reports).
_umask = os.umask(0o022)
os.umask(_umask)
_FILE_MODE = 0o666 & ~_umask

# Key of a month file's own Parquet metadata: {"fingerprint": ..., "rows": ...}.
MONTH_KEY = "ticket_audit.month"


@dataclass
class ExportResult:
    path: Path  # the dataset directory
    rows: int
    months_nested: int  # months built from the redacted tables and written
    months_copied: int  # months unchanged since the previous export, their files kept


@dataclass
class _Month:
    month: date | None
    fingerprint: str
    tickets: int

    @property
    def directory(self) -> str:
        return f"{PARTITION}={self.month.isoformat() if self.month else NULL_PARTITION}"


def _month_params(months: list) -> dict:
    return {
        "months": [m for m in months if m is not None],
        "undated": any(m is None for m in months),
    }


def _is_current(month_dir: Path, m: _Month, schema: pa.Schema) -> bool:
    """The month's directory holds exactly the file this function would write now."""
    try:
        if [p.name for p in month_dir.iterdir()] != [PART_FILE]:
            return False
        meta = pq.read_metadata(month_dir / PART_FILE)
        kept = json.loads((meta.metadata or {})[MONTH_KEY.encode()])
        return (
            kept == {"fingerprint": m.fingerprint, "rows": m.tickets}
            and meta.num_rows == m.tickets
            and meta.schema.to_arrow_schema().remove_metadata().equals(schema)
        )
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return False  # missing, unreadable or not written by this function: write it again


def _write_month(dataset: Path, m: _Month, table: pa.Table) -> None:
    """One month's file, renamed into place; anything else in its directory removed."""
    month_dir = dataset / m.directory
    month_dir.mkdir(parents=True, exist_ok=True)
    meta = {MONTH_KEY: json.dumps({"fingerprint": m.fingerprint, "rows": m.tickets})}
    fd, tmp = tempfile.mkstemp(prefix=f".{DATASET}.", suffix=".tmp", dir=dataset.parent)
    os.close(fd)
    try:
        pq.write_table(
            table.replace_schema_metadata(meta),
            tmp,
            compression="zstd",
            write_page_index=False,
        )
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, month_dir / PART_FILE)
    finally:
        Path(tmp).unlink(missing_ok=True)
    for p in month_dir.iterdir():
        if p.name != PART_FILE:
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def _write_months(con, dataset: Path, months: list[_Month]) -> None:
    """The months' files, consecutive months nested in one query of up to
    BUILD_BATCH_TICKETS tickets, each month's slice written to its own directory."""
    batch: list[_Month] = []

    def build() -> None:
        query = con.sql(_EXPORT_MONTHS, params=_month_params([m.month for m in batch]))
        table, first = query.to_arrow_table().drop_columns([PARTITION]), 0
        for m in batch:
            _write_month(dataset, m, table.slice(first, m.tickets))
            first += m.tickets
        batch.clear()

    for m in months:
        if batch and sum(b.tickets for b in batch) + m.tickets > BUILD_BATCH_TICKETS:
            build()
        batch.append(m)
    if batch:
        build()


def export_dataset(store: Store, output_dir: Path) -> ExportResult:
    """`<output_dir>/redacted_tickets/`, written again only where a month changed."""
    output_dir = Path(output_dir)
    dataset = output_dir / DATASET
    dataset.mkdir(parents=True, exist_ok=True)
    with store() as con:
        ensure_pii_tables(con)
        months = [_Month(*row) for row in con.execute(_MONTH_FINGERPRINTS).fetchall()]
        empty = con.sql(f"SELECT * FROM ({_EXPORT_MONTHS}) LIMIT 0", params=_month_params([]))
        schema = empty.to_arrow_table().drop_columns([PARTITION]).schema
        changed = [m for m in months if not _is_current(dataset / m.directory, m, schema)]
        _write_months(con, dataset, changed)
    # Months that no longer hold a ticket, and anything else that is not a month of ours.
    wanted = {m.directory for m in months}
    for p in dataset.iterdir():
        if p.name not in wanted:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    (output_dir / LEGACY_FILE).unlink(missing_ok=True)
    rows = sum(m.tickets for m in months)
    return ExportResult(dataset, rows, len(changed), len(months) - len(changed))
