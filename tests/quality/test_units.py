"""Small, crafted cases for the pieces: duplicates, confident learning, reply labels, section."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from reports.quality_section import render_html, render_markdown
from ticket_audit.config.quality import QualitySection
from ticket_audit.quality.classifier import confident_learning
from ticket_audit.quality.duplicates import find_duplicates
from ticket_audit.quality.variability import reply_labels, summarise

TEXT = (
    "My router keeps disconnecting from the network every few minutes and the "
    "lights blink orange while the app says everything is fine"
)


def _tickets(rows: list[tuple]) -> pl.DataFrame:
    t0 = datetime(2026, 1, 1)
    return pl.DataFrame(
        [
            {
                "source": "s",
                "ticket_id": tid,
                "customer_id": cust,
                "created_at": t0 + timedelta(hours=i),
                "category": cat,
                "subject": "Help",
                "description": desc,
            }
            for i, (tid, cust, cat, desc) in enumerate(rows)
        ],
        schema={
            "source": pl.Utf8,
            "ticket_id": pl.Utf8,
            "customer_id": pl.Utf8,
            "created_at": pl.Datetime,
            "category": pl.Utf8,
            "subject": pl.Utf8,
            "description": pl.Utf8,
        },
    )


def test_exact_and_near_duplicates_within_one_customer() -> None:
    found = find_duplicates(
        _tickets(
            [
                ("a", "c1", "Tech", TEXT),
                ("b", "c1", "Tech", TEXT.upper() + "!!"),  # same words: exact
                ("c", "c1", "Billing", TEXT + " Please advise."),  # near copy, other label
                ("d", "c2", "Tech", TEXT),  # another customer: not a copy
                ("e", "c3", "Tech", "Completely different words about an invoice address"),
            ]
        ),
        QualitySection(),
    ).groups
    kinds = dict(zip(found["ticket_id"], found["kind"], strict=True))
    assert kinds == {"a": "original", "b": "exact", "c": "near"}
    assert found["label_conflict"].all()
    assert set(found["group_id"]) == {"s:a"}


def test_global_scope_ignores_the_customer() -> None:
    found = find_duplicates(
        _tickets([("a", "c1", "T", TEXT), ("d", "c2", "T", TEXT)]),
        QualitySection(duplicate_scope="global"),
    ).groups
    assert dict(zip(found["ticket_id"], found["kind"], strict=True)) == {
        "a": "original",
        "d": "exact",
    }


def test_near_duplicate_threshold_is_exact_jaccard() -> None:
    words = TEXT.split()
    half = " ".join(words[: len(words) // 2] + ["x"] * (len(words) // 2))
    found = find_duplicates(
        _tickets([("a", "c", "T", TEXT), ("b", "c", "T", half)]), QualitySection()
    ).groups
    assert found.height == 0


def test_confident_learning_finds_the_flipped_labels() -> None:
    rng = np.random.default_rng(0)
    n, k = 3000, 3
    truth = rng.integers(0, k, n)
    probs = np.full((n, k), 0.05)
    probs[np.arange(n), truth] = 0.9
    probs += rng.uniform(0, 0.05, (n, k))
    probs /= probs.sum(axis=1, keepdims=True)
    given = truth.copy()
    flipped = rng.choice(n, 300, replace=False)
    given[flipped] = (truth[flipped] + 1) % k
    cl = confident_learning(probs, given)
    assert set(np.nonzero(cl.issue)[0]) == set(flipped)
    assert (cl.suggested[flipped] == truth[flipped]).all()


def test_reply_labels_read_greeting_signoff_and_templates() -> None:
    macro = "Thank you for the report. Please update to the latest version."
    bodies = [
        f"Hi Anna,\n\n{macro}\n\nBest regards,\nTom",
        f"Dear customer,\n\n{macro}\n\nCheers, Lea",
        f"Hello,\n\n{macro}",
        "Thanks for the details. I checked with the team and it is fixed now.",
        "Hi,\n\nSorry about that!\n\n- Restart the device\n- Check for updates",
    ]
    labels = reply_labels(
        pl.DataFrame({"category": ["A"] * 5, "body": bodies, "sampled": [True] * 5})
    )
    assert labels["greeting"].to_list() == ["hi {name}", "dear customer", "hello", "none", "hi"]
    assert labels["signoff"].to_list() == ["regards", "cheers", "none", "none", "none"]
    assert labels["formatting"][4] == "bullets"
    assert labels["tone"][4] == "apologetic"
    assert labels["language"][0] == "en"
    assert "body" not in labels.columns
    # The macro body is identical under different greetings and sign-offs.
    assert labels["core_hash"][0] == labels["core_hash"][1] == labels["core_hash"][2]
    table = summarise(labels, min_share=0.5, min_count=3)
    overall = table.filter(pl.col("category") == "(all)").row(0, named=True)
    assert overall["templated_share"] == pytest.approx(3 / 5)
    assert 0 <= overall["variability_score"] <= 1


def test_section_renders_charts_and_escapes() -> None:
    summary = {
        "usable_labeled_share": 0.5,
        "tickets_read": 10,
        "usable_labeled_tickets": 5,
        "tickets_loaded": 10,
        "funnel": [
            {"step": "all tickets read", "key": "read", "remaining": 10, "removed": 0},
            {"step": "<b>usable</b>", "key": "label_plausible", "remaining": 5, "removed": 5},
        ],
        "by_month": [
            {"value": "2026-01", "tickets": 10, "tagging_coverage": 0.9, "usable_share": 0.5}
        ],
        "template_tokens": [{"field": "description", "token": "{x}", "tickets": 2}],
    }
    html = render_html(summary)
    assert 'data-chart="funnel"' in html and 'data-chart="coverage"' in html
    assert "<b>usable</b>" not in html and "&lt;b&gt;usable&lt;/b&gt;" in html
    assert 'data-chart="funnel"' not in render_html(summary, charts=False)
    assert "| all tickets read | 10 |" in render_markdown(summary)
