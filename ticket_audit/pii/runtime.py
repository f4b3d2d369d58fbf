"""One scanner per process and settings: building the analyzer loads the spaCy model."""

from __future__ import annotations

import gc

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.scan import Scanner

_SCANNERS: dict[str, Scanner] = {}


def get_scanner(pii: PiiSection) -> Scanner:
    key = pii.model_dump_json()
    scanner = _SCANNERS.get(key)
    if scanner is None:
        scanner = _SCANNERS[key] = Scanner(pii)
        # Everything alive now (spaCy, Presidio and the models: ~100k objects) lives as long
        # as the process, yet every full pass of the cyclic collector walks it again: ~70 ms
        # each, a few per scan and two at exit (0.2 s of a fresh process, bench pii_distinct).
        # Frozen, the collector skips it; reference counting still frees what is dropped.
        gc.freeze()
    return scanner
