"""The store's shared transaction: all or nothing, views gone afterwards."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from ticket_audit.store import transaction


def _views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}


def test_a_transaction_commits_its_statements_and_drops_its_views() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    with transaction(con, _rows=pa.table({"x": [1, 2, 3]})):
        con.execute("INSERT INTO t SELECT x FROM _rows")
    assert con.execute("SELECT sum(x) FROM t").fetchall()[0][0] == 6
    assert "_rows" not in _views(con)


def test_a_failing_block_rolls_back_everything_and_drops_its_views() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    con.execute("INSERT INTO t VALUES (7)")
    rows = pa.table({"x": [1, 2, 3]})
    with pytest.raises(RuntimeError, match="half-way"), transaction(con, _rows=rows):
        con.execute("DELETE FROM t")
        con.execute("INSERT INTO t SELECT x FROM _rows")
        raise RuntimeError("half-way")
    assert con.execute("SELECT list(x) FROM t").fetchall()[0][0] == [7]
    assert "_rows" not in _views(con)
