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


# Labels of tickets of teams without a label set of their own, in `tagged_labels`'s mapping.
OTHER_TEAMS = "*"
Labels = list[str] | dict[str, list[str] | None] | None


def _labels(categories: dict, catch_all: list[str]) -> list[str] | None:
    return list(dict.fromkeys([*categories, *catch_all])) if categories else None


def tagged_labels(taxonomy: Taxonomy) -> Labels:
    """The labels a tagged ticket may carry; None: no taxonomy, any present category. With
    per-team label sets (`taxonomy.by_team`): team -> its labels, and `OTHER_TEAMS` -> the
    labels of every other team's tickets (None: any present category)."""
    overall = _labels(taxonomy.categories, taxonomy.catch_all)
    if not taxonomy.by_team:
        return overall
    out: dict[str, list[str] | None] = {
        team: _labels(own.categories, taxonomy.team_catch_all(team))
        for team, own in taxonomy.by_team.items()
    }
    out[OTHER_TEAMS] = overall
    return out


def tagged_predicate(labels: Labels, column: str = "category") -> tuple[str, list]:
    """SQL (and its parameters) for "this ticket is tagged", given `tagged_labels(...)`.

    "Present" is `IS NOT NULL`, as the GX not-null check counts it: the mapping turns blank
    text into NULL, so canonical tickets hold no empty category. Per-team labels read the
    team from the column beside `column` (`b.category` -> `b.team`).
    """
    if isinstance(labels, dict):
        team = column.rsplit("category", 1)[0] + "team"
        cases, params = [], []
        for name, own in labels.items():
            if name == OTHER_TEAMS:
                continue
            sql, p = tagged_predicate(own, column)
            cases.append(f"WHEN {team} = ? THEN {sql}")
            params += [name, *p]
        other, p = tagged_predicate(labels.get(OTHER_TEAMS), column)
        return f"(CASE {' '.join(cases)} ELSE {other} END)", [*params, *p]
    if labels:
        return f"coalesce({column} IN (SELECT unnest(?::VARCHAR[])), false)", [labels]
    return f"({column} IS NOT NULL)", []
