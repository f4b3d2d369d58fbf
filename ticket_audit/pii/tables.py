"""DuckDB tables of the PII layer (schema `audit`: offsets, types and keyed hashes, never values).

- `audit.pii_findings`: one row per finding in the canonical text;
- `audit.pii_scan_state`: per ticket, the fingerprint of its text when it was scanned,
  redacted and residual-scanned, so a re-audit touches only new or changed tickets;
- `audit.redacted_tickets` / `audit.redacted_messages`: the canonical tables with every text
  field redacted (same columns, so anything that reads canonical can read these);
- `audit.pii_residual`: what the independent residual check finds in the redacted text;
- `audit.pii_masked`: placeholders earlier tools left, per text and style (never values);
- `audit.pii_languages`: free texts per ticket and detected language.
"""

from __future__ import annotations

import duckdb

FINDING_COLUMNS = (
    "source",
    "ticket_id",
    "field",
    "entity_type",
    "start",
    "end",
    "score",
    "recognizer",
    "value_hash",
    "created_month",
)

_FINDINGS_DDL = """(
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    entity_type VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    score DOUBLE NOT NULL,
    recognizer VARCHAR NOT NULL,
    value_hash VARCHAR NOT NULL,
    created_month DATE
)"""

DDL = (
    # Placeholders already in the canonical text, per text and style (`pii.masked_patterns`).
    """CREATE TABLE IF NOT EXISTS audit.pii_masked (
    source VARCHAR NOT NULL, ticket_id VARCHAR NOT NULL, field VARCHAR NOT NULL,
    style VARCHAR NOT NULL, occurrences INTEGER NOT NULL, created_month DATE)""",
    # Free texts per ticket and detected language: which detectors ran on how much text.
    """CREATE TABLE IF NOT EXISTS audit.pii_languages (
    source VARCHAR NOT NULL, ticket_id VARCHAR NOT NULL, language VARCHAR NOT NULL,
    texts INTEGER NOT NULL, created_month DATE)""",
    f"CREATE TABLE IF NOT EXISTS audit.pii_findings {_FINDINGS_DDL}",
    f"CREATE TABLE IF NOT EXISTS audit.pii_residual {_FINDINGS_DDL}",
    """CREATE TABLE IF NOT EXISTS audit.pii_scan_state (
    source VARCHAR NOT NULL,
    ticket_id VARCHAR NOT NULL,
    created_month DATE,
    text_hash VARCHAR NOT NULL,
    scanned_at TIMESTAMP NOT NULL,
    findings INTEGER NOT NULL,
    redacted_hash VARCHAR,
    residual_hash VARCHAR,
    PRIMARY KEY (source, ticket_id)
)""",
)


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def ensure_pii_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in DDL:
        con.execute(stmt)
    # The redacted tables mirror canonical; when canonical's columns change (a new model
    # field), they are rebuilt and every ticket is redacted again on the next run.
    for name in ("tickets", "messages"):
        canonical = table_columns(con, "canonical", name)
        redacted = table_columns(con, "audit", f"redacted_{name}")
        if redacted != canonical:
            con.execute(f"DROP TABLE IF EXISTS audit.redacted_{name}")
            con.execute(
                f"CREATE TABLE audit.redacted_{name} AS SELECT * FROM canonical.{name} LIMIT 0"
            )
            if redacted:
                con.execute(
                    "UPDATE audit.pii_scan_state SET redacted_hash = NULL, residual_hash = NULL"
                )
