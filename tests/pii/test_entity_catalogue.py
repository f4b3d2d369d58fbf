"""One list of entity types: the config, the recognizers and the report all use the catalogue."""

from __future__ import annotations

import pytest

from ticket_audit.config.pii import PiiSection
from ticket_audit.entity_types import HIGH_RISK, METHODS, PSEUDONYM_LABELS, SUPPORTED_ENTITIES
from ticket_audit.pii.recognizers import TicketPersonRecognizer, build_recognizers
from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


def test_every_supported_entity_has_a_recognizer_and_nothing_else_does() -> None:
    config = PiiSection(order_number_patterns=[r"ORD-\d{6}"])
    assert config.entities == list(SUPPORTED_ENTITIES)
    found = {
        e for r in build_recognizers(config) for e in r.supported_entities
    }  # Presidio's own view of each recognizer
    assert found == set(SUPPORTED_ENTITIES)
    assert TicketPersonRecognizer.ENTITY in SUPPORTED_ENTITIES


def test_the_catalogue_describes_every_entity_type() -> None:
    assert set(PSEUDONYM_LABELS) == set(METHODS) == set(SUPPORTED_ENTITIES)
    assert HIGH_RISK.issubset(SUPPORTED_ENTITIES) and len(HIGH_RISK) == 8
    assert "CREDIT_CARD" in HIGH_RISK and "EMAIL_ADDRESS" not in HIGH_RISK


def test_a_recognizer_for_an_entity_outside_the_catalogue_is_refused() -> None:
    with pytest.raises(TypeError, match="SHOE_SIZE"):

        class _Shoes(TicketPatternRecognizer):
            ENTITY = "SHOE_SIZE"


def test_the_config_refuses_an_entity_outside_the_catalogue() -> None:
    with pytest.raises(ValueError, match="SHOE_SIZE"):
        PiiSection(entities=["EMAIL_ADDRESS", "SHOE_SIZE"])
