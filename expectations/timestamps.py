"""Timestamps suite: lifecycle order (created <= first response <= resolved), none in the future.

Parseability is enforced at ingest: a row whose timestamp cannot be parsed is quarantined
with the field named (raw.quarantine), and the funnel counts it between "read" and "loaded".
"""

from __future__ import annotations

from datetime import datetime

from expectations.checks import Check, a_not_before_b, not_after, not_null
from ticket_audit.config import AuditConfig

SUITE = "timestamps"
CRITERION = "timestamps_consistent"
FUTURE_FIELDS = ("created_at", "first_response_at", "resolved_at", "updated_at")


def checks(cfg: AuditConfig, cutoff: datetime | None = None) -> list[Check]:
    cutoff = cutoff or cfg.quality.as_of_cutoff()
    out = [
        not_null(
            SUITE,
            "created_at_present",
            "created_at",
            "Every ticket has a creation time.",
            CRITERION,
        ),
        a_not_before_b(
            SUITE,
            "resolved_not_before_created",
            "resolved_at",
            "created_at",
            "A ticket is not resolved before it was created.",
            CRITERION,
        ),
        a_not_before_b(
            SUITE,
            "first_response_not_before_created",
            "first_response_at",
            "created_at",
            "The first response comes after the ticket was created.",
            CRITERION,
        ),
        a_not_before_b(
            SUITE,
            "first_response_not_after_resolution",
            "resolved_at",
            "first_response_at",
            "The first response comes before (or at) the resolution.",
            CRITERION,
        ),
    ]
    for field in FUTURE_FIELDS:
        out.append(
            not_after(
                SUITE,
                f"{field}_not_in_future",
                field,
                cutoff,
                f"{field} is not later than the export (as of {cutoff:%Y-%m-%d}).",
                CRITERION,
            )
        )
    return out
