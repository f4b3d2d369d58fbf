"""File sources (CSV, JSON Lines, Parquet, Excel) read by DuckDB as text columns, streamed.

Spreadsheets (.xlsx/.xls) are read by polars `read_excel` with the calamine engine (every cell
as text) and kept in the raw zone as a Parquet copy of the sheet, which DuckDB reads like any
Parquet export.

Staging shows each value exactly as written (all text) plus `_row_number`, the same SELECT
the raw zone's view runs over the kept copy, so the mapping decides what is valid. Lines the
reader cannot parse come back as rejects with their line number and reason.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.errors import IngestError, SourceUnavailableError
from connectors.mapping import lit, q
from connectors.raw_zone import FILE_TOKEN

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
# Lines may be far longer than ingest.max_text_bytes, so an oversized body is parsed and
# quarantined with the field named instead of failing as an unreadable line. DuckDB sizes
# buffers from this, so it is bounded rather than huge.
MIN_LINE_BYTES = 8 * 1024 * 1024


def max_line_bytes(max_text_bytes: int) -> int:
    return max(MIN_LINE_BYTES, 4 * max_text_bytes)


@dataclass
class Reject:
    row_number: int
    reason: str
    record: str | None


@dataclass
class Staged:
    table: str
    origin: str
    rows: int
    columns: list[str]
    rejects: list[Reject] = field(default_factory=list)
    select_sql: str = ""


def resolve_files(pattern: Path, label: str) -> list[Path]:
    if pattern.is_dir():
        files = sorted(p for p in pattern.iterdir() if p.suffix.lower() in SUFFIX_FORMATS)
    elif any(ch in str(pattern) for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(str(pattern)))
    else:
        files = [pattern] if pattern.exists() else []
    if not files:
        raise SourceUnavailableError(f"{label}: no file found at {pattern}")
    return files


def file_format(path: Path, configured: str | None, label: str) -> str:
    fmt = configured or SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            f"{label}: cannot tell the format of {path.name}; set `format` to csv, jsonl, "
            "parquet or excel"
        )
    return fmt


def excel_to_parquet(path: Path, sheet: str | None, target: Path, label: str) -> None:
    """One sheet of a spreadsheet (the first if `sheet` is None), every cell as text, as Parquet."""
    import fastexcel
    import polars as pl

    where = f"{label}, file {path}"
    try:
        sheets = fastexcel.read_excel(str(path)).sheet_names
    except Exception as exc:  # noqa: BLE001 - the reader's own errors name no file
        raise IngestError(f"{where}: cannot be read as a spreadsheet: {exc}") from None
    if sheet is not None and sheet not in sheets:
        raise IngestError(f"{where}: no sheet named {sheet!r}; sheets present: {sheets}")
    try:
        frame = pl.read_excel(
            path,
            sheet_name=sheet or sheets[0],
            engine="calamine",
            infer_schema_length=0,  # every cell as written: the mapping decides what is valid
        )
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"{where}: cannot read sheet {sheet or sheets[0]!r}: {exc}") from None
    frame = frame.select(pl.all().cast(pl.String))
    frame.write_parquet(target)


def fingerprint(path: Path, salt: str) -> str:
    """Cheap identity of a file's content: size, mtime and hashes of its head and tail."""
    st = path.stat()
    h = hashlib.blake2b(f"{salt}|{st.st_size}|{st.st_mtime_ns}".encode(), digest_size=16)
    with path.open("rb") as fh:
        h.update(fh.read(65536))
        if st.st_size > 65536:
            fh.seek(max(65536, st.st_size - 65536))
            h.update(fh.read(65536))
    return h.hexdigest()


def _header(path: Path, encoding: str, delimiter: str, label: str) -> list[str]:
    try:
        with path.open("rb") as fh:  # only the first line: later lines may be in quarantine
            first = fh.readline().decode(encoding)
        header = next(csv.reader([first.rstrip("\r\n").lstrip("\ufeff")], delimiter=delimiter), [])
    except UnicodeDecodeError:
        raise IngestError(f"{label}: the header line is not valid {encoding}") from None
    if not header or any(not h.strip() for h in header):
        raise IngestError(f"{label}: the header line has empty column names: {header}")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise IngestError(f"{label}: the header repeats column name(s) {dupes}")
    return header


def _csv_options(header: list[str], encoding: str, delimiter: str, line_bytes: int) -> str:
    # The header is read separately and the dialect given explicitly: DuckDB's sniffer gives up
    # on small files with malformed lines, and those lines belong in quarantine, not in an error.
    columns = ", ".join(f"{lit(c)}: 'VARCHAR'" for c in header)
    return (
        f"columns = {{{columns}}}, header = true, auto_detect = false, "
        f"delim = {lit(delimiter)}, quote = '\"', escape = '\"', encoding = {lit(encoding)}, "
        f"max_line_size = {line_bytes}"
    )


