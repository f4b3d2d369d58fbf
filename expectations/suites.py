"""The four suites as code, built from the audit configuration, and the frame they validate."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from expectations import metadata, tagging, text, timestamps
from expectations.checks import Check
from ticket_audit.config import AuditConfig

if TYPE_CHECKING:
    import great_expectations as gx

SUITES = ("tagging", "metadata", "timestamps", "text")

# Columns each suite sees. GX filters and copies whole frames per expectation, so narrow
# frames keep it fast, and only the text suite ever holds free text.
SUITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "tagging": ("category", "subcategory", "category_subcategory", "team_category"),
    "metadata": ("priority", "channel", "product", "team", "status", "csat"),
    "timestamps": ("created_at", "first_response_at", "resolved_at", "updated_at"),
    "text": ("subject", "description"),
}
KEY_COLUMNS = ("source", "ticket_id", "created_month")
FRAME_COLUMNS = tuple(
    dict.fromkeys(
        [
            *KEY_COLUMNS,
            *(
                c
                for cols in SUITE_COLUMNS.values()
                for c in cols
                if c not in ("category_subcategory", "team_category")
            ),
        ]
    )
)


def tolerance(suite: str, cfg: AuditConfig) -> float:
    """The share of tickets a suite's checks need to pass: the scorecard's threshold, so a
    check GX marks failed is one the scorecard counts against readiness (docs/quality.md).

    Tagging checks measure tagging coverage (`readiness.min_tagging_coverage`); metadata,
    timestamp and text checks measure per-field completeness and validity
    (`readiness.min_metadata_completeness`).
    """
    r = cfg.readiness
    return r.min_tagging_coverage if suite == "tagging" else r.min_metadata_completeness


def all_checks(cfg: AuditConfig, cutoff: datetime | None = None) -> list[Check]:
    cutoff = cutoff or cfg.quality.as_of_cutoff()
    out = [
        replace(c, mostly=tolerance(c.suite, cfg))
        for c in (
            *tagging.checks(cfg),
            *metadata.checks(cfg),
            *timestamps.checks(cfg, cutoff),
            *text.checks(cfg),
        )
    ]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "check names must be unique"
    return out


def checks_by_suite(checks: list[Check]) -> dict[str, list[Check]]:
    return {s: [c for c in checks if c.suite == s] for s in SUITES}


def frame_sql(cfg: AuditConfig, where: str = "TRUE") -> str:
    """SELECT of the validated frame from canonical.tickets (plus derived columns)."""
    cols = ", ".join(FRAME_COLUMNS)
    return (
        f"SELECT {cols}, {tagging.category_subcategory_sql(cfg)} AS category_subcategory, "
        f"{tagging.team_category_sql(cfg)} AS team_category "
        f"FROM canonical.tickets WHERE {where}"
    )


def build_suite(name: str, checks: list[Check]) -> gx.ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name, meta={"built_by": "ticket-audit expectations/"})
    for check in checks:
        expectation = check.expectation()
        if check.mostly is not None:
            expectation.mostly = check.mostly
        suite.add_expectation(expectation)
    return suite


def check_descriptions(cfg: AuditConfig) -> dict[str, str]:
    """Check name -> the sentence that says what it checks (for the quality summary)."""
    return {c.name: c.description for c in all_checks(cfg)}
