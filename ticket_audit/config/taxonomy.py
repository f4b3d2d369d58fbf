"""The label set the company says it uses; the audit measures the history against it."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class Taxonomy(Strict):
    # category -> allowed subcategories (empty list: any subcategory accepted)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    catch_all: list[str] = Field(default_factory=lambda: ["Other", "General", "Misc"])
    priorities: list[str] = Field(default_factory=lambda: ["low", "normal", "high", "urgent"])
    channels: list[str] = Field(default_factory=lambda: ["email", "chat", "phone", "web", "social"])
    statuses: list[str] = Field(default_factory=lambda: ["open", "pending", "solved", "closed"])
    # None: any non-empty value is valid (the source has no reference list).
    teams: list[str] | None = None
    products: list[str] | None = None