# An opening quote without its closing one makes DuckDB read the lines after it as the rest
# of that value, up to the next quote character (one line, or the rest of the file), and
# reject the merged record: the tickets on those lines would be lost while rows read = loaded
# + quarantined still held. Such a record is split at its first physical line instead.
_MERGED_ERRORS = ("UNQUOTED VALUE", "LINE SIZE OVER MAXIMUM")


def _line_start(piece: Path, offset: int) -> int:
    """The byte offset where the physical line holding `offset` begins."""
    with piece.open("rb") as fh:
        pos = offset
        while pos > 0:
            lo = max(0, pos - 65536)
            fh.seek(lo)
            found = fh.read(pos - lo).rfind(b"\n")
            if found >= 0:
                return lo + found + 1
            pos = lo
    return 0


def _line_numbers(piece: Path, offsets: list[int]) -> dict[int, int]:
    """1-based physical line number of each byte offset, in one streamed pass."""
    numbers, line, done = {}, 1, 0
    with piece.open("rb") as fh:
        for offset in sorted(set(offsets)):
            while done < offset:
                chunk = fh.read(min(1 << 20, offset - done))
                if not chunk:
                    break
                line += chunk.count(b"\n")
                done += len(chunk)
            numbers[offset] = line
    return numbers


def _split_at(piece: Path, start: int, directory: Path, n: int) -> tuple[Path, bytes, Path]:
    """(the piece before byte `start`, the physical line at `start`, header + what follows)."""
    before, after = directory / f"piece{n}a.csv", directory / f"piece{n}b.csv"
    with piece.open("rb") as src, before.open("wb") as a, after.open("wb") as b:
        header = src.readline()
        b.write(header)
        src.seek(0)
        remaining = start
        while remaining > 0:
            chunk = src.read(min(1 << 20, remaining))
            a.write(chunk)
            remaining -= len(chunk)
        broken = src.readline()
        shutil.copyfileobj(src, b)
    return before, broken, after


Found = list[tuple[int, str, str, str | None]]  # (byte offset, error types, messages, record)


