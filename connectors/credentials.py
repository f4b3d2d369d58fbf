"""Secrets for sources: read from the environment at run time, kept out of every message."""

from __future__ import annotations

import os
from urllib.parse import quote

from connectors.errors import SourceUnavailableError

REDACTED = "***"


def secret_from_env(label: str, env_name: str | None, what: str) -> str | None:
    """The value of `env_name`, or None when the source configures no secret.

    The error names the variable, never a value, so it is safe in logs and in Dagster.
    """
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise SourceUnavailableError(
            f"{label}: environment variable {env_name} ({what}) is not set or empty"
        )
    return value


def scrub(message: str, *secrets: str | None) -> str:
    """`message` with every secret (plain or URL-encoded) replaced by ***."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            message = message.replace(form, REDACTED)
    return message
