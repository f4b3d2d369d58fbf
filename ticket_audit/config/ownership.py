"""Settings of the ownership layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class OwnershipSection(Strict):
    owners_file: str | None = None
    stale_after_days: int = Field(default=180, gt=0)
