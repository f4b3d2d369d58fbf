"""scorecard.html: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from reports.scorecard import charts
from reports.scorecard import format as fmt
from reports.scorecard.quality import quality_html

TREND_LINES = {
    "score": "readiness score",
    "tagging_coverage": "tagging coverage",
    "usable_labeled_share": "usable labelled",
    "tickets_with_pii_share": "tickets with PII",
    "precision_at_5": "precision@5",
    "ownership_score": "ownership score",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    pct=fmt.pct, num=fmt.num, hours=fmt.hours, ms=fmt.ms, signed=fmt.signed, verdict=fmt.verdict
)


def render_html(card: dict, *, min_tagging_coverage: float | None = None) -> str:
    r = card.get("readiness") or {}
    chart_svgs = {
        "layers": charts.layer_chart(r.get("layer_scores") or {}),
        "funnel": charts.funnel_chart(card.get("quality", {}).get("funnel") or []),
        "coverage": charts.coverage_chart(coverage_by_month(card), min_tagging_coverage),
        "latency": charts.latency_chart(card.get("retrieval") or {}),
        "trends": charts.trend_chart((card.get("trends") or {}).get("audits") or [], TREND_LINES),
    }
    return _env.get_template("scorecard.html.j2").render(
        card=card,
        r=r,
        charts={k: Markup(v) for k, v in chart_svgs.items()},  # built from escaped parts
        quality_html=Markup(quality_html(card.get("quality") or {})),
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
