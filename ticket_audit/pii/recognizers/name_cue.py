"""Names introduced by a cue: "my name is ...", "this is ... writing", "please ask for ...".

The NER model needs context around a name; these phrases are that context in words, and
they hold where the model misses ("Please ask for Noah Lewis." alone is not tagged).
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_NAME = r"[A-Z][a-z'’-]+"
_NOT_NAMES = frozenset(
    {
        "customer",
        "service",
        "services",
        "support",
        "team",
        "manager",
        "department",
        "billing",
        "sales",
        "account",
        "accounts",
        "help",
        "desk",
        "urgent",
        "important",
        "regarding",
        "about",
        "nimbus",
        "the",
        "my",
        "our",
        "your",
        "a",
        "an",
        "not",
        "still",
        "again",
    }
)


class TicketNameCueRecognizer(TicketPatternRecognizer):
    ENTITY = "PERSON"
    PATTERNS = [
        # "my name is" is explicit enough for a single name.
        (
            "my name is",
            rf"(?i:\bmy name is|\bmy name's|\bi am called)\s+(?P<value>{_NAME}(?: {_NAME}){{0,2}})",
            0.7,
        ),
        # Softer cues need a first and a last name.
        (
            "introduced name",
            rf"(?i:\bthis is|\bask for|\bspeak (?:to|with)|\btalk to|\bcontact person(?: is)?|"
            rf"\bon behalf of|\bsigned)\s+(?P<value>{_NAME} {_NAME}(?: {_NAME})?)(?![\w'’-])",
            0.65,
        ),
    ]
    CONTEXT: list[str] = []
    TRIGGER_WORDS = (
        "name",
        "this is",
        "ask for",
        "speak",
        "talk to",
        "contact person",
        "behalf",
        "signed",
        "i am called",
    )

    def validate_value(self, value: str) -> bool | None:
        if any(w.lower() in _NOT_NAMES for w in value.split()):
            return False
        return None
