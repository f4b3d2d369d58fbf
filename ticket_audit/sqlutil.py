"""SQL helpers shared by the analysis layers: safe table names, table existence."""

from __future__ import annotations

import re

_TABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


def checked_table(name: str) -> str:
    if not _TABLE_RE.fullmatch(name):
        raise ValueError(f"not a table name: {name!r}")
    return name


def table_exists(con, name: str) -> bool:
    schema, _, table = checked_table(name).rpartition(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = coalesce(nullif(?, ''), current_schema()) AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )
