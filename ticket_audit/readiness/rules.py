"""Readiness rules: layer summaries + thresholds -> issues, layer scores, score and verdict.

Every check compares one published number with a threshold from `readiness` in the
configuration and, when it fails, raises an issue with a severity (blocker or condition),
the owner of the responsible area (from the ownership layer) and a concrete action.
Rules and formulas are documented in docs/readiness.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ticket_audit.config.readiness import DEFAULT_SEVERITY, ReadinessSection
from ticket_audit.units import ms_text

LAYERS = ("quality", "pii", "retrieval", "ownership")
# Responsible ownership area of a layer that did not run.
LAYER_AREA = {"quality": "cleaning", "pii": "pii", "retrieval": "retrieval", "ownership": None}
VERDICTS = ("ready", "ready_with_conditions", "not_ready")
# A layer's status on the page: its worst issue, never its score alone (a layer scoring
# 100/100 with a blocker is not green).
LAYER_STATUSES = ("ok", "conditions", "blocked", "did_not_run")


@dataclass
class Issue:
    check: str
    severity: str
    layer: str
    area: str | None
    issue: str
    owner: str
    action: str
    value: float | None = None
    threshold: float | None = None


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def owner_of(owners: dict[str, str | None], area: str | None, escalate_to: str) -> str:
    """Who gets work in `area`: its declared owner, else the escalation contact."""
    if area is None:
        return escalate_to
    return owners.get(area) or f"{escalate_to} (no owner for {area})"


def declared_owners(ownership: dict) -> dict[str, str | None]:
    """area -> owner from the ownership layer's summary."""
    return {r["area"]: r.get("owner") for r in ownership.get("responsibilities", [])}


class _Checker:
    def __init__(self, cfg: ReadinessSection, owners: dict[str, str | None], escalate_to: str):
        self.cfg = cfg
        self.owners = owners
        self.escalate_to = escalate_to
        self.issues: list[Issue] = []

    def owner(self, area: str | None) -> str:
        return owner_of(self.owners, area, self.escalate_to)

    def add(
        self,
        check: str,
        layer: str,
        area: str | None,
        issue: str,
        action: str,
        value: float | None = None,
        threshold: float | None = None,
    ) -> None:
        self.issues.append(
            Issue(
                check,
                self.cfg.severity_of(check),
                layer,
                area,
                issue,
                self.owner(area),
                action,
                value,
                threshold,
            )
        )


def _quality(c: _Checker, q: dict, evidence: dict) -> None:
    _usable_labels(c, q)
    _tagging(c, q, evidence)
    _conflicts_and_duplicates(c, q)
    _metadata(c, q)


def _usable_labels(c: _Checker, q: dict) -> None:
    """Too little usable labelled data, or labels nobody could check."""
    cfg = c.cfg
    usable = q.get("usable_labeled_share")
    if usable is not None and usable < cfg.min_usable_labeled_share:
        c.add(
            "usable_labeled_share",
            "quality",
            "taxonomy",
            f"Only {_pct(usable)} of tickets are usable labelled data "
            f"(needs {_pct(cfg.min_usable_labeled_share)}).",
            "Work the quality funnel from its largest drop: relabel or drop the tickets that "
            "step removes, then re-run the audit.",
            usable,
            cfg.min_usable_labeled_share,
        )
    if usable is not None and q.get("usable_labeled_verified") is False:
        lc = q.get("label_classifier") or {}
        skill = lc.get("classifier_skill")
        scored = lc.get("scored_tickets") or 0
        labelled = lc.get("labelled_tickets") or scored
        if skill is None:
            why = "too few labelled tickets per category to train a classifier"
        elif lc.get("labels_learnable") and scored < labelled:
            why = (
                f"only {scored:,} of {labelled:,} labelled tickets could be checked, the "
                "other categories are too small"
            )
        else:
            why = (
                f"the text does not predict them: a cross-validated classifier beats chance "
                f"by only {skill:.2f} on {scored:,} labelled tickets"
            )
        c.add(
            "usable_labeled_unverified",
            "quality",
            "taxonomy",
            f"{_pct(usable)} usable labelled, labels unverified: {why}.",
            "Have the taxonomy owner sample and check labels by hand, or fix the labelling "
            "rules, before training on them.",
            skill,
            None,
        )


