"""Small helpers for the connector tests: configs with a private DuckDB file, table reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ticket_audit.config import AuditConfig, parse_config
from ticket_audit.store import open_store


def config(tmp_path: Path, *sources: dict[str, Any], **ingest: Any) -> AuditConfig:
    return parse_config(
        {
            "audit": {"duckdb_path": str(tmp_path / "audit.duckdb"), "output_dir": "out"},
            "ingest": ingest,
            "sources": list(sources),
        },
        base_dir=tmp_path,
    )


def query(cfg: AuditConfig, sql: str, params: list | None = None) -> list[tuple]:
    with open_store(cfg.duckdb_path) as con:
        return con.execute(sql, params or []).fetchall()


def tickets(cfg: AuditConfig, columns: str = "*") -> list[dict[str, Any]]:
    with open_store(cfg.duckdb_path) as con:
        cur = con.execute(f"SELECT {columns} FROM canonical.tickets ORDER BY source, ticket_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def cursor(cfg: AuditConfig, source: str) -> str | None:
    rows = query(cfg, "SELECT cursor FROM audit.source_cursors WHERE source = ?", [source])
    return rows[0][0] if rows else None


def balanced(cfg: AuditConfig) -> bool:
    """Every load log row keeps rows read = rows loaded + rows quarantined."""
    bad = query(
        cfg, "SELECT count(*) FROM audit.load_log WHERE rows_read <> rows_loaded + rows_quarantined"
    )
    return bad[0][0] == 0


def no_duplicates(cfg: AuditConfig) -> bool:
    dupes = query(
        cfg,
        "SELECT count(*) FROM (SELECT source, ticket_id FROM canonical.tickets GROUP BY ALL "
        "HAVING count(*) > 1)",
    )
    mdupes = query(
        cfg,
        "SELECT count(*) FROM (SELECT source, ticket_id, seq FROM canonical.messages "
        "GROUP BY ALL HAVING count(*) > 1)",
    )
    return dupes[0][0] == 0 and mdupes[0][0] == 0
