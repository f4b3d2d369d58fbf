"""Recognizers for what customers put into support tickets, built from the `pii` config."""

from __future__ import annotations

from collections import defaultdict

from presidio_analyzer import EntityRecognizer

from ticket_audit.config.pii import PiiSection
from ticket_audit.pii.recognizers.access_token import TicketAccessTokenRecognizer
from ticket_audit.pii.recognizers.account_number import TicketAccountNumberRecognizer
from ticket_audit.pii.recognizers.api_key import TicketApiKeyRecognizer
from ticket_audit.pii.recognizers.base import Finding, TicketPatternRecognizer
from ticket_audit.pii.recognizers.credit_card import TicketCreditCardRecognizer
from ticket_audit.pii.recognizers.date_of_birth import TicketDateOfBirthRecognizer
from ticket_audit.pii.recognizers.deny_list import TicketDenyListRecognizer
from ticket_audit.pii.recognizers.email import TicketEmailRecognizer
from ticket_audit.pii.recognizers.iban import TicketIbanRecognizer
from ticket_audit.pii.recognizers.ip_address import TicketIpRecognizer
from ticket_audit.pii.recognizers.location_cue import TicketLocationCueRecognizer
from ticket_audit.pii.recognizers.name_cue import TicketNameCueRecognizer
from ticket_audit.pii.recognizers.order_number import TicketOrderNumberRecognizer
from ticket_audit.pii.recognizers.password import TicketPasswordRecognizer
from ticket_audit.pii.recognizers.person import TicketPersonRecognizer
from ticket_audit.pii.recognizers.phone import TicketPhoneRecognizer
from ticket_audit.pii.recognizers.salutation import TicketSalutationRecognizer
from ticket_audit.pii.recognizers.street_address import TicketStreetAddressRecognizer
from ticket_audit.pii.recognizers.uk_nino import TicketUkNinoRecognizer
from ticket_audit.pii.recognizers.us_itin import TicketUsItinRecognizer
from ticket_audit.pii.recognizers.us_ssn import TicketUsSsnRecognizer

__all__ = [
    "Finding",
    "TicketPersonRecognizer",
    "TicketPatternRecognizer",
    "build_recognizers",
]

# Recognizers built without settings, keyed by the catalogue entry each serves (its ENTITY,
# checked against `ticket_audit.entity_types` when the class is defined).
_SIMPLE = {
    cls.ENTITY: cls
    for cls in (
        TicketEmailRecognizer,
        TicketStreetAddressRecognizer,
        TicketCreditCardRecognizer,
        TicketIbanRecognizer,
        TicketUsSsnRecognizer,
        TicketUsItinRecognizer,
        TicketUkNinoRecognizer,
        TicketIpRecognizer,
        TicketDateOfBirthRecognizer,
        TicketPasswordRecognizer,
        TicketApiKeyRecognizer,
        TicketAccessTokenRecognizer,
    )
}


def build_recognizers(config: PiiSection) -> list[EntityRecognizer]:
    """One recognizer per enabled entity type, plus one per deny-listed entity type."""
    enabled = set(config.entities)
    out: list[EntityRecognizer] = []
    for entity, cls in _SIMPLE.items():
        if entity in enabled:
            out.append(cls())
    if "PHONE_NUMBER" in enabled:
        out.append(TicketPhoneRecognizer(regions=config.phone_regions))
    if "ACCOUNT_NUMBER" in enabled:
        out.append(TicketAccountNumberRecognizer(configured=config.account_number_patterns))
    if "ORDER_NUMBER" in enabled and config.order_number_patterns:
        out.append(TicketOrderNumberRecognizer(configured=config.order_number_patterns))
    if enabled & set(TicketPersonRecognizer.ENTITIES):
        out.append(TicketPersonRecognizer(entities=sorted(enabled)))
    if "LOCATION" in enabled:
        out.append(TicketLocationCueRecognizer())
    if "PERSON" in enabled:
        out.append(TicketSalutationRecognizer())
        out.append(TicketNameCueRecognizer())
    by_entity: dict[str, list[str]] = defaultdict(list)
    for pattern, entity in config.deny_list.items():
        by_entity[entity].append(pattern)
    for entity, patterns in sorted(by_entity.items()):
        out.append(TicketDenyListRecognizer(entity, patterns))
    return out
