"""The raw zone of file sources: each loaded file kept byte for byte, read through a view.

A copy of every loaded export sits in a folder beside the DuckDB file (`<db>.raw/`) and
`raw.<name>` is a view that reads those copies with the options of the load, giving every row
its lineage (`_source, _origin, _row_number, _load_id, _loaded_at`). Keeping the bytes instead
of a second DuckDB copy of every text halves what a load writes; the export is immutable
evidence and the view reproduces the rows exactly as the load saw them.

`audit.raw_files` records which copy belongs to which origin and load; the view is rebuilt
from it, so a store folder that moved keeps working after the next load.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

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


def rebuild_view(con: duckdb.DuckDBPyConnection, raw_name: str) -> None:
    folder = raw_dir(con) / raw_name
    selects = [
        sql.replace(FILE_TOKEN, lit(str(folder / stored)))
        for stored, sql in con.execute(
            "SELECT stored_file, select_sql FROM audit.raw_files WHERE raw_name = ? "
            "ORDER BY loaded_at, origin",
            [raw_name],
        ).fetchall()
    ]
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'raw' AND table_name = ?",
        [CATALOG, raw_name],
    ).fetchone()
    if kind and kind[0] == "BASE TABLE":
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
    con.execute(f"CREATE OR REPLACE VIEW raw.{q(raw_name)} AS {body}")


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
