"""Tagging suite: the category is present and in the taxonomy; the subcategory fits it."""

from __future__ import annotations

from expectations.checks import PAIR_SEPARATOR, Check, in_set, not_in_set, not_null, sql_list
from ticket_audit.config import AuditConfig
from ticket_audit.tagging import CATEGORY_IN_TAXONOMY, CATEGORY_PRESENT, tagged_labels

SUITE = "tagging"


def category_pairs(cfg: AuditConfig) -> list[str]:
    sets = [cfg.taxonomy.categories, *(t.categories for t in cfg.taxonomy.by_team.values())]
    return list(
        dict.fromkeys(
            f"{category}{PAIR_SEPARATOR}{sub}"
            for cats in sets
            for category, subs in cats.items()
            for sub in subs
        )
    )


# Tickets of teams without a label set of their own, in the derived `team_category` column.
OTHER_TEAMS = "*"


def team_category_sql(cfg: AuditConfig) -> str:
    """`team :: category` for tickets judged by their team's label set (`taxonomy.by_team`),
    `* :: category` for the rest; NULL without a category (or without per-team sets)."""
    teams = list(cfg.taxonomy.by_team)
    if not teams:
        return "CAST(NULL AS VARCHAR)"
    return (
        f"CASE WHEN category IS NOT NULL THEN (CASE WHEN team IN {sql_list(teams)} THEN team "
        f"ELSE '{OTHER_TEAMS}' END) || '{PAIR_SEPARATOR}' || category END"
    )


def _team_checks(cfg: AuditConfig) -> list[Check]:
    tax = cfg.taxonomy
    valid, catch_all = [], []
    for team, own in tax.by_team.items():
        ca = tax.team_catch_all(team)
        valid += [f"{team}{PAIR_SEPARATOR}{c}" for c in [*own.categories, *ca]]
        catch_all += [f"{team}{PAIR_SEPARATOR}{c}" for c in ca]
    other = [f"{OTHER_TEAMS}{PAIR_SEPARATOR}{c}" for c in tax.catch_all]
    catch_all += other
    if tax.categories:
        valid += [f"{OTHER_TEAMS}{PAIR_SEPARATOR}{c}" for c in tax.categories] + other
    else:
        # No label set for the other teams: any of their labels passes, as without a taxonomy.
        valid = None
    out = []
    if valid is not None:
        out.append(
            in_set(
                SUITE,
                CATEGORY_IN_TAXONOMY,
                "team_category",
                list(dict.fromkeys(valid)),
                "The category is one of the labels of the ticket's team (taxonomy.by_team).",
                "category_valid",
            )
        )
    if catch_all:
        out.append(
            not_in_set(
                SUITE,
                "category_not_catch_all",
                "team_category",
                list(dict.fromkeys(catch_all)),
                "The category is specific, not a catch-all of the ticket's team.",
                "category_valid",
            )
        )
    return out


def category_subcategory_sql(cfg: AuditConfig) -> str:
    """Derived column checked for subcategory consistency (NULL: nothing to check).

    Only categories that list subcategories constrain them; a catch-all or unknown category
    is reported by its own checks, not again as a subcategory mismatch.
    """
    constrained = [c for c, subs in cfg.taxonomy.categories.items() if subs]
    for team in cfg.taxonomy.by_team.values():
        constrained += [c for c, subs in team.categories.items() if subs and c not in constrained]
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
    valid = None if tax.by_team else tagged_labels(tax)
    if tax.by_team:
        out += _team_checks(cfg)
    elif valid:
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
    if tax.catch_all and not tax.by_team:
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
