"""Metadata suite: priority, channel, product and team present and valid; status and CSAT sane."""

from __future__ import annotations

from expectations.checks import Check, between, in_set, not_null
from ticket_audit.config import AuditConfig
from ticket_audit.quality.funnel import mapped_fields

SUITE = "metadata"


def checks(cfg: AuditConfig) -> list[Check]:
    tax = cfg.taxonomy
    reference = {
        "priority": tax.priorities,
        "channel": tax.channels,
        "product": tax.products,
        "team": tax.teams,
    }
    out: list[Check] = []
    for field in mapped_fields(cfg):
        out.append(
            not_null(
                SUITE, f"{field}_present", field, f"Every ticket has a {field}.", "metadata_valid"
            )
        )
        values = reference[field]
        if values:
            out.append(
                in_set(
                    SUITE,
                    f"{field}_valid",
                    field,
                    list(values),
                    f"The {field} is one of the configured values.",
                    "metadata_valid",
                )
            )
    if tax.statuses:
        out.append(
            in_set(
                SUITE,
                "status_valid",
                "status",
                list(tax.statuses),
                "The status maps to a known lifecycle state.",
                None,
            )
        )
    out.append(
        between(
            SUITE,
            "csat_in_range",
            "csat",
            1,
            5,
            "CSAT, where given, is a rating from 1 to 5.",
            None,
        )
    )
    return out
