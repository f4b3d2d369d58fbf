"""Settings of the readiness layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class ReadinessSection(Strict):
    min_usable_labeled_share: float = Field(default=0.6, ge=0, le=1)
    min_tagging_coverage: float = Field(default=0.8, ge=0, le=1)
