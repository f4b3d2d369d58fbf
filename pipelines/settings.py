"""Where the code location finds its audit configuration (one env var, one default)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "TICKET_AUDIT_CONFIG"
OUTPUT_ENV = "TICKET_AUDIT_OUTPUT"
# `ticket-audit demo` writes its generated history and config here.
DEMO_DIR = Path(".ticket_audit/demo")
DEFAULT_CONFIG = DEMO_DIR / "data" / "audit.yaml"


def config_path() -> str:
    return os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG))
