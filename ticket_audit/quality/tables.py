"""Findings tables of the quality layer, all in schema `audit` and free of raw text.

Every table holds ticket ids, labels, counts and scores only: never a description, subject,
reply body or any value GX flagged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

DDL = (
    """CREATE TABLE IF NOT EXISTS audit.quality_check_results (
        suite VARCHAR, check_name VARCHAR, expectation_type VARCHAR, column_name VARCHAR,
        partition_month DATE, success BOOLEAN, unexpected_count BIGINT, element_count BIGINT,
        unexpected_percent DOUBLE, sql_unexpected_count BIGINT, criterion VARCHAR,
        raised BOOLEAN, validated_at TIMESTAMP)""",
    # Sparse: one row per ticket and failed check (the funnel's per-ticket evidence).
    """CREATE TABLE IF NOT EXISTS audit.quality_check_violations (
        source VARCHAR, ticket_id VARCHAR, partition_month DATE, suite VARCHAR,
        check_name VARCHAR, criterion VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.duplicate_groups (
        source VARCHAR, ticket_id VARCHAR, group_id VARCHAR, kind VARCHAR, group_size INTEGER,
        is_first BOOLEAN, similarity DOUBLE, distinct_categories INTEGER,
        label_conflict BOOLEAN)""",
    # Per ticket, what duplicate detection keeps of its text (hashes only) and a hash of the
    # text it came from: a re-audit sketches only new and changed tickets.
    """CREATE TABLE IF NOT EXISTS audit.duplicate_sketch (
        source VARCHAR, ticket_id VARCHAR, text_key UBIGINT, settings BIGINT,
        exact_key UBIGINT, band_keys UBIGINT[])""",
    # Per public agent reply, its labels (no text) and a hash of the body they came from:
    # a re-audit labels only new and edited replies.
    """CREATE TABLE IF NOT EXISTS audit.reply_labels (
        source VARCHAR, ticket_id VARCHAR, seq INTEGER, body_hash UBIGINT, words INTEGER,
        greeting VARCHAR, signoff VARCHAR, core_hash UBIGINT, formatting VARCHAR,
        tone VARCHAR, apology BOOLEAN, positive BOOLEAN, exclamation BOOLEAN,
        language VARCHAR, language_done BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS audit.label_issues (
        source VARCHAR, ticket_id VARCHAR, issue VARCHAR, given_category VARCHAR,
        suggested_category VARCHAR, given_probability DOUBLE, suggested_probability DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS audit.template_tokens (
        field VARCHAR, token VARCHAR, tickets BIGINT)""",
    # The partition range the checks ran with: tickets outside it belong to its edges.
    """CREATE TABLE IF NOT EXISTS audit.quality_partition_bounds (
        first_month DATE, last_month DATE)""",
    # Numbers a stage computes but no table holds (classifier accuracy, timings...).
    """CREATE TABLE IF NOT EXISTS audit.quality_stage_stats (
        stage VARCHAR PRIMARY KEY, computed_at TIMESTAMP, stats JSON)""",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in DDL:
        con.execute(stmt)


def save_stage_stats(con: duckdb.DuckDBPyConnection, stage: str, stats: dict) -> None:
    ensure_tables(con)
    con.execute(
        "INSERT OR REPLACE INTO audit.quality_stage_stats VALUES (?, ?, ?)",
        [stage, datetime.now(UTC).replace(tzinfo=None), json.dumps(stats, default=str)],
    )


def load_stage_stats(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    ensure_tables(con)
    rows = con.execute("SELECT stage, stats FROM audit.quality_stage_stats").fetchall()
    return {stage: json.loads(stats) for stage, stats in rows}
