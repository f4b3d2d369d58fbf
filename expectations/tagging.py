"""Tagging suite: the category is present and in the taxonomy; the subcategory fits it."""

from __future__ import annotations

from expectations.checks import PAIR_SEPARATOR, Check, in_set, not_in_set, not_null, sql_list
from ticket_audit.config import AuditConfig
from ticket_audit.tagging import CATEGORY_IN_TAXONOMY, CATEGORY_PRESENT, tagged_labels

SUITE = "tagging"


def category_pairs(cfg: AuditConfig) -> list[str]:
    return [
        f"{category}{PAIR_SEPARATOR}{sub}"
        for category, subs in cfg.taxonomy.categories.items()
        for sub in subs
    ]


def category_subcategory_sql(cfg: AuditConfig) -> str:
    """Derived column checked for subcategory consistency (NULL: nothing to check).

    Only categories that list subcategories constrain them; a catch-all or unknown category
    is reported by its own checks, not again as a subcategory mismatch.
    """
    constrained = [c for c, subs in cfg.taxonomy.categories.items() if subs]
    if not constrained:
        return "CAST(NULL AS VARCHAR)"
    return (
        f"CASE WHEN category IN {sql_list(constrained)} AND subcategory IS NOT NULL "
        f"THEN category || '{PAIR_SEPARATOR}' || subcategory END"
    )


def checks(cfg: AuditConfig) -> list[Check]:
    tax = cfg.taxonomy
    out = [
        not_null(
            SUITE,
            CATEGORY_PRESENT,
            "category",
            "Every ticket carries a category (the label a model learns).",
            "category_present",
        ),
    ]
    valid = tagged_labels(tax)
    if valid:
        out.append(
            in_set(
                SUITE,
                CATEGORY_IN_TAXONOMY,
                "category",
                valid,
                "The category is one of the configured taxonomy labels.",
                "category_valid",
            )
        )
    if tax.catch_all:
        out.append(
            not_in_set(
                SUITE,
                "category_not_catch_all",
                "category",
                list(tax.catch_all),
                "The category is specific, not a catch-all such as 'Other'.",
                "category_valid",
            )
        )
    pairs = category_pairs(cfg)
    if pairs:
        out.append(
            in_set(
                SUITE,
                "subcategory_matches_category",
                "category_subcategory",
                pairs,
                "The subcategory belongs to the ticket's category.",
                "subcategory_consistent",
            )
        )
    return out