def _tagging(c: _Checker, q: dict, evidence: dict) -> None:
    """Tagging coverage, with the team to start with."""
    cfg = c.cfg
    cov = q.get("tagging_coverage")
    if cov is not None and cov < cfg.min_tagging_coverage:
        worst = (evidence.get("by_team") or [{}])[0]
        hint = (
            f" Start with team '{worst['team']}' ({_pct(worst['untagged_share'])} untagged)."
            if worst.get("team")
            else ""
        )
        c.add(
            "tagging_coverage",
            "quality",
            "taxonomy",
            f"Tagging coverage is {_pct(cov)} (needs {_pct(cfg.min_tagging_coverage)}).",
            "Make category mandatory at ticket close and backfill untagged tickets." + hint,
            cov,
            cfg.min_tagging_coverage,
        )


def _conflicts_and_duplicates(c: _Checker, q: dict) -> None:
    """Conflicting labels and duplicate tickets."""
    cfg = c.cfg
    conflicts = q.get("label_conflict_share")
    if conflicts is not None and conflicts > cfg.max_label_conflict_share:
        c.add(
            "label_conflict_share",
            "quality",
            "taxonomy",
            f"{_pct(conflicts)} of tickets carry labels that conflict with near-identical "
            f"tickets or with a classifier (max {_pct(cfg.max_label_conflict_share)}).",
            "Review the flagged label issues with the taxonomy owner and write labelling "
            "guidelines for the confused categories.",
            conflicts,
            cfg.max_label_conflict_share,
        )
    dupes = q.get("duplicate_share")
    if dupes is not None and dupes > cfg.max_duplicate_share:
        c.add(
            "duplicate_share",
            "quality",
            "cleaning",
            f"{_pct(dupes)} of tickets are duplicates (max {_pct(cfg.max_duplicate_share)}).",
            "Deduplicate in the cleaning pipeline (keep the earliest ticket of each group).",
            dupes,
            cfg.max_duplicate_share,
        )


def _metadata(c: _Checker, q: dict) -> None:
    """Required fields below the completeness threshold."""
    cfg = c.cfg
    completeness = q.get("metadata_completeness") or {}
    low = {
        f: s
        for f, s in completeness.items()
        if isinstance(s, int | float) and s < cfg.min_metadata_completeness
    }
    if low:
        fields = ", ".join(f"{f} {_pct(s)}" for f, s in sorted(low.items(), key=lambda x: x[1]))
        c.add(
            "metadata_completeness",
            "quality",
            "schema",
            f"Metadata below {_pct(cfg.min_metadata_completeness)} complete: {fields}.",
            "Make these fields required in the helpdesk form and backfill from the "
            "source system where possible.",
            min(low.values()),
            cfg.min_metadata_completeness,
        )


def _pii(c: _Checker, p: dict) -> None:
    residual = p.get("residual_findings_after_redaction")
    if residual is not None and residual > c.cfg.max_residual_pii_findings:
        c.add(
            "residual_pii",
            "pii",
            "pii",
            f"{residual:,} PII findings remain in the redacted dataset.",
            "Add recognizers or deny-list patterns for the residual entity types (see "
            "pii_exposure.json) and re-run redaction before anyone builds on the data.",
            residual,
            c.cfg.max_residual_pii_findings,
        )


