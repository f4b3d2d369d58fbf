"""Names in salutations ("Hi Lucas,", "Dear Ms Okafor,"): the greeting line of a reply.

A greeting line on its own gives the NER model too little context for ambiguous first names
(Mark, Lucas, Daniel); the salutation itself says a name follows.
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_NOT_NAMES = frozenset(
    {
        "customer",
        "customers",
        "team",
        "support",
        "sir",
        "madam",
        "all",
        "everyone",
        "there",
        "friend",
        "friends",
        "colleague",
        "colleagues",
        "user",
        "valued",
        "member",
        "folks",
        "guys",
        "again",
        "agent",
        "admin",
        "nimbus",
        "billing",
        "sales",
        "service",
        "staff",
    }
)


class TicketSalutationRecognizer(TicketPatternRecognizer):
    ENTITY = "PERSON"
    PATTERNS = [
        (
            "salutation",
            r"(?m)^[ \t>]*(?:Hi|Hello|Hey|Dear|Good (?:morning|afternoon|evening)|Hallo|Bonjour|"
            r"Hola)[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?[ \t]+)?"
            r"(?P<value>[A-Z][a-z'’-]+(?:[ \t][A-Z][a-z'’-]+)?)[ \t]*[,!:]",
            0.7,
        ),
    ]
    CONTEXT: list[str] = []
    TRIGGER = r"(?:Hi|Hello|Hey|Dear|Good|Hallo|Bonjour|Hola)[ \t]"

    def validate_value(self, value: str) -> bool | None:
        if any(w.lower() in _NOT_NAMES for w in value.split()):
            return False
        return None
