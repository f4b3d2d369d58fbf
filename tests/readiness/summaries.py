"""Layer summaries shaped like the real ones, healthy unless a test changes them."""

from __future__ import annotations

import copy

HEALTHY = {
    "quality": {
        "tagging_coverage": 0.92,
        "usable_labeled_share": 0.81,
        "label_conflict_share": 0.01,
        "metadata_completeness": {"priority": 0.99, "channel": 0.98, "team": 0.97},
        "duplicate_share": 0.01,
        "response_variability": {"templated_share": 0.3},
        "funnel": [
            {"step": "all tickets", "remaining": 1000},
            {"step": "category in taxonomy", "remaining": 920},
            {"step": "usable", "remaining": 810},
        ],
    },
    "pii": {
        "tickets_with_pii_share": 0.3,
        "by_entity": {"EMAIL_ADDRESS": 200, "PERSON": 100},
        "residual_findings_after_redaction": 0,
    },
    "ownership": {
        "score": 1.0,
        "stale_after_days": 180,
        "missing_owners": [],
        "stale_reviews": [],
        "fields_without_steward": [],
        "evidence": {},
        "responsibilities": [
            {
                "area": a,
                "title": a,
                "owner": f"team:{a}-team",
                "contact": None,
                "reviewed_on": "2026-06-01",
                "status": "ok",
            }
            for a in ("schema", "taxonomy", "cleaning", "pii", "retrieval")
        ],
    },
    "retrieval": {
        "p50_ms": 1.0,
        "p95_ms": 2.0,
        "p99_ms": 3.0,
        "precision_at_5": 0.9,
        "index_size": 950,
        "top_hit_reply_share": 0.95,
        "latency_budget_ms": 500,
        "projection": {
            "projected_docs": 24000,
            "p50_ms": 2.0,
            "p95_ms": 4.0,
            "p99_ms": 6.0,
            "method": "repeated_corpus",
        },
        "precision_at_5_by_category": {"Billing": {"queries": 10, "precision_at_5": 0.9}},
    },
    "baselines": {
        "monthly_volume": 1000.0,
        "median_resolution_hours": 20.0,
        "mean_resolution_hours": 30.0,
        "csat_mean": 4.1,
        "monthly": [],
        "by_category": {"Billing": {"tickets": 600}, "Account": {"tickets": 400}},
    },
}


def healthy(**changes: dict) -> dict:
    """A deep copy of HEALTHY with `layer={key: value}` updates (None removes the layer)."""
    out = copy.deepcopy(HEALTHY)
    for layer, update in changes.items():
        if update is None:
            out.pop(layer)
        else:
            out[layer].update(update)
    return out
