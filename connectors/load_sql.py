"""SQL both loaders share (the file loader and the chunked database/API loader): the raw
table of a source, the lineage columns, the rows a load did not put into canonical."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb

from connectors.mapping import lit, q


@contextmanager
def filter_pushdown_off(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Pushed below the mapping, `_reason IS NULL` would parse every value twice (once for the
    check, once for the column); evaluated above it, each is computed once (35% of a load)."""
    (before,) = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {lit(before or '')}")


def ensure_raw_table(con: duckdb.DuckDBPyConnection, name: str, columns: list[str]) -> None:
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS raw.{q(name)} (_source VARCHAR, _origin VARCHAR,
        _row_number BIGINT, _load_id VARCHAR, _loaded_at TIMESTAMP)"""
    )
    existing = {r[0] for r in con.execute(f"DESCRIBE raw.{q(name)}").fetchall()}
    for col in columns:
        if col not in existing:
            # Schema drift: a new export column is kept, older rows read NULL for it.
            con.execute(f"ALTER TABLE raw.{q(name)} ADD COLUMN {q(col)} VARCHAR")


def lineage_sql(source: str, origin: str, load_id: str, now: datetime) -> str:
    return (
        f"{lit(source)} AS _source, {lit(origin)} AS _origin, {lit(load_id)} AS _load_id, "
        f"TIMESTAMP {lit(now.isoformat(sep=' '))} AS _loaded_at"
    )


def not_loaded_sql(table: str, source: str, load_id: str) -> str:
    """Row numbers of `table` that the load `load_id` did not put into canonical.tickets."""
    return (
        f"SELECT s._row_number FROM {table} s ANTI JOIN (SELECT row_number FROM "
        f"canonical.tickets WHERE source = {lit(source)} AND load_id = {lit(load_id)}) c "
        "ON c.row_number = s._row_number"
    )
