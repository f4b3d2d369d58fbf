"""Build `audit.redacted_tickets` / `audit.redacted_messages` for a partition window.

Texts are redacted only for tickets whose findings are current (scanned text = text now);
everything else in a redacted row comes straight from canonical, so a status change shows up
without a rescan. No text reaches the redacted tables unscanned: a text field is either the
redaction of the text that was scanned or the ticket's earlier redacted version, and a ticket
with neither is left out until it has been scanned.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ticket_audit.config import AuditConfig
from ticket_audit.parquet_splice import SpliceError, splice
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.redact import Redactor
from ticket_audit.pii.scan_tickets import Log, Store, scan_salt
from ticket_audit.pii.tables import ensure_pii_tables, table_columns
from ticket_audit.pii.ticket_texts import (
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

        def red(frame: pl.DataFrame, column: str, field: pl.Expr) -> pl.Series:
            """`column` of `frame` with the findings of each text redacted (`field`: the
            name the scan gave the text). A plain loop over the rows: a per-row expression
            built a Python dict for every row."""
            out = []
            for source, ticket_id, name, text in frame.select(
                "source", "ticket_id", field, column
            ).iter_rows():
                fs = by_text.get((source, ticket_id, name))
                if fs:
                    result.texts_changed += 1
                    out.append(redactor.redact(text, sorted(fs, key=lambda f: f.start)))
                else:
                    out.append(text)
            return pl.Series(column, out, dtype=pl.Utf8)

        staged_t = tickets.select("source", "ticket_id", *fields).with_columns(
            [red(tickets, f, pl.lit(f)) for f in fields]
        )
        staged_m = messages.select("source", "ticket_id", "seq", "body").with_columns(
            red(messages, "body", pl.format("message:{}", "seq"))
        )
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
    replace_t = ", ".join(
        f"CASE WHEN n.ticket_id IS NOT NULL THEN n.{q(f)} ELSE r.{q(f)} END AS {q(f)}"
        for f in fields
    )
    ticket_changed = _differs(con, "tickets", fields, ["source", "ticket_id"])
    message_changed = _differs(con, "messages", ["body"], ["source", "ticket_id", "seq"])
    params = list(window.params)
    try:
        with transaction(con, **views):
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
    finally:
        for name in ("_wc", "_k", "_rt", "_rm"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return rewritten


# The tickets of a set of months (a list parameter, NULL standing for tickets without a
# month), each with its conversation nested; months in order, so each is one slice.
_EXPORT_MONTHS = """
WITH k AS (
    SELECT source, ticket_id FROM audit.redacted_tickets
    WHERE list_contains($months, created_month) OR (created_month IS NULL AND $undated))
SELECT t.*, coalesce(m.messages, []) AS messages
FROM (SELECT * FROM audit.redacted_tickets
      WHERE list_contains($months, created_month) OR (created_month IS NULL AND $undated)) t
LEFT JOIN (
    SELECT source, ticket_id,
           list({'seq': seq, 'author_role': author_role, 'author_id': author_id,
                 'created_at': created_at, 'body': body, 'is_public': is_public}
                ORDER BY seq) AS messages
    FROM audit.redacted_messages r
    SEMI JOIN k ON k.source = r.source AND k.ticket_id = r.ticket_id
    GROUP BY ALL
) m USING (source, ticket_id)
ORDER BY t.created_month NULLS LAST, t.source, t.created_at, t.ticket_id
"""
# Months built in one query, up to about this many tickets: one query per month reads the
# whole messages table each time, which made many small months (planted future dates)
# cost more than the month that grew.
BUILD_BATCH_TICKETS = 150_000


# Per month, a fingerprint of everything the export holds: tickets (every column) and their
# messages. A month whose fingerprint is unchanged is copied from the previous export.
_MONTH_FINGERPRINTS = """
WITH t AS (
    SELECT created_month, bit_xor(hash(t)) AS h, count(*) AS n
    FROM audit.redacted_tickets t GROUP BY ALL),
m AS (
    SELECT r.created_month, bit_xor(hash(m)) AS h
    FROM audit.redacted_messages m
    JOIN audit.redacted_tickets r ON r.source = m.source AND r.ticket_id = m.ticket_id
    GROUP BY ALL)
