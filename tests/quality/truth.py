"""What the audit should report for a generated history, computed from its truth.csv."""

from __future__ import annotations

import polars as pl

from ticket_audit.generator import GeneratedHistory
from ticket_audit.generator import vocabulary as vocab
from ticket_audit.quality.funnel import truth_funnel

# Check name -> truth.csv defect columns whose union the check must find.
CHECK_TRUTH: dict[str, tuple[str, ...]] = {
    "category_present": ("missing_category",),
    "category_in_taxonomy": ("unknown_category",),
    "category_not_catch_all": ("catch_all_category",),
    "subcategory_matches_category": ("subcategory_mismatch",),
    "priority_present": ("missing_priority",),
    "priority_valid": ("invalid_priority",),
    "channel_present": ("missing_channel",),
    "team_present": ("missing_team",),
    "product_present": ("missing_product",),
    "resolved_not_before_created": ("resolved_before_created",),
    # A ticket resolved before it was created is also resolved before its first response.
    "first_response_not_after_resolution": (
        "first_response_after_resolution",
        "resolved_before_created",
    ),
    "created_at_not_in_future": ("future_created_at",),
    "description_present": ("empty_description",),
    "description_no_template_token": ("template_leftover",),
    "description_no_html": ("html_debris",),
}


def loaded_truth(history: GeneratedHistory) -> pl.DataFrame:
    """truth.csv without the rows ingest must quarantine."""
    return history.truth().filter(pl.col("invalid_timestamp") == 0)


def share(truth: pl.DataFrame, *defects: str) -> float:
    hit = pl.any_horizontal([pl.col(d) == 1 for d in defects])
    return truth.select(hit.mean()).item()


def expected(history: GeneratedHistory) -> dict:
    t = loaded_truth(history)
    full = history.truth()
    funnel = truth_funnel(full)
    return {
        "tagging_coverage": 1 - share(t, "missing_category", "unknown_category"),
        "usable_labeled_share": funnel[-1]["remaining"] / full.height,
        "label_conflict_share": share(t, "label_conflict"),
        "duplicate_share": share(t, "exact_duplicate", "near_duplicate_conflict"),
        "exact_duplicate_share": share(t, "exact_duplicate"),
        "near_duplicate_share": share(t, "near_duplicate_conflict"),
        "catch_all_share": share(t, "catch_all_category"),
        # The classifier should find relabelled tickets and near copies carrying another
        # category than their text.
        "label_issue_share": share(t, "wrong_category", "near_duplicate_conflict"),
        "metadata_completeness": {
            f: 1 - share(t, f"missing_{f}") for f in ("priority", "channel", "product", "team")
        },
        "funnel": funnel,
        "checks": {name: share(t, *defects) for name, defects in CHECK_TRUTH.items()},
    }


def macro_reply_share(history: GeneratedHistory) -> float:
    """Share of public agent replies (of loaded tickets) built from a canned macro."""
    loaded = set(loaded_truth(history)["ticket_id"].to_list())
    m = pl.read_csv(history.messages_path, schema_overrides={"ticket_id": pl.Utf8})
    agent = m.filter(
        (pl.col("role") == "agent")
        & (pl.col("public") == "true")
        & pl.col("ticket_id").is_in(loaded)
    )
    macro = pl.any_horizontal(
        [pl.col("body").str.contains(text, literal=True) for text in vocab.MACRO_REPLIES.values()]
    )
    return agent.select(macro.mean()).item()
