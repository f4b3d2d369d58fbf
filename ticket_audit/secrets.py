"""The keyed-hash secret: read from the environment, never from code, config or logs."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# Only for `ticket-audit demo` and tests on generated data: pseudonyms made with a published
# key can be reversed by guessing, so real audits must set their own.
DEMO_KEY = "ticket-audit-demo-key-not-secret"
_warned: set[str] = set()


def hash_key(env_var: str) -> str:
    key = os.environ.get(env_var)
    if key:
        return key
    if env_var not in _warned:
        _warned.add(env_var)
        log.warning(
            "%s is not set: using the public demo key for pseudonyms and keyed hashes. "
            "Set it to a secret value for a real audit.",
            env_var,
        )
    return DEMO_KEY