def _retrieval(c: _Checker, r: dict) -> None:
    cfg = c.cfg
    proj = r.get("projection") or {}
    p95 = proj.get("p95_ms", r.get("p95_ms"))
    budget = r.get("latency_budget_ms")
    if p95 is not None and budget is not None and p95 > budget:
        c.add(
            "retrieval_latency",
            "retrieval",
            "retrieval",
            f"Projected p95 retrieval latency {ms_text(p95)} at "
            f"{proj.get('projected_docs', 0):,} tickets exceeds the {budget:g} ms budget.",
            "Shard the index by month or product, cap the retention window, or move to a "
            "dedicated search service; re-measure with the retrieval benchmark.",
            p95,
            budget,
        )
    p5 = r.get("precision_at_5")
    if p5 is not None and p5 < cfg.min_precision_at_5:
        worst = sorted(
            (r.get("precision_at_5_by_category") or {}).items(),
            key=lambda kv: kv[1]["precision_at_5"],
        )[:2]
        hint = (
            (" Weakest: " + ", ".join(f"{k} {_pct(v['precision_at_5'])}" for k, v in worst) + ".")
            if worst
            else ""
        )
        c.add(
            "precision_at_5",
            "retrieval",
            "retrieval",
            f"Precision@5 by category is {_pct(p5)} (needs {_pct(cfg.min_precision_at_5)})." + hint,
            "Clean the labels of the weakest categories and add subject/product fields "
            "to the index; re-run the probe.",
            p5,
            cfg.min_precision_at_5,
        )
    share = r.get("top_hit_reply_share")
    if share is not None and share < cfg.min_top_hit_reply_share:
        c.add(
            "top_hit_reply_share",
            "retrieval",
            "retrieval",
            f"Only {_pct(share)} of queries get a top hit with an agent reply "
            f"(needs {_pct(cfg.min_top_hit_reply_share)}).",
            "Index only tickets with a public agent reply, or load the missing "
            "conversations from the helpdesk.",
            share,
            cfg.min_top_hit_reply_share,
        )


def _ownership(c: _Checker, o: dict) -> None:
    rows = {r["area"]: r for r in o.get("responsibilities", [])}
    for area in o.get("missing_owners", []):
        title = rows.get(area, {}).get("title", area)
        c.add(
            "owner_missing",
            "ownership",
            area,
            f"No owner for {title.lower()}.",
            f"Name a team, a contact and a review date for '{area}' in the owners file.",
        )
    for area in o.get("stale_reviews", []):
        r = rows.get(area, {})
        when = f"last reviewed {r['reviewed_on']}" if r.get("reviewed_on") else "never reviewed"
        c.add(
            "review_stale",
            "ownership",
            area,
            f"{r.get('title', area)}: {when} (reviews older than "
            f"{o.get('stale_after_days')} days are stale).",
            f"Review the {area} definitions and update last_review in the owners file.",
        )
    fields = o.get("fields_without_steward") or []
    if fields:
        c.add(
            "fields_without_steward",
            "ownership",
            "schema",
            f"{len(fields)} canonical field(s) without a steward: {', '.join(fields)}.",
            "Assign each field to an area in the owners file (areas.<area>.fields).",
            len(fields),
            0,
        )


def _drift(c: _Checker, drift: dict | None) -> None:
    if not drift or drift.get("tvd") is None:
        return
    if drift["tvd"] > c.cfg.max_category_drift:
        moved = ", ".join(f"{d['category']} {d['delta']:+.1%}" for d in drift["changes"][:3])
        c.add(
            "category_drift",
            "quality",
            "taxonomy",
            f"The category mix moved {_pct(drift['tvd'])} since the previous audit ({moved}).",
            "Check for taxonomy changes or routing changes since the previous audit; "
            "re-baseline before comparing model results across the two periods.",
            drift["tvd"],
            c.cfg.max_category_drift,
        )


# The highest PII layer score while residual findings remain, and while a PII issue blocks.
PII_SCORE_WITH_RESIDUALS = 0.6
PII_SCORE_WITH_BLOCKER = 0.5


def layer_scores(
    summaries: dict, latency_budget_ms: float | None = None
) -> dict[str, float | None]:
    """Each layer's score in [0, 1]; None when the layer did not run."""
    out: dict[str, float | None] = dict.fromkeys(LAYERS)
    q = summaries.get("quality")
    if q is not None:
        parts = [q.get("tagging_coverage"), q.get("usable_labeled_share")]
        parts += [
            1 - q[k] for k in ("label_conflict_share", "duplicate_share") if q.get(k) is not None
        ]
        comp = [
            v for v in (q.get("metadata_completeness") or {}).values() if isinstance(v, int | float)
        ]
        parts.append(sum(comp) / len(comp) if comp else None)
        vals = [v for v in parts if v is not None]
        out["quality"] = sum(vals) / len(vals) if vals else 0.0
    p = summaries.get("pii")
    if p is not None:
        residual = p.get("residual_findings_after_redaction") or 0
        found = sum((p.get("by_entity") or {}).values()) or 1
        out["pii"] = max(0.0, 1 - residual / found)
        # Personal data left in the dataset meant for the GenAI team is a failed layer, not
        # a rounding error: 3 residuals among 10,000 findings must not read as 99.97.
        if residual:
            out["pii"] = min(out["pii"], PII_SCORE_WITH_RESIDUALS)
    r = summaries.get("retrieval")
    if r is not None and r.get("status") != "n/a":
        budget = r.get("latency_budget_ms") or latency_budget_ms or 500
        p95 = (r.get("projection") or {}).get("p95_ms", r.get("p95_ms")) or 0
        latency = 1.0 if p95 <= budget else budget / p95
        out["retrieval"] = 0.5 * latency + 0.5 * (r.get("precision_at_5") or 0)
    o = summaries.get("ownership")
    if o is not None:
        out["ownership"] = o.get("score", 0.0)
    return {k: (round(min(1.0, max(0.0, v)), 4) if v is not None else None) for k, v in out.items()}


