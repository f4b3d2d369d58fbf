"""Settings of the readiness layer: thresholds, severities and score weights (docs/readiness.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ticket_audit.config.mapping import Strict

Severity = Literal["blocker", "condition"]

# Check id -> severity when the configuration does not say. A blocker makes the verdict
# "not ready"; a condition makes it at best "ready with conditions".
DEFAULT_SEVERITY: dict[str, Severity] = {
    "layer_missing": "blocker",
    "usable_labeled_share": "blocker",
    # Labels the text does not predict cannot be checked: never "ready" on them alone.
    "usable_labeled_unverified": "condition",
    "tagging_coverage": "condition",
    "label_conflict_share": "condition",
    "duplicate_share": "condition",
    "metadata_completeness": "condition",
    "residual_pii": "blocker",
    "retrieval_latency": "blocker",
    "precision_at_5": "condition",
    "top_hit_reply_share": "condition",
    "owner_missing": "blocker",
    "review_stale": "condition",
    "fields_without_steward": "condition",
    "category_drift": "condition",
    "score": "condition",
}

DEFAULT_WEIGHTS = {"quality": 0.4, "pii": 0.2, "retrieval": 0.25, "ownership": 0.15}


class ReadinessSection(Strict):
    min_usable_labeled_share: float = Field(default=0.6, ge=0, le=1)
    min_tagging_coverage: float = Field(default=0.8, ge=0, le=1)
    max_label_conflict_share: float = Field(default=0.05, ge=0, le=1)
    max_duplicate_share: float = Field(default=0.05, ge=0, le=1)
    # Applies to each field of quality.metadata_completeness.
    min_metadata_completeness: float = Field(default=0.9, ge=0, le=1)
    max_residual_pii_findings: int = Field(default=0, ge=0)
    min_precision_at_5: float = Field(default=0.6, ge=0, le=1)
    min_top_hit_reply_share: float = Field(default=0.8, ge=0, le=1)
    # Total variation distance between this audit's category mix and the previous audit's.
    max_category_drift: float = Field(default=0.1, ge=0, le=1)
    # Below this overall score the history is at best "ready with conditions".
    min_score: float = Field(default=0.75, ge=0, le=1)
    # Who gets an issue whose area has no owner (and the overall-score issue).
    escalate_to: str = "TPM"
    severity: dict[str, Severity] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @field_validator("severity")
    @classmethod
    def _known_checks(cls, v: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(v) - set(DEFAULT_SEVERITY))
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; known: {sorted(DEFAULT_SEVERITY)}")
        return v

    @field_validator("weights")
    @classmethod
    def _known_layers(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown layer(s) {unknown}; known: {sorted(DEFAULT_WEIGHTS)}")
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 and not all zero")
        return v

    def severity_of(self, check: str) -> Severity:
        return self.severity.get(check, DEFAULT_SEVERITY[check])
