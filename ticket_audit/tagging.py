"""The "tagged" rule, defined once for every layer (docs/quality.md, "Tagging coverage").

A ticket is tagged when its category is present and, when a taxonomy is configured, one of
the taxonomy's labels: a category or a catch-all label. Catch-all labels count: they are
configured labels, someone chose them; whether a label is specific enough is the usable-data
criterion `category_valid`'s question, not tagging's. Without categories in the taxonomy,
presence alone.

Users: the GX tagging suite (`expectations/tagging.py`, checks `TAGGED_CHECKS`), the quality
funnel's `tagged` flag and `tagging_coverage` (from those checks' violations), and the SQL
predicate below (business baselines' monthly tagged series, ownership's untagged evidence,
hence the readiness hint printed beside the coverage).
"""

from __future__ import annotations

from ticket_audit.config.taxonomy import Taxonomy

# The tagging suite's checks whose violations make a ticket untagged.
CATEGORY_PRESENT = "category_present"
CATEGORY_IN_TAXONOMY = "category_in_taxonomy"
TAGGED_CHECKS = (CATEGORY_PRESENT, CATEGORY_IN_TAXONOMY)


def tagged_labels(taxonomy: Taxonomy) -> list[str] | None:
    """The labels a tagged ticket may carry; None: no taxonomy, any present category."""
    if not taxonomy.categories:
        return None
    return list(dict.fromkeys([*taxonomy.categories, *taxonomy.catch_all]))


def tagged_predicate(labels: list[str] | None, column: str = "category") -> tuple[str, list]:
    """SQL (and its parameters) for "this ticket is tagged", given `tagged_labels(...)`.

    "Present" is `IS NOT NULL`, as the GX not-null check counts it: the mapping turns blank
    text into NULL, so canonical tickets hold no empty category.
    """
    if labels:
        return f"coalesce({column} IN (SELECT unnest(?::VARCHAR[])), false)", [labels]
    return f"({column} IS NOT NULL)", []
