"""Ownership layer: declared owners per area, their review dates, and evidence from the data."""

from ticket_audit.ownership.evidence import tagging_evidence
from ticket_audit.ownership.owners import (
    AREAS,
    OwnersFile,
    load_owners,
    owners_by_group,
    owners_for_config,
    parse_owners,
)
from ticket_audit.ownership.scorecard import ownership_scorecard

__all__ = [
    "AREAS",
    "OwnersFile",
    "load_owners",
    "owners_by_group",
    "owners_for_config",
    "ownership_scorecard",
    "parse_owners",
    "tagging_evidence",
]
