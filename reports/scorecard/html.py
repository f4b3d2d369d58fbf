"""scorecard.html: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from markupsafe import Markup

from reports import charts, quality_section
from reports.templating import render
from ticket_audit.readiness.worklist import STEP_WORK

TREND_LINES = {
    "score": "readiness score",
    "tagging_coverage": "tagging coverage",
    "usable_labeled_share": "usable labelled",
    "tickets_with_pii_share": "tickets with PII",
    "precision_at_5": "precision@5",
    "ownership_score": "ownership score",
}

# How each layer's score is made (docs/readiness.md, ticket_audit.readiness.rules.layer_scores).
LAYER_FORMULA = {
    "quality": "mean of tagging coverage, usable labelled share, 1 − label-conflict share, "
    "1 − duplicate share and mean metadata completeness",
    "pii": "1 − findings left after redaction / findings before",
    "retrieval": "½ latency (1 within budget, else budget / projected p95) + ½ precision@5",
    "ownership": "share of areas with an owner and a fresh review",
}
# check -> (what it compares, threshold key, the audit's value as a path into the card)
CHECK_RULES = (
    (
        "usable_labeled_share",
        "usable labelled share ≥",
        "min_usable_labeled_share",
        "quality.usable_labeled_share",
    ),
    ("tagging_coverage", "tagging coverage ≥", "min_tagging_coverage", "quality.tagging_coverage"),
    (
        "label_conflict_share",
        "label-conflict share ≤",
        "max_label_conflict_share",
        "quality.label_conflict_share",
    ),
    ("duplicate_share", "duplicate share ≤", "max_duplicate_share", "quality.duplicate_share"),
    ("metadata_completeness", "every metadata field complete ≥", "min_metadata_completeness", None),
    (
        "residual_pii",
        "PII findings left after redaction ≤",
        "max_residual_pii_findings",
        "pii.residual_findings_after_redaction",
    ),
    (
        "retrieval_latency",
        "projected p95 latency (ms) ≤ budget",
        "@retrieval.latency_budget_ms",
        "retrieval.projection.p95_ms",
    ),
    ("precision_at_5", "precision@5 ≥", "min_precision_at_5", "retrieval.precision_at_5"),
    (
        "top_hit_reply_share",
        "top hit has an agent reply ≥",
        "min_top_hit_reply_share",
        "retrieval.top_hit_reply_share",
    ),
    ("owner_missing", "every area has an owner", None, None),
    ("review_stale", "every area reviewed recently", None, None),
    ("fields_without_steward", "every canonical field has a steward", None, None),
    (
        "category_drift",
        "category-mix drift since the previous audit ≤",
        "max_category_drift",
        "category_drift.tvd",
    ),
    ("score", "overall score ≥", "min_score", "readiness.score"),
)


# Checks whose threshold and value are milliseconds, not fractions: `measure` would print a
# 0.097 ms latency as "9.7%".
MS_CHECKS = frozenset({"retrieval_latency"})


def _at(card: dict, path: str | None) -> object:
    value: object = card
    for key in (path or "").split(".") if path else []:
        value = value.get(key) if isinstance(value, dict) else None
    return value if path else None


def verdict_rules(card: dict) -> list[dict]:
    """One row per readiness check: the rule, its threshold, this audit's value, severity and
    whether it raised an issue (the same issues the verdict counts)."""
    r = card.get("readiness") or {}
    thresholds, severities = r.get("thresholds") or {}, r.get("severities") or {}
    raised = {
        i.get("check") for i in [*(r.get("blocking_issues") or []), *(r.get("conditions") or [])]
    }
    return [
        {
            "check": check,
            "rule": rule,
            "threshold": _at(card, key[1:]) if key and key[0] == "@" else thresholds.get(key),
            "value": _at(card, path),
            "severity": severities.get(check, "—"),
            "raised": check in raised,
            "unit": "ms" if check in MS_CHECKS else None,
        }
        for check, rule, key, path in CHECK_RULES
    ]


def render_html(card: dict, *, min_tagging_coverage: float | None = None) -> str:
    r = card.get("readiness") or {}
    chart_svgs = {
        "layers": charts.layer_chart(r.get("layer_scores") or {}, r.get("layer_status")),
        "funnel": charts.funnel_chart(card.get("quality", {}).get("funnel") or []),
        "coverage": charts.coverage_chart(coverage_by_month(card), min_tagging_coverage),
        "latency": charts.latency_chart(card.get("retrieval") or {}),
        "trends": charts.trend_chart((card.get("trends") or {}).get("audits") or [], TREND_LINES),
        "pii": charts.bar_chart(
            sorted(
                ((k, v) for k, v in ((card.get("pii") or {}).get("by_entity") or {}).items() if v),
                key=lambda kv: -kv[1],
            ),
            name="pii_entities",
            title="Tickets with personal data, by kind",
        ),
    }
    return render(
        "scorecard.html.j2",
        card=card,
        r=r,
        charts={k: Markup(v) for k, v in chart_svgs.items()},  # built from escaped parts
        # The quality layer's section without its funnel and coverage charts: the page
        # draws those itself, once.
        quality_html=Markup(quality_section.render_html(card.get("quality") or {}, charts=False)),
        formulas=LAYER_FORMULA,
        rules=verdict_rules(card),
        fixes={k: fix.replace("{field}", "field") for k, (_, fix) in STEP_WORK.items()},
    )


def coverage_by_month(card: dict) -> list[dict]:
    """Tickets and tagged tickets per month for the coverage chart.

    The quality layer's `by_month` breakdown when it publishes one (so the chart agrees with
    its tagging coverage), limited to the complete months of the baselines; else baselines'.
    """
    base = (card.get("baselines") or {}).get("monthly") or []
    q = (card.get("quality") or {}).get("by_month")
    if not (isinstance(q, list) and q and {"value", "tickets", "tagging_coverage"} <= set(q[0])):
        return base
    complete = {m["month"][:7] for m in base if m.get("complete", True)}
    return [
        {
            "month": str(r["value"]),
            "tickets": r["tickets"],
            "tagged": round((r["tagging_coverage"] or 0) * r["tickets"]),
            "complete": True,
        }
        for r in q
        if r.get("tickets") and (not complete or str(r["value"])[:7] in complete)
    ]
