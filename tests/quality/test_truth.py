"""The quality numbers on generated histories agree with the planted truth within 1 pp."""

from __future__ import annotations

import pytest

from tests.quality.truth import expected, macro_reply_share

TOL = 0.01  # one percentage point


def test_headline_numbers_match_truth(audited) -> None:
    s, want = audited.summary, expected(audited.history)
    for key in (
        "tagging_coverage",
        "usable_labeled_share",
        "label_conflict_share",
        "duplicate_share",
        "catch_all_share",
        "label_issue_share",
    ):
        assert s[key] == pytest.approx(want[key], abs=TOL), key
    assert s["duplicates"]["exact_duplicate_share"] == pytest.approx(
        want["exact_duplicate_share"], abs=TOL
    )
    assert s["duplicates"]["near_duplicate_share"] == pytest.approx(
        want["near_duplicate_share"], abs=TOL
    )
    for field, value in want["metadata_completeness"].items():
        assert s["metadata_completeness"][field] == pytest.approx(value, abs=TOL), field


def test_funnel_matches_truth_step_by_step(audited) -> None:
    funnel = {f["key"]: f["remaining"] for f in audited.summary["funnel"]}
    want = expected(audited.history)["funnel"]
    read = want[0]["remaining"]
    assert funnel["read"] == read
    for step in want:
        assert funnel[step["key"]] / read == pytest.approx(step["remaining"] / read, abs=TOL), step[
            "key"
        ]


def test_every_check_finds_its_planted_defect(audited) -> None:
    loaded = audited.summary["tickets_loaded"]
    found = {c["check"]: c["unexpected"] / loaded for c in audited.summary["checks"]}
    for name, share in expected(audited.history)["checks"].items():
        assert found[name] == pytest.approx(share, abs=TOL), name


def test_unparseable_timestamps_are_counted_not_dropped(audited) -> None:
    s, manifest = audited.summary, audited.history.manifest()
    assert s["tickets_read"] == manifest["tickets_written"]
    assert s["quarantined"] == {"created_at": manifest["planted"]["invalid_timestamp"]}
    assert s["funnel"][1]["removed"] == manifest["planted"]["invalid_timestamp"]


def test_forty_percent_missing_categories_reads_forty_percent(missing40_audit) -> None:
    s = missing40_audit.summary
    criteria = {c["key"]: c["failing_tickets"] for c in s["criteria"]}
    assert criteria["category_present"] / s["tickets_loaded"] == pytest.approx(0.40, abs=TOL)
    assert 1 - s["tagging_coverage"] == pytest.approx(
        0.40 + missing40_audit.history.manifest()["rates"]["unknown_category"], abs=TOL
    )


def test_templated_reply_share_matches_the_macros_used(audited) -> None:
    overall = audited.summary["response_variability_detail"]["overall"]
    assert overall["templated_share"] == pytest.approx(macro_reply_share(audited.history), abs=TOL)
    assert 0 < audited.summary["response_variability"] < 1
