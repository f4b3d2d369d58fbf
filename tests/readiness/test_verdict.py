"""Verdict rules: thresholds and severities from configuration decide the verdict."""

from __future__ import annotations

import pytest

from tests.readiness.summaries import healthy
from ticket_audit.config.readiness import DEFAULT_SEVERITY, ReadinessSection
from ticket_audit.readiness import evaluate, layer_scores


def checks(result: dict, key: str = "blocking_issues") -> list[str]:
    return [i["check"] for i in result[key]]


def test_healthy_history_is_ready() -> None:
    r = evaluate(healthy(), ReadinessSection())
    assert r["verdict"] == "ready", r
    assert r["blocking_issues"] == [] and r["conditions"] == []
    assert 0.75 <= r["score"] <= 1


def test_threshold_from_config_flips_the_verdict() -> None:
    s = healthy(quality={"usable_labeled_share": 0.7})
    assert evaluate(s, ReadinessSection(min_usable_labeled_share=0.6))["verdict"] == "ready"
    r = evaluate(s, ReadinessSection(min_usable_labeled_share=0.75))
    assert r["verdict"] == "not_ready"
    issue = r["blocking_issues"][0]
    assert issue["check"] == "usable_labeled_share"
    assert issue["owner"] == "team:taxonomy-team"
    assert issue["value"] == 0.7 and issue["threshold"] == 0.75
    assert issue["action"]


def test_severity_from_config_turns_a_blocker_into_a_condition() -> None:
    s = healthy(quality={"usable_labeled_share": 0.5})
    cfg = ReadinessSection(severity={"usable_labeled_share": "condition"})
    r = evaluate(s, cfg)
    assert r["verdict"] == "ready_with_conditions"
    assert checks(r, "conditions") == ["usable_labeled_share"]


def test_unknown_severity_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        ReadinessSection(severity={"usable_share": "condition"})


@pytest.mark.parametrize(
    ("changes", "check", "verdict"),
    [
        ({"quality": {"tagging_coverage": 0.7}}, "tagging_coverage", "ready_with_conditions"),
        (
            {"quality": {"label_conflict_share": 0.2}},
            "label_conflict_share",
            "ready_with_conditions",
        ),
        ({"quality": {"duplicate_share": 0.2}}, "duplicate_share", "ready_with_conditions"),
        (
            {"quality": {"metadata_completeness": {"team": 0.5}}},
            "metadata_completeness",
            "ready_with_conditions",
        ),
        ({"pii": {"residual_findings_after_redaction": 3}}, "residual_pii", "not_ready"),
        (
            {"retrieval": {"projection": {"projected_docs": 10**8, "p95_ms": 900.0}}},
            "retrieval_latency",
            "not_ready",
        ),
        ({"retrieval": {"precision_at_5": 0.4}}, "precision_at_5", "ready_with_conditions"),
        (
            {"retrieval": {"top_hit_reply_share": 0.5}},
            "top_hit_reply_share",
            "ready_with_conditions",
        ),
        ({"ownership": {"missing_owners": ["retrieval"]}}, "owner_missing", "not_ready"),
        ({"ownership": {"stale_reviews": ["taxonomy"]}}, "review_stale", "ready_with_conditions"),
        (
            {"ownership": {"fields_without_steward": ["csat"]}},
            "fields_without_steward",
            "ready_with_conditions",
        ),
        ({"pii": None}, "layer_missing", "not_ready"),
    ],
)
def test_each_check(changes: dict, check: str, verdict: str) -> None:
    r = evaluate(healthy(**changes), ReadinessSection())
    assert r["verdict"] == verdict
    key = "blocking_issues" if DEFAULT_SEVERITY[check] == "blocker" else "conditions"
    assert check in checks(r, key)
    for issue in r["blocking_issues"] + r["conditions"]:
        assert issue["owner"] and issue["action"] and issue["issue"]


def test_an_issue_in_an_unowned_area_goes_to_the_escalation_contact() -> None:
    s = healthy(retrieval={"precision_at_5": 0.4})
    for r in s["ownership"]["responsibilities"]:
        if r["area"] == "retrieval":
            r["owner"] = None
    result = evaluate(s, ReadinessSection(escalate_to="ana@example.com"))
    (issue,) = [i for i in result["conditions"] if i["check"] == "precision_at_5"]
    assert issue["owner"] == "ana@example.com (no owner for retrieval)"


def test_category_drift_over_threshold_is_a_condition() -> None:
    drift = {"tvd": 0.3, "changes": [{"category": "Billing", "delta": 0.3}]}
    r = evaluate(healthy(), ReadinessSection(max_category_drift=0.2), drift=drift)
    assert checks(r, "conditions") == ["category_drift"]
    assert (
        evaluate(healthy(), ReadinessSection(max_category_drift=0.35), drift=drift)["verdict"]
        == "ready"
    )


def test_score_is_the_weighted_mean_of_layer_scores() -> None:
    s = healthy()
    scores = layer_scores(s)
    q = s["quality"]
    expected_quality = (
        q["tagging_coverage"]
        + q["usable_labeled_share"]
        + (1 - 0.01)
        + (1 - 0.01)
        + (0.99 + 0.98 + 0.97) / 3
    ) / 5
    assert scores["quality"] == pytest.approx(expected_quality, abs=1e-4)
    assert scores["pii"] == 1.0 and scores["ownership"] == 1.0
    assert scores["retrieval"] == pytest.approx(0.5 * 1 + 0.5 * 0.9)
    cfg = ReadinessSection(weights={"quality": 1, "pii": 0, "retrieval": 0, "ownership": 0})
    assert evaluate(s, cfg)["score"] == pytest.approx(expected_quality, abs=1e-4)


def test_a_missing_layer_scores_zero_and_the_score_check_fires() -> None:
    s = healthy(quality=None)
    r = evaluate(s, ReadinessSection())
    assert r["layer_scores"]["quality"] is None
    assert r["score"] == pytest.approx((0.2 * 1 + 0.25 * 0.95 + 0.15 * 1) / 1.0, abs=1e-4)
    assert "score" in checks(r, "conditions")


def test_latency_over_budget_lowers_the_retrieval_score() -> None:
    s = healthy(retrieval={"projection": {"p95_ms": 1000.0, "projected_docs": 1}})
    assert layer_scores(s)["retrieval"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.9)


@pytest.mark.parametrize(
    ("label_classifier", "said"),
    [
        (
            {"classifier_skill": 0.04, "scored_tickets": 900, "labelled_tickets": 900},
            "the text does not predict them",
        ),
        (
            {
                "classifier_skill": 0.5,
                "labels_learnable": True,
                "scored_tickets": 50,
                "labelled_tickets": 267,
            },
            "only 50 of 267 labelled tickets could be checked",
        ),
        ({"classifier_skill": None}, "too few labelled tickets per category"),
    ],
)
def test_unverified_labels_never_make_a_ready_verdict(label_classifier, said) -> None:
    s = healthy(quality={"usable_labeled_verified": False, "label_classifier": label_classifier})
    r = evaluate(s, ReadinessSection())
    assert r["verdict"] == "ready_with_conditions"
    (issue,) = [i for i in r["conditions"] if i["check"] == "usable_labeled_unverified"]
    assert "labels unverified" in issue["issue"] and said in issue["issue"]
    # The same history with verified labels is ready.
    s["quality"]["usable_labeled_verified"] = True
    assert evaluate(s, ReadinessSection())["verdict"] == "ready"