def _read_piece(con: duckdb.DuckDBPyConnection, table: str, piece: Path, options: str) -> Found:
    """The piece's rows as temp table `table`; its rejects, one per record, by the byte offset
    where the record starts."""
    rej, scan = "stage_rejects", "stage_scan"
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {scan}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT * FROM read_csv({lit(str(piece))}, {options}, store_rejects = true,
                      rejects_table = {lit(rej)}, rejects_scan = {lit(scan)})"""
    )
    # One record can fail several ways (each bad column); it is one quarantined row.
    rows = con.execute(
        f"""SELECT min(line_byte_position) - 1, string_agg(DISTINCT error_type, ', '),
                   string_agg(DISTINCT error_message, '; '), any_value(csv_line)
        FROM {rej} GROUP BY line ORDER BY line"""
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {scan}")
    if not rows:
        return []
    # DuckDB's line_byte_position is the record's first byte counted from 1, or (after a CRLF)
    # from 0: the line break before it. A record never starts with a line break.
    found = []
    with piece.open("rb") as fh:
        for pos, t, m, raw in rows:
            pos = max(0, int(pos))
            fh.seek(pos)
            head = fh.read(2)
            pos += len(head) - len(head.lstrip(b"\r\n"))
            found.append((pos, t, m, raw))
    return found


def _first_merged(found: Found) -> int | None:
    for pos, etypes, _msgs, raw in found:
        if any(e in etypes for e in _MERGED_ERRORS) and raw is not None and "\n" in raw:
            return pos
    return None


def _rejects(piece: Path, found: Found, offset: int) -> list[Reject]:
    """Rejects named by the physical line where their record starts (line k of the piece is
    line `offset + k` of the file), as an editor shows it."""
    lines = _line_numbers(piece, [pos for pos, *_ in found]) if found else {}
    out = []
    for pos, etypes, msgs, raw in found:
        line = offset + lines[pos]
        out.append(Reject(line, f"line {line}: malformed CSV ({etypes.lower()}): {msgs}", raw))
    return out


def _csv_rows(con: duckdb.DuckDBPyConnection, path: Path, options: str) -> list[Reject]:
    """Read the file into temp table stage_rows, in file order; a record merged by an
    unterminated quote is cut to its first physical line (quarantined) and the lines after it
    are read again as records of their own. Files without one are read once, straight in."""
    found = _read_piece(con, "stage_rows", path, options)
    merged = _first_merged(found)
    if merged is None:
        return _rejects(path, found, 0)
    con.execute("CREATE OR REPLACE TEMP TABLE stage_rows AS SELECT * FROM stage_rows LIMIT 0")
    rejects: list[Reject] = []
    with tempfile.TemporaryDirectory(prefix="ticket-audit-csv-") as tmp:
        piece, offset, cuts = path, 0, 0
        while merged is not None:
            start = _line_start(piece, merged)
            line = offset + _line_numbers(piece, [start])[start]
            before, broken, after = _split_at(piece, start, Path(tmp), cuts)
            # What precedes the merged record reads as before; nothing in it is merged.
            rejects += _rejects(before, _read_piece(con, "stage_piece", before, options), offset)
            con.execute("INSERT INTO stage_rows SELECT * FROM stage_piece")
            rejects.append(
                Reject(
                    line,
                    f"line {line}: malformed CSV (unterminated quote): the record is cut at "
                    "the end of this line; the lines after it are read as records of their own",
                    broken.decode("utf-8", "replace").rstrip("\r\n"),
                )
            )
            piece, offset, cuts = after, line - 1, cuts + 1
            found = _read_piece(con, "stage_piece", piece, options)
            merged = _first_merged(found)
        con.execute("INSERT INTO stage_rows SELECT * FROM stage_piece")
        con.execute("DROP TABLE stage_piece")
        rejects += _rejects(piece, found, offset)
    return rejects


def _csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    lineage_sql: str,
    encoding: str,
    delimiter: str,
    label: str,
    line_bytes: int,
) -> tuple[list[Reject], list[str], str, str]:
    header = _header(path, encoding, delimiter, label)
    options = _csv_options(header, encoding, delimiter, line_bytes)
    # DuckDB checks a value's encoding only when a query reads its column, so a line with a bad
    # byte in a column the query does not read is kept. The raw view reads every column, so it
    # drops exactly the lines the load did.
    every_column = " + ".join(f"coalesce(strlen({q(c)}), 0)" for c in header) + " >= 0"
    # The rows are copied once into a temp table: the mapping reads them several times, and
    # a fresh temp table keeps file order, so its rowids number the rows without a window.
    rejects = _csv_rows(con, path, options)
    # Inside a transaction rowids start at a large offset: number from the first one.
    first = con.execute("SELECT coalesce(min(rowid), 0) FROM stage_rows").fetchone()[0]
    staging = f"SELECT {lineage_sql}, rowid - {first} + 1 AS _row_number, * FROM stage_rows"
    # The raw zone's view numbers the same lines in file order (insertion order is kept).
    # (Lines recovered after an unterminated quote are not in it: DuckDB's own reading of the
    # copy merges them; they are in the canonical tables or in raw.quarantine.)
    select = (
        f"SELECT {lineage_sql}, row_number() OVER () AS _row_number, * FROM "
        f"(SELECT * FROM read_csv({FILE_TOKEN}, {options}, ignore_errors = true) "
        f"WHERE {every_column})"
    )
    return rejects, header, select, staging


# CASE keeps json_type from ever seeing invalid JSON (it raises instead of returning NULL).
_IS_OBJECT = "(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END)"


def _json_lines(path_sql: str, encoding: str, line_bytes: int, rejects: str = "") -> str:
    """Each line of the file as text. With `rejects` (a table name), the lines the reader
    cannot take (invalid encoding, over max_line_size) are kept there instead of skipped."""
    errors = (
        f"store_rejects = true, rejects_table = {lit(rejects)}, "
        f"rejects_scan = {lit(rejects + '_scan')}"
        if rejects
        else "ignore_errors = true"
    )
    # A byte-order mark before the first object is not part of it.
    return f"""SELECT row_number() OVER () AS _row_number, ltrim(line, chr(65279)) AS line
        FROM read_csv({path_sql}, columns = {{'line': 'VARCHAR'}}, header = false,
                      delim = '\x1e', quote = '', escape = '', auto_detect = false,
                      encoding = {lit(encoding)}, max_line_size = {line_bytes}, {errors})"""


def _jsonl(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    lineage_sql: str,
    encoding: str,
    needed: list[str],
    line_bytes: int,
) -> tuple[list[Reject], list[str], str]:
    lines, rej = "stage_lines", "stage_line_rejects"
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {rej}_scan")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {lines} AS "
        f"{_json_lines(lit(str(path)), encoding, line_bytes, rejects=rej)}"
    )
    # Lines the reader could not take at all (a byte that is not UTF-8): skipped silently,
    # they would be lost from the count of lines read.
    unreadable = con.execute(
        f"""SELECT line, string_agg(DISTINCT lower(error_type), ', '), any_value(csv_line)
        FROM {rej} GROUP BY line ORDER BY line"""
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {rej}_scan")
    rejects = [
        Reject(int(n), f"line {n}: unreadable line ({etypes})", raw)
        for n, etypes, raw in unreadable
    ]
    bad = con.execute(
        f"""SELECT _row_number, line FROM {lines}
        WHERE trim(line) <> '' AND NOT {_IS_OBJECT}"""
    ).fetchall()
    rejects += [Reject(int(n), f"line {n}: not a JSON object", raw) for n, raw in bad]
    # Keep only parseable objects before touching their keys: JSON functions raise on bad input.
    con.execute(f"DELETE FROM {lines} WHERE trim(line) = '' OR NOT {_IS_OBJECT}")
    present = {
        r[0]
        for r in con.execute(f"SELECT DISTINCT unnest(json_keys(line)) FROM {lines}").fetchall()
    }
    con.execute(f"DROP TABLE {lines}")
    cols = [c for c in needed if c in present]
    # Guarded per value too: the optimizer may evaluate a projection before the WHERE.
    extracts = "".join(
        f", CASE WHEN {_IS_OBJECT} THEN json_extract_string(line, "
        f"{lit('$.' + chr(34) + c + chr(34))}) END AS {q(c)}"
        for c in cols
    )
    select = (
        f"SELECT {lineage_sql}, _row_number{extracts} "
        f"FROM ({_json_lines(FILE_TOKEN, encoding, line_bytes)}) "
        f"WHERE trim(line) <> '' AND {_IS_OBJECT}"
    )
    return rejects, sorted(present), select


def _parquet(con: duckdb.DuckDBPyConnection, path: Path, lineage_sql: str) -> str:
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()
    casts = ", ".join(
        (
            f"to_json({q(name)})::VARCHAR"
            if ("[]" in typ or typ.startswith(("STRUCT", "MAP")))
            else f"CAST({q(name)} AS VARCHAR)"
        )
        + f" AS {q(name)}"
        for name, typ, *_ in described
    )
    return (
        f"SELECT file_row_number + 1 AS _row_number, {lineage_sql}, {casts} "
        f"FROM read_parquet({FILE_TOKEN}, file_row_number = true)"
    )


def file_columns(
    path: Path, fmt: str, encoding: str, delimiter: str, label: str, con: duckdb.DuckDBPyConnection
) -> list[str] | None:
    """Column names known before reading the rows (CSV header, Parquet schema); None for JSONL."""
    if fmt == "csv":
        return _header(path, encoding, delimiter, label)
    if fmt == "parquet":
        return [
            r[0]
            for r in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})"
            ).fetchall()
        ]
    return None


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    fmt: str,
    lineage_sql: str,
    label: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
    needed_columns: list[str],
    line_bytes: int = MIN_LINE_BYTES,
    shown: Path | None = None,
) -> Staged:
    """Expose one file's rows as the temp view `stage` (all text, `_row_number`, lineage).

    `Staged.select_sql` is the view's SELECT with the file's path left as `FILE_TOKEN`: the
    raw zone reads the kept copy through it. Lines the reader cannot parse come back as
    rejects.
    """
    where = f"{label}, file {shown or path}"
    if not path.is_file():
        raise SourceUnavailableError(f"{where}: file not found")
    if path.stat().st_size == 0:
        raise IngestError(f"{where}: file is empty (0 bytes), nothing to load")
    try:
        columns = file_columns(path, fmt, encoding, delimiter, where, con)
        if columns is not None:
            missing = [c for c in needed_columns if c not in columns]
            if missing:
                raise IngestError(
                    f"{where}: mapped column(s) {missing} not in the file; columns present: {columns}"
                )
        rejects: list[Reject] = []
        staging = None
        if fmt == "csv":
            rejects, _, select, staging = _csv(
                con, path, lineage_sql, encoding, delimiter, where, line_bytes
            )
        elif fmt == "jsonl":
            rejects, present, select = _jsonl(
                con, path, lineage_sql, encoding, needed_columns, line_bytes
            )
            missing = [c for c in needed_columns if c not in present]
            if missing:
                # A key absent from every object of the file is a mapping error, as for CSV.
                raise IngestError(f"{where}: mapped key(s) {missing} appear in no JSON object")
            columns = [c for c in needed_columns if c in present]
        else:
            select = _parquet(con, path, lineage_sql)
        staging = staging or select.replace(FILE_TOKEN, lit(str(path)))
        con.execute(f"CREATE OR REPLACE TEMP VIEW stage AS {staging}")
        rows = con.execute("SELECT count(*) FROM stage").fetchone()[0]
    except duckdb.Error as exc:
        raise IngestError(f"{where}: cannot be read as {fmt}: {str(exc).splitlines()[0]}") from None
    return Staged("stage", str(path), rows, columns or [], rejects, select)
