"""Names introduced by a cue: "my name is ...", "this is ... writing", "please ask for ...".

The NER model needs context around a name; these phrases are that context in words, and
they hold where the model misses ("Please ask for Noah Lewis." alone is not tagged).
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_NAME = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]+"
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


# "my name is abigail threlkeld": social-media customers write their own name in lower case.
# Accepted only as the end of the clause and when no word is an ordinary English word of
# the kind that follows "my name is" ("spelled", "wrong", "on the account").
_LOWER = r"[a-zà-öø-ÿ][a-zà-öø-ÿ'’-]{1,}"
_NOT_LOWER_NAMES = frozenset(
    """
    is was are on in at the a an not still spelled misspelled wrong incorrect correct missing
    listed shown written different same changed also already attached below above there here
    and or but so because if that this it its my your our their his her showing displayed
    displaying appearing appears printed saved stored registered under removed deleted gone
    empty blank fine ok okay right spelt typed entered used now too very just only same
    """.split()  # noqa: SIM905
)


# Words of the other languages' introductions ("ich heiße", "je m'appelle", "me llamo"...):
# a text holding none of them is not searched for one.
_INTRODUCTION_WORDS = (
    "hei",
    "appelle",
    "llamo",
    "nombre",
    "nome",
    "chamo",
    "chiamo",
    "naam",
    "heet",
)


class TicketNameCueRecognizer(TicketPatternRecognizer):
    ENTITY = "PERSON"
    PATTERNS = [
        (
            "my name is (lower case)",
            rf"(?i:\bmy name is|\bmy name's|\bi am called)\s+(?P<value>{_LOWER}(?: {_LOWER}){{0,2}}?)"
            r"(?=\s*(?:[.,!;:\n]|$|\band\b|\bi\b))",
            0.6,
            ("name", "called"),
        ),
        # Other languages' introductions.
        (
            "introduction (de/fr/es/pt/it/nl)",
            rf"(?i:\bmein name ist|\bich hei(?:ß|ss)e|\bje m['’]appelle|\bmon nom est|\bme llamo|"
            rf"\bmi nombre es|\bmeu nome é|\bme chamo|\bmi chiamo|\bil mio nome è|"
            rf"\bmijn naam is|\bik heet)\s+(?P<value>{_NAME}(?: {_NAME}){{0,2}})",
            0.7,
            ("name", "nom", *_INTRODUCTION_WORDS),
        ),
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
        "mon nom",
        *_INTRODUCTION_WORDS,
    )

    def validate_value(self, value: str) -> bool | None:
        words = [w.lower() for w in value.split()]
        if any(w in _NOT_NAMES for w in words):
            return False
        if value.islower() and any(w in _NOT_LOWER_NAMES for w in words):
            return False
        return None
