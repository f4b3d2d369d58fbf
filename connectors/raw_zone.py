"""The raw zone of file sources: each loaded file kept byte for byte, read through a view.

A copy of every loaded export sits in a folder beside the DuckDB file (`<db>.raw/`) and
`raw.<name>` is a view that reads those copies with the options of the load, giving every row
its lineage (`_source, _origin, _row_number, _load_id, _loaded_at`). Keeping the bytes instead
of a second DuckDB copy of every text halves what a load writes; the export is immutable
evidence and the view reproduces the rows exactly as the load saw them.

`audit.raw_files` records which copy belongs to which origin and load; the view is rebuilt
from it, so a store folder that moved keeps working after the next load.

Database and helpdesk API sources arrive in chunks, not files: each committed chunk is kept as
one Parquet file of its rows as read (`write_chunk`, or `copy_chunk` as text when values are
nested), and their view shows the latest version of every source row (`audit.raw_latest`
names the key that identifies a row), as the upserted canonical tables do.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.errors import IngestError
from connectors.mapping import lit, q
from ticket_audit.store import CATALOG

# Stands for the stored copy's path in a saved SELECT; the view substitutes the current one.
FILE_TOKEN = "@@RAW_FILE@@"
log = logging.getLogger(__name__)


def raw_dir(con: duckdb.DuckDBPyConnection) -> Path:
    (path,) = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = ?", [CATALOG]
    ).fetchone()
    db = Path(path).resolve()
    return db.with_name(db.name + ".raw")


def keep_copy(con: duckdb.DuckDBPyConnection, raw_name: str, path: Path, load_id: str) -> Path:
    """Copy `path` into the raw zone; the copy is what the load reads."""
    folder = raw_dir(con) / raw_name
    target = folder / f"{load_id}-{path.name}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise IngestError(
            f"{path}: cannot keep a copy in the raw zone {folder}: {exc.strerror or exc}"
        ) from None
    return target


def register(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    raw_name: str,
    origin: str,
    stored: Path,
    select_sql: str,
    load_id: str,
    loaded_at: datetime,
) -> None:
    """Make `stored` the raw rows of `origin` (replacing an earlier load of it); same transaction."""
    con.execute("DELETE FROM audit.raw_files WHERE raw_name = ? AND origin = ?", [raw_name, origin])
    con.execute(
        "INSERT INTO audit.raw_files VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, raw_name, origin, stored.name, select_sql, load_id, loaded_at],
    )
    rebuild_view(con, raw_name)


def chunk_path(con: duckdb.DuckDBPyConnection, raw_name: str, load_id: str) -> Path:
    """Where the raw copy of one chunk goes (the folder is created)."""
    folder = raw_dir(con) / raw_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IngestError(
            f"raw.{raw_name}: cannot write the raw zone {folder}: {exc.strerror or exc}"
        ) from None
    return folder / f"{load_id}.parquet"


def _scalar(typ: pa.DataType) -> bool:
    return not pa.types.is_nested(typ) and not pa.types.is_null(typ)


def is_flat(schema: pa.Schema) -> bool:
    """Scalars and lists of scalars only (a database's declared types): such a chunk is kept
    as it came, types and all. Values inferred from JSON can change shape between pages, so
    those chunks are kept as text, which every later chunk can union with."""
    return all(
        _scalar(f.type) or (pa.types.is_list(f.type) and _scalar(f.type.value_type)) for f in schema
    )


def write_chunk(rows: pa.Table, target: Path) -> None:
    """Write a chunk's rows as read (Arrow, `_row_number` included); safe off the DuckDB thread.

    LZ4 and no dictionaries: the raw copy is written on every load and read rarely, so the
    write's speed matters more than the file's size.
    """
    try:
        pq.write_table(rows, target, compression="lz4", use_dictionary=False)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise IngestError(f"cannot write the raw copy {target}: {exc}") from None


def copy_chunk(con: duckdb.DuckDBPyConnection, rows_sql: str, target: Path) -> None:
    """Write the rows of `rows_sql` through DuckDB (for chunks with nested values, as text)."""
    con.execute(f"COPY ({rows_sql}) TO {lit(str(target))} (FORMAT parquet, COMPRESSION lz4)")


def register_chunk(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    raw_name: str,
    origin: str,
    stored: Path,
    key_sql: str,
    load_id: str,
    loaded_at: datetime,
) -> None:
    """Make a written chunk file part of `raw.<raw_name>`; same transaction as the chunk.

    A rollback leaves an unregistered file that `prune` removes. `key_sql` identifies a source
    row across chunks; the view keeps each key's latest row.
    """
    _keep_legacy_table(con, source, raw_name, origin, stored.parent)
    con.execute(
        "INSERT INTO audit.raw_files VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            source,
            raw_name,
            origin,
            stored.name,
            f"SELECT {lit(source)} AS _source, {lit(origin)} AS _origin, _row_number, "
            f"{lit(load_id)} AS _load_id, TIMESTAMP {lit(loaded_at.isoformat(sep=' '))} AS "
            f"_loaded_at, * EXCLUDE (_row_number) FROM read_parquet({FILE_TOKEN})",
            load_id,
            loaded_at,
        ],
    )
    con.execute(
        "INSERT INTO audit.raw_latest VALUES (?, ?) ON CONFLICT (raw_name) DO UPDATE "
        "SET key_sql = excluded.key_sql",
        [raw_name, key_sql],
    )
    rebuild_view(con, raw_name)


def _keep_legacy_table(
    con: duckdb.DuckDBPyConnection, source: str, raw_name: str, origin: str, folder: Path
) -> None:
    """A store from before chunk files kept a table here: its rows become the first file."""
    if _table_kind(con, raw_name) != "BASE TABLE":
        return
    target = folder / "legacy-table.parquet"
    con.execute(
        f"COPY (SELECT * FROM raw.{q(raw_name)}) TO {lit(str(target))} "
        "(FORMAT parquet, COMPRESSION snappy)"
    )
    con.execute(
        "INSERT INTO audit.raw_files VALUES (?, ?, ?, ?, ?, NULL, NULL)",
        [source, raw_name, origin, target.name, f"SELECT * FROM read_parquet({FILE_TOKEN})"],
    )
    con.execute(f"DROP TABLE raw.{q(raw_name)}")


def rebuild_view(con: duckdb.DuckDBPyConnection, raw_name: str) -> None:
    folder = raw_dir(con) / raw_name
    selects = [
        sql.replace(FILE_TOKEN, lit(str(folder / stored)))
        for stored, sql in con.execute(
            "SELECT stored_file, select_sql FROM audit.raw_files WHERE raw_name = ? "
            "ORDER BY loaded_at NULLS FIRST, origin, stored_file",
            [raw_name],
        ).fetchall()
    ]
    if _table_kind(con, raw_name) == "BASE TABLE":
        # A store written before the raw zone kept files held a table here; the files
        # registered from now on are the raw zone.
        log.warning(
            "raw.%s: replacing the table of an older store with the file-backed view", raw_name
        )
        con.execute(f"DROP TABLE raw.{q(raw_name)}")
    if not selects:
        con.execute(f"DROP VIEW IF EXISTS raw.{q(raw_name)}")
        return
    body = "\nUNION ALL BY NAME\n".join(f"({s})" for s in selects)
    key = _latest_key(con, raw_name)
    if key is not None:
        # A row read again (updated in the source) replaces its earlier version; rows without
        # a key (quarantined for it) are all kept.
        body = (
            f"SELECT * FROM ({body}) QUALIFY {key} IS NULL OR row_number() OVER "
            f"(PARTITION BY {key} ORDER BY _loaded_at DESC NULLS LAST, _row_number DESC) = 1"
        )
    con.execute(f"CREATE OR REPLACE VIEW raw.{q(raw_name)} AS {body}")


def _table_kind(con: duckdb.DuckDBPyConnection, raw_name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None for `raw.<raw_name>`."""
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'raw' AND table_name = ?",
        [CATALOG, raw_name],
    ).fetchone()
    return row[0] if row else None


def _latest_key(con: duckdb.DuckDBPyConnection, raw_name: str) -> str | None:
    row = con.execute(
        "SELECT key_sql FROM audit.raw_latest WHERE raw_name = ?", [raw_name]
    ).fetchone()
    return row[0] if row else None


def prune(con: duckdb.DuckDBPyConnection) -> None:
    """Delete copies no committed load refers to (replaced origins, loads that failed)."""
    root = raw_dir(con)
    if not root.is_dir():
        return
    kept = {
        (name, stored)
        for name, stored in con.execute(
            "SELECT raw_name, stored_file FROM audit.raw_files"
        ).fetchall()
    }
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for file in folder.iterdir():
            if (folder.name, file.name) not in kept:
                file.unlink(missing_ok=True)
