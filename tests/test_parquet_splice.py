"""Row groups copied between Parquet files byte for byte, footers rewritten."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ticket_audit.parquet_splice import SpliceError, decode, encode, splice


def _table(start: int, n: int) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([f"ticket {i}" if i % 7 else None for i in ids]),
            "at": pa.array([datetime(2026, 1, 1 + i % 28) for i in ids], pa.timestamp("us")),
            "score": pa.array([i / 3 for i in ids], pa.float64()),
            "flag": pa.array([i % 2 == 0 for i in ids]),
            "messages": pa.array(
                [[{"seq": j, "body": f"reply {i}.{j}"} for j in range(i % 4)] for i in ids],
                pa.list_(pa.struct([("seq", pa.int32()), ("body", pa.string())])),
            ),
        }
    )


def _write(path: Path, tables: list[pa.Table], **kwargs) -> Path:
    with pq.ParquetWriter(path, tables[0].schema, compression="zstd", **kwargs) as w:
        for t in tables:
            w.write_table(t)
    return path


def _footer(path: Path) -> bytes:
    data = path.read_bytes()
    n = struct.unpack("<I", data[-8:-4])[0]
    return data[-8 - n : -8]


def test_a_footer_decodes_and_encodes_to_the_same_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.parquet", [_table(0, 300), _table(300, 50)])
    footer = _footer(path)
    assert encode(decode(footer)) == footer


def test_spliced_row_groups_read_back_equal_in_every_reader(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.parquet", [_table(0, 300), _table(300, 200), _table(500, 100)])
    b = _write(tmp_path / "b.parquet", [_table(1000, 150), _table(1150, 10)])
    out = tmp_path / "out.parquet"
    rows = splice([(a, [0]), (b, [1, 0]), (a, [2])], out, {"k": "v"})

    expected = pa.concat_tables(
        [_table(0, 300), _table(1150, 10), _table(1000, 150), _table(500, 100)]
    )
    assert rows == expected.num_rows
    got = pq.read_table(out)
    assert got.equals(expected)
    assert pq.ParquetFile(out).metadata.metadata[b"k"] == b"v"
    assert pq.ParquetFile(out).metadata.num_row_groups == 4
    assert pl.read_parquet(out).equals(pl.from_arrow(expected))
    con = duckdb.connect()
    con.register("expected", expected)
    diff = con.execute(
        f"SELECT count(*) FROM (SELECT * FROM read_parquet('{out}') EXCEPT ALL SELECT * FROM expected)"
    ).fetchone()[0]
    assert diff == 0


def test_files_it_cannot_copy_from_are_refused(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.parquet", [_table(0, 10)])
    other = _write(tmp_path / "other.parquet", [_table(0, 10).drop_columns(["flag"])])
    with pytest.raises(SpliceError, match="schema"):
        splice([(a, [0]), (other, [0])], tmp_path / "x.parquet")
    indexed = _write(tmp_path / "indexed.parquet", [_table(0, 10)], write_page_index=True)
    with pytest.raises(SpliceError, match="page index"):
        splice([(indexed, [0])], tmp_path / "y.parquet")
    (tmp_path / "not.parquet").write_bytes(b"hello, this is not parquet")
    with pytest.raises(SpliceError, match="not a Parquet file"):
        splice([(tmp_path / "not.parquet", [0])], tmp_path / "z.parquet")
