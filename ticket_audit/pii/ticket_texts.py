"""Reading ticket texts for the PII layer, and fingerprints that say which ones changed.

A ticket's fingerprint is a salted SHA-256 (salt derived from the hash key) over its month,
its text fields and its messages, plus the fingerprint of the `pii` settings and of this
code's detection rules: a changed text, a new recognizer setting or a new key all mean
"scan again", and nothing else does. Computed inside DuckDB, so unchanged tickets never
travel to Python.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import duckdb
import polars as pl

from ticket_audit.config import PERFORMANCE_KEYS, AuditConfig
from ticket_audit.config.pii import PiiSection
from ticket_audit.model import TEXT_TICKET_FIELDS

# Bump when recognizers change what they find: every ticket is scanned again.
DETECTION_VERSION = "2026.12.19.2"


# Label and metadata columns: they leave the raw zone too (the redacted dataset, the
# scorecard's category and team tables, audit.*), and a customer or an agent types anything
# into them. Scanned with the pattern recognizers only: a model reads "Jira Software" or a
# product name in a one-word label as a person.
LABEL_FIELDS: tuple[str, ...] = ("category", "subcategory", "product", "team", "assignee_id")
# List columns: each element is scanned as its own text, named `<field>:<i>`.
LIST_FIELDS: tuple[str, ...] = ("tags", "labels")


def text_fields(cfg: AuditConfig) -> list[str]:
    """Ticket columns scanned and redacted: the model's text fields, any a source names, the
    label fields and the list fields."""
    fields = list(TEXT_TICKET_FIELDS)
    for mapping in cfg.mappings():
        for f in mapping.text_fields:
            if f not in fields:
                fields.append(f)
    for f in (*LABEL_FIELDS, *LIST_FIELDS):
        if f not in fields:
            fields.append(f)
    return fields


def is_label(field: str) -> bool:
    """Whether a scanned text (named as in `audit.pii_findings.field`) is a label or tag."""
    return field in LABEL_FIELDS or field.split(":", 1)[0] in LIST_FIELDS


def settings_fingerprint(pii: PiiSection) -> str:
    settings = {
        k: v for k, v in pii.model_dump(mode="json").items() if k not in PERFORMANCE_KEYS["pii"]
    }
    blob = json.dumps({"v": DETECTION_VERSION, "pii": settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def query_polars(
    con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None
) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class WindowQuery:
    """SQL predicate on `created_month` (from the partition window) plus its parameters."""

    where: str = "TRUE"
    params: tuple = ()


def window_fingerprints(
    con: duckdb.DuckDBPyConnection, window: WindowQuery, fields: list[str], salt: str
) -> pl.DataFrame:
    """Per ticket of the window: current fingerprint and the state recorded for it."""
    parts = " || chr(31) || ".join(f"coalesce(CAST(w.{q(f)} AS VARCHAR), '')" for f in fields)
    sql = f"""
    WITH w AS (
        SELECT source, ticket_id, created_month, {", ".join(q(f) for f in fields)}
        FROM canonical.tickets WHERE {window.where}
    ),
    m AS (
        SELECT msg.source, msg.ticket_id,
               string_agg(CAST(msg.seq AS VARCHAR) || chr(29) || coalesce(msg.body, ''), chr(30)
                          ORDER BY msg.seq) AS bodies
        FROM canonical.messages msg
        SEMI JOIN w ON msg.source = w.source AND msg.ticket_id = w.ticket_id
        GROUP BY ALL
    )
    SELECT w.source, w.ticket_id, w.created_month,
           sha256(? || chr(31) || coalesce(CAST(w.created_month AS VARCHAR), '') || chr(31)
                  || {parts} || chr(31) || coalesce(m.bodies, '')) AS text_hash,
           s.text_hash AS scanned_hash, s.redacted_hash, s.residual_hash
    FROM w
    LEFT JOIN m ON m.source = w.source AND m.ticket_id = w.ticket_id
    LEFT JOIN audit.pii_scan_state s ON s.source = w.source AND s.ticket_id = w.ticket_id
    """
    return query_polars(con, sql, [*window.params, salt])


def read_texts(
    con: duckdb.DuckDBPyConnection, keys: pl.DataFrame, fields: list[str], *, redacted: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ticket texts, message bodies) of the tickets in `keys` (source, ticket_id).

    `redacted` reads the redacted tables instead of canonical (for the residual scan).
    """
    schema = "audit" if redacted else "canonical"
    prefix = "redacted_" if redacted else ""
    con.register("_pii_keys", keys.select("source", "ticket_id").to_arrow())
    try:
        tickets = query_polars(
            con,
            f"SELECT t.source, t.ticket_id, t.created_month, {', '.join('t.' + q(f) for f in fields)} "
            f"FROM {schema}.{prefix}tickets t "
            "SEMI JOIN _pii_keys k ON t.source = k.source AND t.ticket_id = k.ticket_id",
        )
        messages = query_polars(
            con,
            f"SELECT m.source, m.ticket_id, m.seq, m.body FROM {schema}.{prefix}messages m "
            "SEMI JOIN _pii_keys k ON m.source = k.source AND m.ticket_id = k.ticket_id "
            "ORDER BY m.source, m.ticket_id, m.seq",
        )
    finally:
        con.unregister("_pii_keys")
    return tickets, messages


@dataclass
class TextItem:
    source: str
    ticket_id: str
    created_month: object
    field: str
    text: str | None


def flatten(tickets: pl.DataFrame, messages: pl.DataFrame, fields: list[str]) -> list[TextItem]:
    """Every text of the tickets, named as in `audit.pii_findings.field`: the ticket column,
    or `message:<seq>`."""
    months = {}
    items: list[TextItem] = []
    for row in tickets.iter_rows(named=True):
        months[(row["source"], row["ticket_id"])] = row["created_month"]
        for f in fields:
            value = row[f]
            if f in LIST_FIELDS:
                for i, element in enumerate(value or ()):
                    items.append(
                        TextItem(
                            row["source"],
                            row["ticket_id"],
                            row["created_month"],
                            f"{f}:{i}",
                            element,
                        )
                    )
            else:
                items.append(
                    TextItem(row["source"], row["ticket_id"], row["created_month"], f, value)
                )
    for source, ticket_id, seq, body in messages.iter_rows():
        month = months.get((source, ticket_id))
        items.append(TextItem(source, ticket_id, month, f"message:{seq}", body))
    return items


def keys_frame(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.Utf8, "ticket_id": pl.Utf8}, orient="row")
