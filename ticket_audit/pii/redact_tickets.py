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

import polars as pl

from ticket_audit.config import AuditConfig
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.redact import Redactor
from ticket_audit.pii.scan_tickets import Log, Store, scan_salt
from ticket_audit.pii.tables import ensure_pii_tables, table_columns
from ticket_audit.pii.ticket_texts import (
    LIST_FIELDS,
    WindowQuery,
    q,
    query_polars,
    read_texts,
    text_fields,
    window_fingerprints,
)
from ticket_audit.store import transaction


@dataclass
class RedactResult:
    tickets_in_window: int = 0
    tickets_redacted: int = 0
    tickets_waiting_for_scan: int = 0
    texts_changed: int = 0
    redacted_rows_in_window: int = 0
    # Redacted rows written again: tickets redacted now, and tickets whose other columns or
    # messages changed in canonical; every other row of the window is kept as it is.
    tickets_rewritten: int = 0

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
        fps, todo = _tickets_to_redact(con, window, fields, scan_salt(cfg, hasher))
        result.tickets_in_window = fps.height
        result.tickets_waiting_for_scan = fps.filter(~_CURRENT).height
        if todo.height:
            tickets, messages = read_texts(con, todo, fields)
            found = _findings_of(con, todo)

    staged_t = staged_m = None
    if todo.height:
        texts = _TextRedactor(Redactor(cfg.pii, hasher), found)
        staged_t = tickets.select("source", "ticket_id", *fields).with_columns(
            [
                texts.list_column(tickets, f)
                if f in LIST_FIELDS
                else texts.column(tickets, f, pl.lit(f))
                for f in fields
            ]
        )
        staged_m = messages.select("source", "ticket_id", "seq", "body").with_columns(
            texts.column(messages, "body", pl.format("message:{}", "seq"))
        )
        result.texts_changed = texts.changed
        result.tickets_redacted = todo.height
        log(
            f"PII redaction: {todo.height:,} tickets redacted, {result.texts_changed:,} texts changed"
        )

    with store() as con:
        ensure_pii_tables(con)
        result.tickets_rewritten = _write_window(con, window, fields, staged_t, staged_m, todo)
        result.redacted_rows_in_window = con.execute(
            f"SELECT count(*) FROM audit.redacted_tickets WHERE {window.where}", list(window.params)
        ).fetchone()[0]
    if result.tickets_waiting_for_scan:
        log(
            f"PII redaction: {result.tickets_waiting_for_scan:,} tickets changed since their scan; "
            "they keep their earlier redacted text until pii_findings runs again"
        )
    return result


# The ticket's findings are current: the text scanned is the text now.
_CURRENT = pl.col("scanned_hash").is_not_null() & (pl.col("scanned_hash") == pl.col("text_hash"))


