"""Settings of the retrieval layer (the feasibility probe, docs/readiness.md)."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class RetrievalSection(Strict):
    # The brief's bar: relevant historical tickets must come back within this time.
    latency_budget_ms: float = Field(default=500, gt=0)
    # Months of history a production index would keep; projected size = monthly volume x this.
    retention_months: int = Field(default=24, gt=0)
    # Hits fetched per query; precision is always judged on the first 5.
    top_k: int = Field(default=5, ge=5, le=100)
    # Share of tickets held out of the index and used as queries, capped by max_queries.
    holdout_share: float = Field(default=0.05, gt=0, lt=1)
    max_queries: int = Field(default=1000, gt=0)
    # Unmeasured queries first, so the percentiles describe a warm index as in production.
    warmup_queries: int = Field(default=20, ge=0)
    # A query keeps the ticket's N rarest index terms: common terms cost most, score least.
    max_query_terms: int = Field(default=12, gt=0)
    # Largest index built to measure latency at the projected volume; beyond it, extrapolate.
    max_scale_docs: int = Field(default=2_000_000, gt=0)
    # Where the index is kept; default: `retrieval_index/` next to the DuckDB file.
    index_dir: str | None = None
    # The probe is measured again when the number of tickets moved by more than this share
    # since the last measurement (or its settings changed); a weekly increment of a large
    # history keeps the last measurement, marked as such. 0: measure on every audit.
    remeasure_growth: float = Field(default=0.10, ge=0)
    # A category's precision@5 is shown (and can name it the weakest) only from this many
    # queries on; fewer are counted together as "below the minimum".
    min_category_queries: int = Field(default=10, ge=1)
    writer_threads: int = Field(default=1, gt=0)
    writer_heap_mb: int = Field(default=256, ge=16)
    seed: int = 13
