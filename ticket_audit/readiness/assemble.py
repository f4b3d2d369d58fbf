"""Assembles scorecard.json from the layer summaries, the readiness rules and the history."""

from __future__ import annotations

from datetime import datetime

from ticket_audit.config import AuditConfig
from ticket_audit.readiness.history import category_mix, mix_drift, trends
from ticket_audit.readiness.rules import evaluate

# Keys DESIGN.md promises in scorecard.json; a layer that did not run still has them (null).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "quality": (
        "tagging_coverage",
        "usable_labeled_share",
        "usable_labeled_verified",
        "label_conflict_share",
        "metadata_completeness",
        "duplicate_share",
        "response_variability",
        "funnel",
    ),
    "pii": (
        "tickets_with_pii_share",
        "by_entity",
        "residual_findings_after_redaction",
        "masked_placeholder_tickets",
        "by_language",
    ),
    "ownership": ("score", "responsibilities"),
    "retrieval": ("p50_ms", "p95_ms", "p99_ms", "precision_at_5", "index_size"),
    "baselines": (
        "monthly_volume",
        "median_resolution_hours",
        "mean_resolution_hours",
        "csat_mean",
    ),
}


def _layer(summaries: dict, name: str) -> dict:
    out = dict(summaries.get(name) or {})
    for key in REQUIRED_KEYS[name]:
        out.setdefault(key, None)
    return out


def build_scorecard(
    summaries: dict,
    cfg: AuditConfig,
    *,
    audit_id: str,
    generated_at: datetime,
    tickets_total: int,
    previous: list[dict],
) -> dict:
    """`previous`: earlier audits from the history, oldest first."""
    mix = category_mix(summaries.get("baselines"))
    last = previous[-1] if previous else None
    drift = mix_drift(mix, last["category_mix"] if last else None)
    drift["previous_audit"] = last["audit_id"] if last else None
    card = {
        "audit_id": audit_id,
        "audit_name": cfg.audit.name,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "tickets_total": tickets_total,
        **{name: _layer(summaries, name) for name in REQUIRED_KEYS},
        "readiness": evaluate(summaries, cfg.readiness, drift=drift),
        "category_mix": {k: round(v, 6) for k, v in mix.items()},
        "category_drift": drift,
    }
    if summaries.get("profile"):
        card["profile"] = summaries["profile"]
    card["trends"] = trends(previous, card)
    return card
