"""Run-wide settings: where the audit writes, and ingestion limits."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ticket_audit.config.mapping import Strict


class AuditSection(Strict):
    name: str = "ticket-audit"
    output_dir: str = "out/audit"
    duckdb_path: str = ".ticket_audit/audit.duckdb"
    # First month of the Dagster monthly partitions.
    partitions_start: date = date(2018, 1, 1)
    # Environment variable holding the key for pseudonyms and keyed hashes.
    hash_key_env: str = "TICKET_AUDIT_HASH_KEY"
    # DuckDB memory of every stage after loading; beyond it DuckDB spills to disk instead of
    # keeping the whole history in its cache.
    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$")


class IngestSection(Strict):
    # A single text field over this size is quarantined rather than loaded: bodies that large
    # are pasted logs or attachments, not conversation.
    max_text_bytes: int = Field(default=1_048_576, gt=0)
    # DuckDB memory for loading; larger exports spill to a temporary directory.
    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$")
    # Rows per chunk for database sources (API sources follow the vendor's pages). A multiple
    # of DuckDB's row group (122,880 rows) goes straight into the database file; a smaller
    # chunk passes through the write-ahead log first and is written twice.
    batch_rows: int = Field(default=245_760, gt=0)
