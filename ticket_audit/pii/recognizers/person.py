"""Names of people, from the spaCy model's named-entity recognizer.

The model's raw PERSON spans need trimming (a trailing newline, a possessive) and a few
rejections: placeholders of the redacted text, tokens with digits or '@', greetings.
"""

from __future__ import annotations

import re
from typing import ClassVar

from presidio_analyzer.predefined_recognizers import SpacyRecognizer

_TRIM = " \t\r\n,.;:!?\"'()[]{}<>|-–—*"
_REJECT_CHARS = re.compile(r"[\d@_<>|/\\=#$%&*+]")
_NOT_NAMES = frozenset(
    {
        "hi",
        "hello",
        "dear",
        "hey",
        "thanks",
        "thank you",
        "cheers",
        "regards",
        "team",
        "support",
        "customer",
        "sir",
        "madam",
        "agent",
        "admin",
        "user",
        "mr",
        "mrs",
        "ms",
        "dr",
        "best",
        "kind regards",
        "best regards",
        "guten tag",
        "bonjour",
        "hola",
        "buenos días",
        "buenas tardes",
        "ciao",
        "hallo",
        "hej",
        "salut",
    }
)


class TicketPersonRecognizer(SpacyRecognizer):
    ENTITY = "PERSON"
    # NER labels that mean a person in the spaCy models in use (OntoNotes and WikiNER).
    MODEL_LABELS: ClassVar[tuple[str, ...]] = ("PERSON", "PER")
    SCORE = 0.85
    NAME = "TicketPersonRecognizer"

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], ner_strength=self.SCORE, name=self.NAME)

    def accept(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The trimmed span of a model PERSON entity, or None when it is not a name."""
        while start < end and text[start] in _TRIM:
            start += 1
        while end > start and text[end - 1] in _TRIM:
            end -= 1
        if text.endswith("'s", start, end) or text.endswith("’s", start, end):
            end -= 2
        if end - start < 2:
            return None
        value = text[start:end]
        if _REJECT_CHARS.search(value) or "\n" in value:
            return None
        if value.casefold() in _NOT_NAMES or not any(c.isalpha() for c in value):
            return None
        return start, end

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        results = []
        for r in super().analyze(text, entities, nlp_artifacts):
            span = self.accept(text, r.start, r.end)
            if span is not None:
                r.start, r.end = span
                results.append(r)
        return results

    def results_from_doc(self, doc) -> list[tuple[int, int]]:
        """Accepted PERSON spans of a processed spaCy Doc (the fast path)."""
        out = []
        text = doc.text
        for ent in doc.ents:
            if ent.label_ in self.MODEL_LABELS:
                span = self.accept(text, ent.start_char, ent.end_char)
                if span is not None:
                    out.append(span)
        return out
