"""Keyed hashes of PII values: distinct-value counts and pseudonyms without the values.

HMAC-SHA256 with the secret from the environment variable named in `audit.hash_key_env`
(`ticket_audit.secrets` falls back to a published demo key with a warning). Without the key
nobody can test a guess ("is alice@example.com in the history?") against the stored hashes.
Values are normalised per entity type first, so `Alice@Example.com` and `alice@example.com`,
or `+1 (415) 555-0100` and `415.555.0100`, count and pseudonymise as one value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

import phonenumbers

from ticket_audit.entity_types import pseudonym_label
from ticket_audit.secrets import hash_key

VALUE_HASH_DIGITS = 16
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s.-]")


def normalize(entity_type: str, value: str) -> str:
    value = value.strip()
    if entity_type == "EMAIL_ADDRESS":
        return value.lower()
    if entity_type == "PHONE_NUMBER":
        try:
            number = phonenumbers.parse(value.replace("(0)", ""), "US")
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            return "".join(c for c in value if c.isdigit())
    if entity_type in (
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "UK_NINO",
        "ACCOUNT_NUMBER",
        "ORDER_NUMBER",
    ):
        return _SEPARATORS.sub("", value).upper()
    if entity_type in ("PERSON", "STREET_ADDRESS"):
        return _SPACES.sub(" ", value).strip(" .,").casefold()
    if entity_type == "IP_ADDRESS":
        return value.lower()
    return value


class KeyedHasher:
    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode() if isinstance(key, str) else key
        self._digest = lru_cache(maxsize=262_144)(self._compute)

    @classmethod
    def from_env(cls, env_var: str) -> KeyedHasher:
        return cls(hash_key(env_var))

    def _compute(self, entity_type: str, value: str) -> str:
        message = f"{entity_type}\x1f{normalize(entity_type, value)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def value_hash(self, entity_type: str, value: str) -> str:
        """What `audit.pii_findings.value_hash` stores: equal values, equal hashes."""
        return self._digest(entity_type, value)[:VALUE_HASH_DIGITS]

    def pseudonym(self, entity_type: str, value: str, digits: int = 8) -> str:
        return f"<{pseudonym_label(entity_type)}_{self._digest(entity_type, value)[:digits]}>"

    def text_salt(self, purpose: str) -> str:
        """A secret salt for fingerprints of whole texts (change detection), per purpose."""
        return hmac.new(self._key, f"salt\x1f{purpose}".encode(), hashlib.sha256).hexdigest()
