"""The PII entity types the audit reports, defined once: name, pseudonym label, risk class
and how each is found. The config (`pii.entities`), the recognizers, the exposure report and
the evaluation import this catalogue; nothing else lists entity types.

A core module of its own, importing nothing: the config validates `pii.entities` against it
and the pii layer imports the config, so it can live in neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntityType:
    name: str
    label: str  # short label inside pseudonyms (`<EMAIL_1f3a9c2b>`), readable in a redacted ticket
    # Values that let someone pay, log in, or impersonate a person with one leak: compliance
    # wants each ticket that holds one listed by id.
    high_risk: bool
    method: str  # plain-words description of the detector, for the report's method section
    # Not personal data alone, but narrows a person down with other fields (a city, a region):
    # reported as low risk, redacted only with `pii.redact_quasi_identifiers`.
    quasi_identifier: bool = False


_CATALOGUE = (
    EntityType("EMAIL_ADDRESS", "EMAIL", False, "pattern (name@domain.tld)"),
    EntityType(
        "PHONE_NUMBER",
        "PHONE",
        False,
        "phone-number library validation (international and national formats); "
        "national numbers outside North America need a word such as 'phone' or 'call' nearby; "
        "any digits after 'my number is' or 'call me on'; timestamps and versions excluded",
    ),
    EntityType(
        "PERSON",
        "PERSON",
        False,
        "named-entity recognition by the spaCy model of the text's language (English, "
        "French), plus salutations and sign-offs in en/de/fr/es/pt/it/nl ('Hi Lucas,', "
        "'Sehr geehrter Herr ...', 'Cordialement, <name>') and introductions ('my name is ...', "
        "also in lower case, 'je m'appelle ...', 'please ask for ...')",
    ),
    EntityType(
        "STREET_ADDRESS",
        "ADDRESS",
        False,
        "patterns for house number + street (US, UK and European forms), "
        "optional unit, city, state and postcode; military APO/FPO addresses",
    ),
    EntityType(
        "LOCATION",
        "LOCATION",
        False,
        "named-entity recognition (cities, regions, countries) in languages with a model, and "
        "places after an English cue ('I am in …', 'moved here from …', 'originally from …'); "
        "a quasi-identifier, low risk",
        quasi_identifier=True,
    ),
    EntityType("CREDIT_CARD", "CARD", True, "12-19 digit numbers that pass the Luhn checksum"),
    EntityType(
        "IBAN_CODE", "IBAN", True, "IBAN shape with the country's length and the mod-97 checksum"
    ),
    EntityType(
        "US_SSN",
        "SSN",
        True,
        "NNN-NN-NNNN (dashes, dots or spaces) with invalid areas/groups excluded; "
        "9 bare digits need a word such as 'SSN' or 'social security' nearby",
    ),
    EntityType(
        "US_ITIN",
        "ITIN",
        True,
        "9NN-NN-NNNN taxpayer numbers (groups 50-65, 70-88, 90-92, 94-99); bare digits need "
        "context",
    ),
    EntityType(
        "UK_NINO",
        "NINO",
        True,
        "two letters, six digits, suffix A-D; invalid prefixes need context",
    ),
    EntityType("IP_ADDRESS", "IP", False, "IPv4 (each part 0-255) and IPv6, validated"),
    EntityType(
        "DATE_OF_BIRTH", "DOB", False, "a date next to words such as 'born', 'birth', 'DOB'"
    ),
    EntityType(
        "PASSWORD",
        "PASSWORD",
        True,
        "the word after 'password', 'passcode' or 'pwd' when it looks like a secret",
    ),
    EntityType(
        "API_KEY",
        "API_KEY",
        True,
        "known key prefixes (sk_live_, AKIA, AIza, ...) and long keys after 'API key'",
    ),
    EntityType(
        "ACCESS_TOKEN",
        "TOKEN",
        True,
        "known token shapes (GitHub, Slack, GitLab, JWT) and 'Bearer <token>'",
    ),
    EntityType(
        "ACCOUNT_NUMBER",
        "ACCOUNT",
        False,
        "configured account-number patterns and numbers after 'account number', 'Acc:', "
        "'acct' or 'Kontonummer'",
    ),
    EntityType("ORDER_NUMBER", "ORDER", False, "configured order-number patterns only"),
)

ENTITY_TYPES: dict[str, EntityType] = {e.name: e for e in _CATALOGUE}

# Every entity type the layer can report, in report order. PERSON needs the spaCy model's
# NER; all others are patterns with validation (checksums, context words).
SUPPORTED_ENTITIES: tuple[str, ...] = tuple(ENTITY_TYPES)
HIGH_RISK: frozenset[str] = frozenset(e.name for e in _CATALOGUE if e.high_risk)
PSEUDONYM_LABELS: dict[str, str] = {e.name: e.label for e in _CATALOGUE}
METHODS: dict[str, str] = {e.name: e.method for e in _CATALOGUE}
QUASI_IDENTIFIERS: frozenset[str] = frozenset(e.name for e in _CATALOGUE if e.quasi_identifier)

# Types a spaCy model's NER finds, with the model labels that mean them (OntoNotes for
# English, WikiNER for French and the other news models).
NER_ENTITIES: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON", "PER"),
    "LOCATION": ("GPE", "LOC"),
}


def pseudonym_label(entity_type: str) -> str:
    return PSEUDONYM_LABELS.get(entity_type, entity_type)
