"""Allow-list, deny-list, settings validation, keyed hashes and consistent pseudonyms."""

from __future__ import annotations

import logging
import re

import pytest
from pydantic import ValidationError

from ticket_audit.config.pii import Operator, PiiSection
from ticket_audit.pii.hashing import KeyedHasher, normalize
from ticket_audit.pii.redact import Redactor
from ticket_audit.pii.scan import Scanner

SIGNATURE = (
    "Thanks,\nNimbus Support Team\nsupport@nimbus-support.example | +1 800 555 0100\n"
    "Your Nimbus Router X2 is covered."
)


def test_allow_list_hides_company_contact_points(scanner: Scanner) -> None:
    assert scanner.scan_one(SIGNATURE) == []
    # The same number written differently is still the company's own.
    assert scanner.scan_one("call us on 1-800-555-0100 or (800) 555-0100") == []


def test_allow_list_is_what_hides_them(scanner: Scanner) -> None:
    bare = Scanner(scanner.config.model_copy(update={"allow_list": []}), scanner.analyzer)
    found = {(f.entity_type, SIGNATURE[f.start : f.end]) for f in bare.scan_one(SIGNATURE)}
    assert ("EMAIL_ADDRESS", "support@nimbus-support.example") in found
    assert ("PHONE_NUMBER", "+1 800 555 0100") in found


def test_allow_list_keeps_customer_values_next_to_company_ones(scanner: Scanner) -> None:
    text = "Write to support@nimbus-support.example, cc my address jo.k@example.net"
    found = [(f.entity_type, text[f.start : f.end]) for f in scanner.scan_one(text)]
    assert found == [("EMAIL_ADDRESS", "jo.k@example.net")]


def test_deny_list_reports_internal_identifiers(scanner: Scanner) -> None:
    cfg = scanner.config.model_copy(update={"deny_list": {r"\bNB-INT-\d{6}\b": "INTERNAL_ID"}})
    deny = Scanner(cfg)
    text = "Escalated as NB-INT-004211, see NB-INT-12 (too short)."
    found = [(f.entity_type, text[f.start : f.end], f.score) for f in deny.scan_one(text)]
    assert found == [("INTERNAL_ID", "NB-INT-004211", 1.0)]


def test_configured_order_numbers(scanner: Scanner) -> None:
    text = "Order ORD-2024-88812 never arrived."
    assert scanner.scan_one(text) == []  # no order format configured by default
    cfg = scanner.config.model_copy(update={"order_number_patterns": [r"\bORD-\d{4}-\d{5}\b"]})
    found = [(f.entity_type, text[f.start : f.end]) for f in Scanner(cfg).scan_one(text)]
    assert found == [("ORDER_NUMBER", "ORD-2024-88812")]


