"""Build `audit.redacted_tickets` / `audit.redacted_messages` for a partition window.

Texts are redacted only for tickets whose findings are current (scanned text = text now);
everything else in a redacted row comes straight from canonical, so a status change shows up
without a rescan. No text reaches the redacted tables unscanned: a text field is either the
redaction of the text that was scanned or the ticket's earlier redacted version, and a ticket
with neither is left out until it has been scanned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ticket_audit.config import AuditConfig
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.redact import Redactor
from ticket_audit.pii.scan_tickets import Log, Store, scan_salt
from ticket_audit.pii.tables import ensure_pii_tables
from ticket_audit.pii.ticket_texts import (
    WindowQuery,
    q,
    query_polars,
    read_texts,
    text_fields,
    window_fingerprints,
)


@dataclass
class RedactResult:
    tickets_in_window: int = 0
    tickets_redacted: int = 0
    tickets_waiting_for_scan: int = 0
    texts_changed: int = 0
    redacted_rows_in_window: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def combine(cls, parts: list[RedactResult]) -> RedactResult:
        """One result for windows redacted one after another."""
        total = cls()
        for p in parts:
            for name, value in asdict(p).items():
                setattr(total, name, getattr(total, name) + value)
        return total


def redact_window(
    cfg: AuditConfig,
    store: Store,
    window: WindowQuery | None = None,
    *,
    log: Log = print,
    hasher: KeyedHasher | None = None,
) -> RedactResult:
    window = window or WindowQuery()
    hasher = hasher or KeyedHasher.from_env(cfg.audit.hash_key_env)
    fields = text_fields(cfg)
    result = RedactResult()

    with store() as con:
        ensure_pii_tables(con)
        fps = window_fingerprints(con, window, fields, scan_salt(cfg, hasher))
        present = query_polars(
            con,
            f"SELECT source, ticket_id, true AS present FROM audit.redacted_tickets "
            f"WHERE {window.where}",
            list(window.params),
        )
        fps = fps.join(present, on=["source", "ticket_id"], how="left")
        current = pl.col("scanned_hash").is_not_null() & (
            pl.col("scanned_hash") == pl.col("text_hash")
        )
        todo = fps.filter(
            current
            & (
                (pl.col("redacted_hash").is_null())
                | (pl.col("redacted_hash") != pl.col("text_hash"))
                | pl.col("present").is_null()
            )
        )
        result.tickets_in_window = fps.height
        result.tickets_waiting_for_scan = fps.filter(~current).height
        if todo.height:
            tickets, messages = read_texts(con, todo, fields)
            con.register("_todo", todo.select("source", "ticket_id").to_arrow())
            try:
                found = query_polars(
                    con,
                    'SELECT f.source, f.ticket_id, f.field, f.entity_type, f.start, f."end", f.score, '
                    "f.recognizer FROM audit.pii_findings f SEMI JOIN _todo k "
                    "ON f.source = k.source AND f.ticket_id = k.ticket_id",
                )
            finally:
                con.unregister("_todo")

    staged_t = staged_m = None
    if todo.height:
        by_text: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
        for s, t, fld, et, a, b, sc, rec in found.iter_rows():
            by_text[(s, t, fld)].append(Finding(a, b, et, sc, rec))
        redactor = Redactor(cfg.pii, hasher)

        def red(key: tuple[str, str, str], text: str | None) -> str | None:
            fs = by_text.get(key)
            if not fs:
                return text
            result.texts_changed += 1
            return redactor.redact(text, sorted(fs, key=lambda f: f.start))

        staged_t = tickets.select(
            "source",
            "ticket_id",
            *[
                pl.struct("source", "ticket_id", f)
                .map_elements(
                    lambda r, f=f: red((r["source"], r["ticket_id"], f), r[f]), return_dtype=pl.Utf8
                )
                .alias(f)
                for f in fields
            ],
        )
        staged_m = messages.select(
            "source",
            "ticket_id",
            "seq",
            pl.struct("source", "ticket_id", "seq", "body")
            .map_elements(
                lambda r: red((r["source"], r["ticket_id"], f"message:{r['seq']}"), r["body"]),
                return_dtype=pl.Utf8,
            )
            .alias("body"),
        )
        result.tickets_redacted = todo.height
        log(
            f"PII redaction: {todo.height:,} tickets redacted, {result.texts_changed:,} texts changed"
        )

    with store() as con:
        ensure_pii_tables(con)
        _write_window(con, window, fields, staged_t, staged_m, todo)
        result.redacted_rows_in_window = con.execute(
            f"SELECT count(*) FROM audit.redacted_tickets WHERE {window.where}", list(window.params)
        ).fetchone()[0]
    if result.tickets_waiting_for_scan:
        log(
            f"PII redaction: {result.tickets_waiting_for_scan:,} tickets changed since their scan; "
            "they keep their earlier redacted text until pii_findings runs again"
        )
    return result


def _empty_like(con, table: str, columns: list[str]) -> pl.DataFrame:
    return query_polars(con, f"SELECT {', '.join(q(c) for c in columns)} FROM {table} LIMIT 0")


def _write_window(con, window: WindowQuery, fields: list[str], staged_t, staged_m, todo) -> None:
    if staged_t is None:
        staged_t = _empty_like(con, "audit.redacted_tickets", ["source", "ticket_id", *fields])
        staged_m = _empty_like(
            con, "audit.redacted_messages", ["source", "ticket_id", "seq", "body"]
        )
        todo = pl.DataFrame(
            {"source": [], "ticket_id": [], "text_hash": []},
            schema={"source": pl.Utf8, "ticket_id": pl.Utf8, "text_hash": pl.Utf8},
        )
    con.register("_staged_t", staged_t.to_arrow())
    con.register("_staged_m", staged_m.to_arrow())
    con.register("_done", todo.select("source", "ticket_id", "text_hash").to_arrow())
    replace_t = ", ".join(
        f"CASE WHEN n.ticket_id IS NOT NULL THEN n.{q(f)} ELSE r.{q(f)} END AS {q(f)}"
        for f in fields
    )
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _rt AS
            SELECT c.* REPLACE ({replace_t})
            FROM (SELECT * FROM canonical.tickets WHERE {window.where}) c
            LEFT JOIN _staged_t n ON n.source = c.source AND n.ticket_id = c.ticket_id
            LEFT JOIN audit.redacted_tickets r ON r.source = c.source AND r.ticket_id = c.ticket_id
            WHERE n.ticket_id IS NOT NULL OR r.ticket_id IS NOT NULL""",
            list(window.params),
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _rm AS
            SELECT c.* REPLACE (CASE WHEN n.ticket_id IS NOT NULL THEN n.body ELSE r.body END AS body)
            FROM canonical.messages c
            SEMI JOIN _rt k ON k.source = c.source AND k.ticket_id = c.ticket_id
            LEFT JOIN _staged_m n ON n.source = c.source AND n.ticket_id = c.ticket_id AND n.seq = c.seq
            LEFT JOIN audit.redacted_messages r
                ON r.source = c.source AND r.ticket_id = c.ticket_id AND r.seq = c.seq
            LEFT JOIN _staged_t st ON st.source = c.source AND st.ticket_id = c.ticket_id
            WHERE n.ticket_id IS NOT NULL OR (st.ticket_id IS NULL AND r.ticket_id IS NOT NULL)"""
        )
        # Window rows (by either side's month), rows being rewritten, and tickets that left
        # canonical all go; the rebuilt rows come back.
        con.execute(
            f"""DELETE FROM audit.redacted_messages m WHERE EXISTS (
                SELECT 1 FROM audit.redacted_tickets r
                WHERE r.source = m.source AND r.ticket_id = m.ticket_id AND ({window.where}))
            OR EXISTS (SELECT 1 FROM _rt k WHERE k.source = m.source AND k.ticket_id = m.ticket_id)
            OR NOT EXISTS (SELECT 1 FROM canonical.tickets c
                           WHERE c.source = m.source AND c.ticket_id = m.ticket_id)""",
            list(window.params),
        )
        con.execute(
            f"""DELETE FROM audit.redacted_tickets r WHERE ({window.where})
            OR EXISTS (SELECT 1 FROM _rt k WHERE k.source = r.source AND k.ticket_id = r.ticket_id)
            OR NOT EXISTS (SELECT 1 FROM canonical.tickets c
                           WHERE c.source = r.source AND c.ticket_id = r.ticket_id)""",
            list(window.params),
        )
        con.execute("INSERT INTO audit.redacted_tickets SELECT * FROM _rt")
        con.execute("INSERT INTO audit.redacted_messages SELECT * FROM _rm")
        con.execute(
            """UPDATE audit.pii_scan_state s SET redacted_hash = d.text_hash, residual_hash = NULL
            FROM _done d WHERE s.source = d.source AND s.ticket_id = d.ticket_id"""
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("_staged_t", "_staged_m", "_done"):
            con.unregister(name)
        con.execute("DROP TABLE IF EXISTS _rt")
        con.execute("DROP TABLE IF EXISTS _rm")


_EXPORT_MONTH = """
SELECT t.*, coalesce(m.messages, []) AS messages
FROM (SELECT * FROM audit.redacted_tickets WHERE created_month IS NOT DISTINCT FROM ?) t
LEFT JOIN (
    SELECT source, ticket_id,
           list({'seq': seq, 'author_role': author_role, 'author_id': author_id,
                 'created_at': created_at, 'body': body, 'is_public': is_public}
                ORDER BY seq) AS messages
    FROM audit.redacted_messages r
    SEMI JOIN (SELECT source, ticket_id FROM audit.redacted_tickets
               WHERE created_month IS NOT DISTINCT FROM ?) k
        ON k.source = r.source AND k.ticket_id = r.ticket_id
    GROUP BY ALL
) m USING (source, ticket_id)
ORDER BY t.source, t.created_at, t.ticket_id
"""


def export_parquet(store: Store, output_dir: Path) -> tuple[Path, int]:
    """`redacted_tickets.parquet`: one row per redacted ticket, its conversation nested.

    Written a month at a time (one row group each, months in order): nesting a million
    tickets' conversations in one query outgrows the audit's memory.
    """
    from reports.files import written_atomically

    path = Path(output_dir) / "redacted_tickets.parquet"
    rows = 0
    with store() as con, written_atomically(path) as tmp:
        ensure_pii_tables(con)
        months = [
            m
            for (m,) in con.execute(
                "SELECT DISTINCT created_month FROM audit.redacted_tickets ORDER BY 1 NULLS LAST"
            ).fetchall()
        ] or [None]
        writer = None
        try:
            for month in months:
                table = con.execute(_EXPORT_MONTH, [month, month]).to_arrow_table()
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table)
                rows += table.num_rows
        finally:
            if writer is not None:
                writer.close()
    return path, rows
