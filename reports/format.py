"""Number formatting shared by the HTML and Markdown scorecards (None shows as a dash)."""

from __future__ import annotations

from ticket_audit.units import ms_text

DASH = "—"


def pct(x: object, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%" if isinstance(x, int | float) else DASH


def num(x: object, digits: int = 0) -> str:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return DASH if x is None else str(x)
    return f"{x:,.{digits}f}"


def hours(x: object) -> str:
    return f"{x:,.1f} h" if isinstance(x, int | float) else DASH


def ms(x: object) -> str:
    return ms_text(x) if isinstance(x, int | float) else DASH


def signed(x: object, as_pct: bool = True) -> str:
    if not isinstance(x, int | float):
        return DASH
    return f"{100 * x:+.1f} pp" if as_pct else f"{x:+,.2f}"


VERDICT_TEXT = {
    "ready": "Ready",
    "ready_with_conditions": "Ready with conditions",
    "not_ready": "Not ready",
}


def verdict(v: object) -> str:
    return VERDICT_TEXT.get(str(v), str(v))


def measure(x: object) -> str:
    """A threshold or measured value: fractions as percentages, counts as numbers."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return DASH if x is None else str(x)
    if isinstance(x, float) and 0 <= x <= 1:
        return pct(x)
    return num(x, 0 if float(x).is_integer() else 2)


def label_evidence(quality: object) -> str:
    """What backs the usable labelled share, in words for the headline (scorecard.json:
    quality.usable_labeled_verified and quality.label_classifier)."""
    q = quality if isinstance(quality, dict) else {}
    lc = q.get("label_classifier") or {}
    skill, scored = lc.get("classifier_skill"), lc.get("scored_tickets") or 0
    if q.get("usable_labeled_share") is None:
        return "labels not measured"
    if q.get("usable_labeled_verified"):
        return (
            f"labels verified: a cross-validated classifier beats chance by {skill:.2f} "
            f"on {scored:,} labelled tickets"
        )
    if skill is None:
        return "labels unverified: too few labelled tickets per category to check them"
    labelled = lc.get("labelled_tickets") or scored
    if lc.get("labels_learnable") and scored < labelled:
        return (
            f"labels unverified: only {scored:,} of {labelled:,} labelled tickets could be "
            f"checked (the other categories are too small); classifier skill {skill:.2f}"
        )
    return (
        f"labels unverified: the text does not predict them (classifier skill {skill:.2f} "
        f"over chance on {scored:,} labelled tickets)"
    )
