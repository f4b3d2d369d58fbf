"""The independent residual detector (Presidio's predefined recognizers): its cheap gates
skip only texts on which a recognizer could report nothing at MIN_SCORE."""

from __future__ import annotations

import pytest

import ticket_audit.pii.residual_check as residual_check
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.pii.recognizers.base import CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT

CRAFTED = [
    "Call me on 555-123-4567 after five.",
    "Ticket 555-123-4567 was merged.",
    "my number is +44 20 7946 0958",
    "Order 5551234567 shipped, tracking 1Z999AA10123456784.",
    "SSN 123-45-6789 on the form",
    "Reference 123-45-6789 and 123456789 and 12345-6789.",
    "My ITIN is 912-78-1234, taxpayer id 912781234.",
    "Card 4111 1111 1111 1111, IBAN DE89370400440532013000, ip 192.168.10.4",
    "write to jane.doe@example.com or call +1 (415) 555-0132",
]


def _ungated(text: str) -> list[tuple]:
    """Every recognizer on the text, no trigger, no gate; the same scoring as the check."""
    out = []
    for recognizer, _trigger, context, *_ in residual_check._recognizers():
        for r in recognizer.analyze(text, recognizer.supported_entities, None):
            score = r.score
            window = max(0, r.start - residual_check._CONTEXT_WINDOW)
            if score < 1.0 and context.search(text, window, r.start):
                score = max(MIN_SCORE_WITH_CONTEXT, min(1.0, score + CONTEXT_BOOST))
            if score >= residual_check.MIN_SCORE:
                out.append((r.start, r.end, r.entity_type, score))
    return out


def _gated(text: str) -> list[tuple]:
    return [
        (f.start, f.end, f.entity_type, f.score) for f in residual_check.presidio_findings(text)
    ]


@pytest.fixture(scope="module")
def generated_texts(tmp_path_factory) -> list[str]:
    """Subjects, descriptions and messages of a generated history with planted PII."""
    import polars as pl

    history = generate_history(
        GeneratorSpec(tickets=300, seed=5, months=2), tmp_path_factory.mktemp("hist")
    )
    tickets = pl.read_csv(history.tickets_path, infer_schema_length=0)
    texts = tickets["subject"].to_list() + tickets["description"].to_list()
    if history.messages_path:
        texts += pl.read_csv(history.messages_path, infer_schema_length=0)["body"].to_list()
    return [t for t in texts if t]


@pytest.mark.parametrize("text", CRAFTED)
def test_gates_skip_nothing_the_recognizers_would_report(text: str) -> None:
    assert _gated(text) == _ungated(text)


def test_gates_skip_nothing_on_generated_tickets(generated_texts: list[str]) -> None:
    found = 0
    for text in generated_texts:
        expected = _ungated(text)
        assert _gated(text) == expected
        found += len(expected)
    assert found > 0  # the texts do hold what the detector reports


def test_phone_matcher_runs_only_where_a_context_word_is(monkeypatch) -> None:
    """Presidio scores a phone number 0.4, under MIN_SCORE without a context word: a text
    with none is not given to libphonenumber's matcher."""
    phone = next(
        r for r, *_ in residual_check._recognizers() if type(r).__name__ == "PhoneRecognizer"
    )
    seen: list[str] = []
    analyze = type(phone).analyze

    def spy(self, text, *args, **kwargs):
        seen.append(text)
        return analyze(self, text, *args, **kwargs)

    monkeypatch.setattr(type(phone), "analyze", spy)
    assert _gated("Ticket 555-123-4567 was merged.") == []
    assert seen == []
    assert [f[2] for f in _gated("Call me on 555-123-4567 after five.")] == ["PHONE_NUMBER"]
    assert seen == ["Call me on 555-123-4567 after five."]
