"""Settings of the ownership layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class OwnershipSection(Strict):
    # YAML file declaring owners per area (docs/ownership.md); relative to the config file.
    owners_file: str | None = None
    # A review older than this is reported as stale.
    stale_after_days: int = Field(default=180, gt=0)
    # Untagged-share evidence lists at most this many teams, channels and assignees each.
    evidence_top_n: int = Field(default=10, gt=0)
