"""Settings of the retrieval layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class RetrievalSection(Strict):
    latency_budget_ms: float = Field(default=500, gt=0)
    retention_months: int = Field(default=24, gt=0)
