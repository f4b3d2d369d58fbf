"""The entity types the layer reports: pseudonym labels, risk class and how each is found."""

from __future__ import annotations

# Values that let someone pay, log in, or impersonate a person with one leak: compliance wants
# each ticket that holds one listed by id.
HIGH_RISK: frozenset[str] = frozenset(
    {"CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO", "PASSWORD", "API_KEY", "ACCESS_TOKEN"}
)

# Short labels inside pseudonyms (`<EMAIL_1f3a9c2b>`): readable in a redacted ticket.
PSEUDONYM_LABELS: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "PERSON": "PERSON",
    "STREET_ADDRESS": "ADDRESS",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "UK_NINO": "NINO",
    "IP_ADDRESS": "IP",
    "DATE_OF_BIRTH": "DOB",
    "PASSWORD": "PASSWORD",
    "API_KEY": "API_KEY",
    "ACCESS_TOKEN": "TOKEN",
    "ACCOUNT_NUMBER": "ACCOUNT",
    "ORDER_NUMBER": "ORDER",
}

# Plain-words description of each detector, used in the report's method section.
METHODS: dict[str, str] = {
    "EMAIL_ADDRESS": "pattern (name@domain.tld)",
    "PHONE_NUMBER": "phone-number library validation (international and national formats); "
    "national numbers outside North America need a word such as 'phone' or 'call' nearby",
    "PERSON": "named-entity recognition by the spaCy model, plus salutations ('Hi Lucas,') "
    "and introductions ('my name is ...', 'please ask for ...')",
    "STREET_ADDRESS": "patterns for house number + street (US, UK and European forms), "
    "optional unit, city, state and postcode; military APO/FPO addresses",
    "CREDIT_CARD": "12-19 digit numbers that pass the Luhn checksum",
    "IBAN_CODE": "IBAN shape with the country's length and the mod-97 checksum",
    "US_SSN": "NNN-NN-NNNN with invalid areas/groups excluded; 9 bare digits need context",
    "UK_NINO": "two letters, six digits, suffix A-D; invalid prefixes need context",
    "IP_ADDRESS": "IPv4 (each part 0-255) and IPv6, validated",
    "DATE_OF_BIRTH": "a date next to words such as 'born', 'birth', 'DOB'",
    "PASSWORD": "the word after 'password', 'passcode' or 'pwd' when it looks like a secret",
    "API_KEY": "known key prefixes (sk_live_, AKIA, AIza, ...) and long keys after 'API key'",
    "ACCESS_TOKEN": "known token shapes (GitHub, Slack, GitLab, JWT) and 'Bearer <token>'",
    "ACCOUNT_NUMBER": "configured account-number patterns and numbers after 'account number'",
    "ORDER_NUMBER": "configured order-number patterns only",
}


def pseudonym_label(entity_type: str) -> str:
    return PSEUDONYM_LABELS.get(entity_type, entity_type)
