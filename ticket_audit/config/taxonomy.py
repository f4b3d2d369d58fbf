"""The label set the company says it uses; the audit measures the history against it."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class TeamTaxonomy(Strict):
    """The label set of one team or brand; its tickets are judged against it alone."""

    categories: dict[str, list[str]] = Field(min_length=1)
    # None: the taxonomy's `catch_all`.
    catch_all: list[str] | None = None


class Taxonomy(Strict):
    # category -> allowed subcategories (empty list: any subcategory accepted)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    catch_all: list[str] = Field(default_factory=lambda: ["Other", "General", "Misc"])
    # Team (or brand) -> its own label set, for exports that mix companies or teams. A label
    # valid for one team is not valid for another; tickets of teams not listed here are
    # judged against `categories`.
    by_team: dict[str, TeamTaxonomy] = Field(default_factory=dict)
    priorities: list[str] = Field(default_factory=lambda: ["low", "normal", "high", "urgent"])
    channels: list[str] = Field(default_factory=lambda: ["email", "chat", "phone", "web", "social"])
    statuses: list[str] = Field(default_factory=lambda: ["open", "pending", "solved", "closed"])
    # None: any non-empty value is valid (the source has no reference list).
    teams: list[str] | None = None
    products: list[str] | None = None

    def team_catch_all(self, team: str) -> list[str]:
        own = self.by_team[team].catch_all
        return list(self.catch_all if own is None else own)

    def all_categories(self) -> list[str]:
        """Every label of every label set (for listings, not for validity)."""
        cats = list(self.categories)
        for t in self.by_team.values():
            cats += [c for c in t.categories if c not in cats]
        return cats