def test_disabled_entities_are_not_reported(scanner: Scanner) -> None:
    cfg = scanner.config.model_copy(update={"entities": ["EMAIL_ADDRESS"]})
    text = "Olivia Garcia, olivia@example.com, card 4111 1111 1111 1111"
    assert {f.entity_type for f in Scanner(cfg).scan_one(text)} == {"EMAIL_ADDRESS"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"entities": ["EMAIL", "PERSON"]}, "unknown entity type"),
        ({"deny_list": {"([a-z": "INTERNAL"}}, "invalid regular expression"),
        ({"deny_list": {r"\d+": "internal id"}}, "UPPER_SNAKE_CASE"),
        ({"account_number_patterns": ["(unclosed"]}, "invalid regular expression"),
        ({"operators": {"EMAIL_ADDRESS": {"type": "shred"}}}, "pseudonym"),
        ({"n_process": 0}, "n_process"),
    ],
)
def test_bad_settings_name_the_key(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PiiSection(**settings)


def test_keyed_hash_normalises_and_depends_on_key() -> None:
    a, b = KeyedHasher("key-a"), KeyedHasher("key-b")
    assert a.value_hash("EMAIL_ADDRESS", "Ann@Example.com") == a.value_hash(
        "EMAIL_ADDRESS", " ann@example.com"
    )
    assert a.value_hash("PHONE_NUMBER", "+1 (415) 555-0100") == a.value_hash(
        "PHONE_NUMBER", "415.555.0100"
    )
    assert a.value_hash("CREDIT_CARD", "4111 1111 1111 1111") == a.value_hash(
        "CREDIT_CARD", "4111-1111-1111-1111"
    )
    assert a.value_hash("EMAIL_ADDRESS", "ann@example.com") != b.value_hash(
        "EMAIL_ADDRESS", "ann@example.com"
    )
    assert a.value_hash("EMAIL_ADDRESS", "ann@example.com") != a.value_hash(
        "EMAIL_ADDRESS", "bob@example.com"
    )
    # The type is part of the message: one string as two types gives two hashes.
    assert a.value_hash("PERSON", "Jordan") != a.value_hash("STREET_ADDRESS", "Jordan")
    assert normalize("IBAN_CODE", "gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"


def test_demo_key_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ticket_audit.secrets as secrets

    monkeypatch.delenv("PII_TEST_UNSET_KEY", raising=False)
    monkeypatch.setattr(secrets, "_warned", set())
    with caplog.at_level(logging.WARNING):
        h1 = KeyedHasher.from_env("PII_TEST_UNSET_KEY")
        KeyedHasher.from_env("PII_TEST_UNSET_KEY")
    warnings = [r for r in caplog.records if "PII_TEST_UNSET_KEY" in r.getMessage()]
    assert len(warnings) == 1 and "demo key" in warnings[0].getMessage()
    assert h1.value_hash("PERSON", "x") == KeyedHasher(secrets.DEMO_KEY).value_hash("PERSON", "x")
    monkeypatch.setenv("PII_TEST_UNSET_KEY", "a real secret")
    assert KeyedHasher.from_env("PII_TEST_UNSET_KEY").value_hash("PERSON", "x") != h1.value_hash(
        "PERSON", "x"
    )


def test_same_value_same_pseudonym_everywhere(scanner: Scanner, hasher: KeyedHasher) -> None:
    redactor = Redactor(scanner.config, hasher)
    texts = [
        "Mail me at Jane.Roe@example.org or call +44 20 7946 0958.",
        "Reply to jane.roe@example.org please.",
        "My number: +44 20 7946 0958, my mail: zed@example.org",
    ]
    redacted = [redactor.redact(t, f) for t, f in zip(texts, scanner.scan(texts), strict=True)]
    email = re.findall(r"<EMAIL_[0-9a-f]{8}>", redacted[0])[0]
    phone = re.findall(r"<PHONE_[0-9a-f]{8}>", redacted[0])[0]
    assert email in redacted[1] and phone in redacted[2]
    assert re.findall(r"<EMAIL_[0-9a-f]{8}>", redacted[2]) != [email]
    for r in redacted:
        assert "@example.org" not in r and "7946" not in r


def test_operators_per_entity_type(scanner: Scanner, hasher: KeyedHasher) -> None:
    cfg = scanner.config.model_copy(
        update={
            "operators": {
                "CREDIT_CARD": Operator(type="mask", chars_to_mask=12),
                "EMAIL_ADDRESS": Operator(type="replace", new_value="[email]"),
                "PHONE_NUMBER": Operator(type="redact"),
                "PERSON": Operator(type="keep"),
                "IP_ADDRESS": Operator(type="hash"),
            },
            "pseudonym_digits": 12,
        }
    )
    text = (
        "Olivia Garcia, olivia@example.com, +44 20 7946 0958, 4111111111111111, "
        "203.0.113.77, SSN 536-22-8790"
    )
    out = Redactor(cfg, hasher).redact(text, scanner.scan_one(text))
    assert out == (
        f"Olivia Garcia, [email], , ************1111, "
        f"{hasher.value_hash('IP_ADDRESS', '203.0.113.77')}, SSN "
        f"{hasher.pseudonym('US_SSN', '536-22-8790', 12)}"
    )