def _tickets_to_redact(
    con, window: WindowQuery, fields: list[str], salt: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The window's tickets with their fingerprints, and those to redact now: current
    findings, and no redacted row of the text as it is now."""
    fps = window_fingerprints(con, window, fields, salt)
    present = query_polars(
        con,
        f"SELECT source, ticket_id, true AS present FROM audit.redacted_tickets "
        f"WHERE {window.where}",
        list(window.params),
    )
    fps = fps.join(present, on=["source", "ticket_id"], how="left")
    todo = fps.filter(
        _CURRENT
        & (
            (pl.col("redacted_hash").is_null())
            | (pl.col("redacted_hash") != pl.col("text_hash"))
            | pl.col("present").is_null()
        )
    )
    return fps, todo


def _findings_of(con, todo: pl.DataFrame) -> pl.DataFrame:
    con.register("_todo", todo.select("source", "ticket_id").to_arrow())
    try:
        return query_polars(
            con,
            'SELECT f.source, f.ticket_id, f.field, f.entity_type, f.start, f."end", f.score, '
            "f.recognizer FROM audit.pii_findings f SEMI JOIN _todo k "
            "ON f.source = k.source AND f.ticket_id = k.ticket_id",
        )
    finally:
        con.unregister("_todo")


class _TextRedactor:
    """Columns of texts with each text's findings redacted; counts the texts it changed."""

    def __init__(self, redactor: Redactor, found: pl.DataFrame):
        self.redactor = redactor
        self.changed = 0
        self.by_text: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
        for s, t, fld, et, a, b, sc, rec in found.iter_rows():
            self.by_text[(s, t, fld)].append(Finding(a, b, et, sc, rec))

    def _redact(self, source: str, ticket_id: str, name: str, text):
        fs = self.by_text.get((source, ticket_id, name))
        if not fs:
            return text
        self.changed += 1
        return self.redactor.redact(text, sorted(fs, key=lambda f: f.start))

    def column(self, frame: pl.DataFrame, column: str, field: pl.Expr) -> pl.Series:
        """`column` of `frame` with the findings of each text redacted (`field`: the name
        the scan gave the text). A plain loop over the rows: a per-row expression built a
        Python dict for every row."""
        out = [
            self._redact(source, ticket_id, name, text)
            for source, ticket_id, name, text in frame.select(
                "source", "ticket_id", field, column
            ).iter_rows()
        ]
        return pl.Series(column, out, dtype=pl.Utf8)

    def list_column(self, frame: pl.DataFrame, column: str) -> pl.Series:
        """A list column (tags) with each element redacted as the text `<column>:<i>`."""
        out = [
            [self._redact(source, ticket_id, f"{column}:{i}", t) for i, t in enumerate(values)]
            if values
            else values
            for source, ticket_id, values in frame.select("source", "ticket_id", column).iter_rows()
        ]
        return pl.Series(column, out, dtype=pl.List(pl.Utf8))


def _empty_like(con, table: str, columns: list[str]) -> pl.DataFrame:
    return query_polars(con, f"SELECT {', '.join(q(c) for c in columns)} FROM {table} LIMIT 0")


def _differs(con, table: str, skip: list[str], keys: list[str]) -> str:
    """SQL condition: row `c` of canonical.`table` differs from row `r` of its redacted copy
    in a column other than the text columns `skip` and the join `keys`."""
    cols = [q(c) for c, _ in table_columns(con, "canonical", table) if c not in {*skip, *keys}]
    if not cols:
        return "false"
    return (
        f"row({', '.join('c.' + c for c in cols)}) IS DISTINCT FROM "
        f"row({', '.join('r.' + c for c in cols)})"
    )


def _write_window(con, window: WindowQuery, fields: list[str], staged_t, staged_m, todo) -> int:
    """Rewrite the redacted rows of the window's tickets that need it: tickets redacted now,
    tickets whose other columns or messages changed in canonical since their redacted row
    was written (a status update, a message made public), and tickets that left the window
    or canonical. Every other redacted row is already what a rebuild would write, so a week
    of new tickets rewrites that week, not its month."""
    if staged_t is None:
        staged_t = _empty_like(con, "audit.redacted_tickets", ["source", "ticket_id", *fields])
        staged_m = _empty_like(
            con, "audit.redacted_messages", ["source", "ticket_id", "seq", "body"]
        )
        todo = pl.DataFrame(
            {"source": [], "ticket_id": [], "text_hash": []},
            schema={"source": pl.Utf8, "ticket_id": pl.Utf8, "text_hash": pl.Utf8},
        )
    views = {
        "_staged_t": staged_t.to_arrow(),
        "_staged_m": staged_m.to_arrow(),
        "_done": todo.select("source", "ticket_id", "text_hash").to_arrow(),
    }
    try:
        with transaction(con, **views):
            _keys_to_rewrite(con, window, fields)
            rewritten = _rewrite(con, fields)
    finally:
        for name in ("_wc", "_k", "_rt", "_rm"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return rewritten


def _keys_to_rewrite(con, window: WindowQuery, fields: list[str]) -> None:
    """`_k`: the tickets whose redacted rows are written again (`_wc`: the window's tickets)."""
    ticket_changed = _differs(con, "tickets", fields, ["source", "ticket_id"])
    message_changed = _differs(con, "messages", ["body"], ["source", "ticket_id", "seq"])
    params = list(window.params)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _wc AS
        SELECT * FROM canonical.tickets WHERE {window.where}""",
        params,
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _k AS
        SELECT source, ticket_id FROM _staged_t
        UNION
        SELECT c.source, c.ticket_id FROM _wc c
        JOIN audit.redacted_tickets r ON r.source = c.source AND r.ticket_id = c.ticket_id
        WHERE {ticket_changed}
        UNION
        SELECT r.source, r.ticket_id FROM audit.redacted_tickets r
        WHERE ({window.where})
          AND NOT EXISTS (SELECT 1 FROM _wc c
                          WHERE c.source = r.source AND c.ticket_id = r.ticket_id)
        UNION
        SELECT coalesce(c.source, r.source), coalesce(c.ticket_id, r.ticket_id)
        FROM (SELECT m.* FROM canonical.messages m
              SEMI JOIN _wc w ON w.source = m.source AND w.ticket_id = m.ticket_id) c
        FULL JOIN (SELECT m.* FROM audit.redacted_messages m
                   SEMI JOIN _wc w ON w.source = m.source AND w.ticket_id = m.ticket_id) r
          ON r.source = c.source AND r.ticket_id = c.ticket_id AND r.seq = c.seq
        WHERE c.ticket_id IS NULL OR r.ticket_id IS NULL OR {message_changed}""",
        params,
    )


def _rewrite(con, fields: list[str]) -> int:
    """The `_k` tickets' redacted rows written again; returns how many tickets."""
    replace_t = ", ".join(
        f"CASE WHEN n.ticket_id IS NOT NULL THEN n.{q(f)} ELSE r.{q(f)} END AS {q(f)}"
        for f in fields
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rt AS
        SELECT c.* REPLACE ({replace_t})
        FROM (SELECT * FROM _wc SEMI JOIN _k USING (source, ticket_id)) c
        LEFT JOIN _staged_t n ON n.source = c.source AND n.ticket_id = c.ticket_id
        LEFT JOIN audit.redacted_tickets r ON r.source = c.source AND r.ticket_id = c.ticket_id
        WHERE n.ticket_id IS NOT NULL OR r.ticket_id IS NOT NULL"""
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
    # Rows being rewritten and tickets that left canonical go; the rebuilt rows come back.
    con.execute(
        """DELETE FROM audit.redacted_messages m
        WHERE EXISTS (SELECT 1 FROM _k k WHERE k.source = m.source AND k.ticket_id = m.ticket_id)
        OR NOT EXISTS (SELECT 1 FROM canonical.tickets c
                       WHERE c.source = m.source AND c.ticket_id = m.ticket_id)"""
    )
    con.execute(
        """DELETE FROM audit.redacted_tickets r
        WHERE EXISTS (SELECT 1 FROM _k k WHERE k.source = r.source AND k.ticket_id = r.ticket_id)
        OR NOT EXISTS (SELECT 1 FROM canonical.tickets c
                       WHERE c.source = r.source AND c.ticket_id = r.ticket_id)"""
    )
    inserted = con.execute("INSERT INTO audit.redacted_tickets SELECT * FROM _rt")
    rewritten = inserted.fetchall()[0][0]
    con.execute("INSERT INTO audit.redacted_messages SELECT * FROM _rm")
    con.execute(
        """UPDATE audit.pii_scan_state s SET redacted_hash = d.text_hash, residual_hash = NULL
        FROM _done d WHERE s.source = d.source AND s.ticket_id = d.ticket_id"""
    )
    return rewritten
