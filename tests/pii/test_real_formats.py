"""Formats of real exports: international phones, SSN/ITIN forms, account labels, lower-case
introductions, other languages' greetings and names, and placeholders of masked exports.

Each case is a text a customer or agent writes, with the exact value that must (or must not)
be found by the whole scanner (all recognizers, language routing, NER, placeholders).
"""

from __future__ import annotations

import pytest

from ticket_audit.entity_types import HIGH_RISK
from ticket_audit.pii.scan import Scanner

FOUND = [
    ("PHONE_NUMBER", "Reach the office on +44-84-835-7725 today.", "+44-84-835-7725"),
    ("PHONE_NUMBER", "Mobile +44.34-654 8707 after six.", "+44.34-654 8707"),
    ("PHONE_NUMBER", "You can call 05 7076 0828 anytime.", "05 7076 0828"),
    ("PHONE_NUMBER", "Dial 0049 30 1234567 for the Berlin desk.", "0049 30 1234567"),
    ("PHONE_NUMBER", "My number is 9686911186", "9686911186"),
    ("PHONE_NUMBER", "pls call me on 7788990011 asap", "7788990011"),
    ("PHONE_NUMBER", "Mi número es 612 345 678, gracias.", "612 345 678"),
    ("US_SSN", "Social Security: 512-73-6024 on file.", "512-73-6024"),
    ("US_SSN", "SSN below. Confirm using 598 27 6059 please.", "598 27 6059"),
    ("US_SSN", "Confirm using 598 27 6059", "598 27 6059"),
    ("US_SSN", "my ssn is 598.27.6059", "598.27.6059"),
    ("US_ITIN", "Social Security: 901-73-6024", "901-73-6024"),
    ("US_ITIN", "ITIN 912 70 1234 for the refund", "912 70 1234"),
    ("ACCOUNT_NUMBER", "Acc: 11156486351", "11156486351"),
    ("ACCOUNT_NUMBER", "my acct 44112233 is locked", "44112233"),
    ("ACCOUNT_NUMBER", "Meine Kontonummer ist 12345678.", "12345678"),
    ("PERSON", "hi, my name is abigail threlkeld and i need help", "abigail threlkeld"),
    ("PERSON", "Sehr geehrter Herr Becker,\nIhre Bestellung ist unterwegs.", "Becker"),
    ("PERSON", "Estimada Sra. López,\nsu pedido está en camino.", "López"),
    ("PERSON", "Prezado João,\nrecebemos o seu pedido.", "João"),
    ("PERSON", "Merci pour votre patience.\n\nCordialement,\nJulien Moreau", "Julien Moreau"),
    ("PERSON", "Je m'appelle Marie Dubois et ma commande est bloquée.", "Marie Dubois"),
    ("PERSON", "Mit freundlichen Grüßen\nKlaus Schmidt", "Klaus Schmidt"),
    ("LOCATION", "I moved to Boston last month and the parcel went to my old flat.", "Boston"),
]

NOT_FOUND = [
    # Greetings, sign-offs and courtesy words of other languages are not names.
    "Vielen Dank für Ihre Nachricht.\n\nMit freundlichen Grüßen\n<name>",
    "Sehr geehrte Damen und Herren, können Sie mir bitte helfen?",
    "Cher client, merci de votre message. Cordialement, l'équipe support",
    "Lamentamos los inconvenientes causados. Saludos cordiales.",
    "Obrigado pelo contato. Atenciosamente, equipe de suporte.",
    "Hallo, Meine Kontonummer finde ich nicht mehr im Portal.",
    "The Jira Software instance is slow since the upgrade.",
    # Log lines, versions and totals are not phone numbers.
    "2022-08-03 07:33:35.189 ERROR [main] connection reset",
    "Upgraded to version 10.2.3.4567 yesterday, please call back.",
    "Your order total was $1234567.89 including tax.",
    "Build 2023.11.05.1234 fails, call stack attached",
    # Lower-case prose after "my name is".
    "my name is spelled wrong on the invoice.",
    "My name is not showing in the portal",
]

MASKED = [
    ("password: ph_user", "ph_token"),
    ("My password is ph_technical, please reset it.", "ph_token"),
    ("Hi <name>, call me on <phone> please", "angle_tag"),
    ("Dear [NAME], your card XXXX-XXXX-XXXX-1234 was charged.", "square_tag"),
    ("Send it to {{email}} thanks", "double_brace"),
    ("pwd: ******** and pin ****", "asterisks"),
    ("Thanks, <PERSON_1f3a9c2b> - call me on <PHONE_0a1b2c3d>", "angle_tag"),
]


def _values(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in scanner.scan_one(text)]


@pytest.mark.parametrize(("entity", "text", "value"), FOUND)
def test_found(scanner: Scanner, entity: str, text: str, value: str) -> None:
    assert (entity, value) in _values(scanner, text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_not_found(scanner: Scanner, text: str) -> None:
    assert _values(scanner, text) == []


@pytest.mark.parametrize(("text", "style"), MASKED)
def test_placeholders_are_counted_never_reported(scanner: Scanner, text: str, style: str) -> None:
    found = scanner.scan([text])[0]
    held = scanner.text_masked[0]
    assert style in {s for s, _, _ in held}
    # No finding touches a placeholder (no PASSWORD for "ph_user", no PHONE for "<phone>").
    for f in found:
        assert all(f.end <= s or e <= f.start for _, s, e in held), (f, held)
    assert not {f.entity_type for f in found} & HIGH_RISK


def test_placeholder_recognition_can_be_turned_off(pii_config) -> None:
    scanner = Scanner(pii_config.model_copy(update={"masked_patterns": {}}))
    text = "password: ph_user"
    assert ("PASSWORD", "ph_user") in _values(scanner, text)
    assert scanner.text_masked == [[]]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Vielen Dank für Ihre Nachricht, wir melden uns bald bei Ihnen.", "de"),
        ("Merci pour votre message, nous revenons vers vous rapidement.", "fr"),
        ("Lamentamos los inconvenientes causados por el retraso del pedido.", "es"),
        ("Obrigado pelo contato, vamos verificar o seu pedido hoje mesmo.", "pt"),
        ("My printer stopped working after the last update, please help.", "en"),
        ("Billing", "en"),  # too short to tell: the default language
    ],
)
def test_language_of_each_text(scanner: Scanner, text: str, language: str) -> None:
    scanner.scan([text])
    assert scanner.text_languages == [language]


def test_detectors_per_language(scanner: Scanner) -> None:
    assert any(d.startswith("NER ") for d in scanner.detectors("en"))
    assert "NER fr_core_news_sm" in scanner.detectors("fr")
    # No German model installs offline: patterns and name cues only, and said so.
    assert scanner.detectors("de") == ["patterns", "name cues"]


def test_french_names_come_from_the_french_model(scanner: Scanner) -> None:
    text = "Bonjour, la commande de Sophie Lefèvre est partie de Marseille hier soir."
    values = _values(scanner, text)
    assert ("PERSON", "Sophie Lefèvre") in values
    assert ("LOCATION", "Marseille") in values
    assert ("PERSON", "Bonjour") not in values
