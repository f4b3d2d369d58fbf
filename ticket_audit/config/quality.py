"""Settings of the quality layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class QualitySection(Strict):
    # Jaccard similarity of word shingles above which two tickets count as near duplicates.
    near_duplicate_threshold: float = Field(default=0.8, ge=0, le=1)
    # A category holding less than this share of tickets is reported as rare.
    rare_category_share: float = Field(default=0.01, ge=0, le=1)