def layer_status(scores: dict[str, float | None], issues: list[dict]) -> dict[str, str]:
    """Each layer's status from its issues: blocked, conditions, ok, or did_not_run."""
    out = {}
    for layer in LAYERS:
        severities = {i["severity"] for i in issues if i["layer"] == layer}
        out[layer] = (
            "did_not_run"
            if scores.get(layer) is None
            else "blocked"
            if "blocker" in severities
            else "conditions"
            if "condition" in severities
            else "ok"
        )
    return out


def evaluate(summaries: dict, cfg: ReadinessSection, *, drift: dict | None = None) -> dict:
    """The "readiness" section of the scorecard."""
    ownership = summaries.get("ownership") or {}
    c = _Checker(cfg, declared_owners(ownership), cfg.escalate_to)
    for layer in LAYERS:
        if summaries.get(layer) is None:
            c.add(
                "layer_missing",
                layer,
                LAYER_AREA[layer],
                f"The {layer} layer did not run.",
                f"Materialize the {layer} assets and re-run the readiness scorecard.",
            )
        elif (summaries.get(layer) or {}).get("status") == "n/a":
            c.add(
                "layer_missing",
                layer,
                LAYER_AREA[layer],
                f"The {layer} layer cannot run on this export (n/a): "
                f"{summaries[layer].get('reason')}.",
                "Map the export's text fields (subject, description or a messages file) "
                "and re-run the audit.",
            )
    _quality(c, summaries.get("quality") or {}, ownership.get("evidence") or {})
    _pii(c, summaries.get("pii") or {})
    _retrieval(c, summaries.get("retrieval") or {})
    _ownership(c, ownership)
    _drift(c, drift)

    scores = layer_scores(summaries)
    if scores.get("pii") is not None and any(
        i.layer == "pii" and i.severity == "blocker" for i in c.issues
    ):
        scores["pii"] = min(scores["pii"], PII_SCORE_WITH_BLOCKER)
    weights = cfg.weights
    total_w = sum(weights.get(k, 0) for k in LAYERS)
    # A layer that did not run scores 0: missing evidence never raises the score.
    score = sum(weights.get(k, 0) * (scores[k] or 0.0) for k in LAYERS) / total_w
    if score < cfg.min_score:
        c.add(
            "score",
            "readiness",
            None,
            f"Overall readiness score {score:.2f} is below {cfg.min_score:.2f}.",
            "Resolve the issues below, largest layer gap first.",
            score,
            cfg.min_score,
        )
    blockers = [asdict(i) for i in c.issues if i.severity == "blocker"]
    conditions = [asdict(i) for i in c.issues if i.severity == "condition"]
    verdict = "not_ready" if blockers else "ready_with_conditions" if conditions else "ready"
    return {
        "verdict": verdict,
        "score": round(score, 4),
        "blocking_issues": blockers,
        "conditions": conditions,
        "layer_scores": scores,
        "layer_status": layer_status(scores, blockers + conditions),
        "weights": {k: weights.get(k, 0) for k in LAYERS},
        # The thresholds the checks used, so the page can say how the verdict was made.
        "thresholds": cfg.model_dump(exclude={"severity", "weights", "escalate_to"}),
        "severities": {k: cfg.severity_of(k) for k in DEFAULT_SEVERITY},
    }
