"""One scanner per process and settings: building the analyzer loads the spaCy model."""

from __future__ import annotations

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.scan import Scanner

_SCANNERS: dict[str, Scanner] = {}


def get_scanner(pii: PiiSection) -> Scanner:
    key = pii.model_dump_json()
    scanner = _SCANNERS.get(key)
    if scanner is None:
        scanner = _SCANNERS[key] = Scanner(pii)
    return scanner