SELECT t.created_month, CAST(hash(t.h, coalesce(m.h, 0)) AS VARCHAR), t.n
FROM t LEFT JOIN m ON m.created_month IS NOT DISTINCT FROM t.created_month
ORDER BY 1 NULLS LAST
"""
# Key of the export's own Parquet metadata: [[month or null, fingerprint, rows], ...].
MONTHS_KEY = "ticket_audit.months"


def _previous_months(path: Path, schema: pa.Schema) -> tuple[pq.ParquetFile | None, dict]:
    """The previous export and {month: (fingerprint, its row groups)}; nothing when it is
    missing, unreadable, of another schema or not written by this function."""
    try:
        pf = pq.ParquetFile(path)
        meta = pf.metadata.metadata or {}
        if MONTHS_KEY.encode() not in meta or not pf.schema_arrow.equals(schema):
            return None, {}
        months, group = {}, 0
        for month, fingerprint, rows in json.loads(meta[MONTHS_KEY.encode()]):
            groups = []
            while rows > 0 and group < pf.metadata.num_row_groups:
                rows -= pf.metadata.row_group(group).num_rows
                groups.append(group)
                group += 1
            if rows != 0:  # row groups that do not add up to the months: not ours
                return None, {}
            months[month] = (fingerprint, groups)
        return pf, months
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return None, {}


def _month_params(months: list) -> dict:
    return {
        "months": [m for m in months if m is not None],
        "undated": any(m is None for m in months),
    }


@dataclass
class ExportResult:
    path: Path
    rows: int
    months_nested: int  # months built from the redacted tables
    months_copied: int  # months unchanged since the previous export, copied from it


@dataclass
class _Month:
    month: date | None
    fingerprint: str
    tickets: int
    kept: list[int] | None  # its row groups in the previous export, when unchanged

    @property
    def key(self) -> str | None:
        return self.month.isoformat() if self.month else None


def _write_months(con, path: Path, schema: pa.Schema, months: list[_Month], previous) -> None:
    """Months into a new Parquet file at `path`, in order: kept months decoded from the
    previous export, the others nested from the redacted tables, consecutive ones in one
    query of up to BUILD_BATCH_TICKETS tickets."""
    batch: list[_Month] = []
    writer = pq.ParquetWriter(path, schema, compression="zstd", write_page_index=False)

    def build() -> None:
        query = con.sql(_EXPORT_MONTHS, params=_month_params([m.month for m in batch]))
        table, first = query.to_arrow_table(), 0
        for m in batch:
            writer.write_table(table.slice(first, m.tickets))
            first += m.tickets
        batch.clear()

    try:
        for m in months:
            if m.kept is not None:
                if batch:
                    build()
                writer.write_table(previous.read_row_groups(m.kept))
                continue
            if batch and sum(b.tickets for b in batch) + m.tickets > BUILD_BATCH_TICKETS:
                build()
            batch.append(m)
        if batch:
            build()
        writer.add_key_value_metadata({MONTHS_KEY: _months_json(months)})
    finally:
        writer.close()


def _months_json(months: list[_Month]) -> str:
    return json.dumps([[m.key, m.fingerprint, m.tickets] for m in months])


def export_parquet(store: Store, output_dir: Path) -> ExportResult:
    """`redacted_tickets.parquet`: one row per redacted ticket, its conversation nested.

    Written a month at a time (row groups of one month each, months in order): nesting a
    million tickets' conversations in one query outgrows the audit's memory. A month whose
    content is unchanged since the previous export keeps that file's row groups, copied byte
    for byte (`ticket_audit.parquet_splice`); only the changed months are nested again. A
    weekly re-audit changes one or two months of years.
    """
    from reports.files import written_atomically

    path = Path(output_dir) / "redacted_tickets.parquet"
    with store() as con, written_atomically(path) as tmp:
        ensure_pii_tables(con)
        rows = con.execute(_MONTH_FINGERPRINTS).fetchall() or [(None, "", 0)]
        empty = con.sql(f"SELECT * FROM ({_EXPORT_MONTHS}) LIMIT 0", params=_month_params([]))
        schema = empty.to_arrow_table().schema
        previous, before = _previous_months(path, schema)
        months = []
        for month, fingerprint, n in rows:
            kept = before.get(month.isoformat() if month else None)
            same = previous is not None and kept is not None and kept[0] == fingerprint
            months.append(_Month(month, fingerprint, n, kept[1] if same else None))
        copied = sum(m.kept is not None for m in months)
        result = ExportResult(path, sum(m.tickets for m in months), len(months) - copied, copied)
        if not copied:
            _write_months(con, tmp, schema, months, None)
            return result
        try:
            _splice_months(con, path, tmp, schema, months)
        except SpliceError:
            # A previous file this module cannot copy from (page indexes, say): decode it.
            _write_months(con, tmp, schema, months, previous)
    return result


def _splice_months(con, previous: Path, tmp: Path, schema: pa.Schema, months: list) -> None:
    """The changed months nested into a file of their own, then every month's row groups
    copied into `tmp` in month order, from that file or from the previous export."""
    built = tmp.with_name(tmp.name + ".months")
    try:
        changed = [m for m in months if m.kept is None]
        _write_months(con, built, schema, changed, None)
        _, groups = _previous_months(built, schema)
        parts: list[tuple[Path, list[int]]] = []
        for m in months:
            source, rgs = (previous, m.kept) if m.kept is not None else (built, groups[m.key][1])
            if parts and parts[-1][0] == source:
                parts[-1][1].extend(rgs)
            else:
                parts.append((source, list(rgs)))
        splice(parts, tmp, {MONTHS_KEY: _months_json(months)})
    finally:
        built.unlink(missing_ok=True)
