"""Places introduced by a cue: "I live in ...", "I'm in ... for a conference", "we moved here
from ...", "originally from ...", "flew to ...".

A customer says where they are in these phrases, and the English model misses a town it does
not know ("grew up in KORSBERGA", "I am in Kallaste for a business trip") or reads it as a person
("originally from Eckenhagen"); the phrase itself says a place follows.
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer
from ticket_audit.pii.recognizers.person import TicketPersonRecognizer

# Upper-case initials in Latin, Greek and Cyrillic scripts (stdlib `re` has no \p{Lu}).
_UPPER = "A-ZÀ-ÖØ-ÞΆ-ΫЀ-Я"
_WORD = rf"[{_UPPER}][\w'’-]+"
# Lower-case words inside a place name ("Villafranca del Cid", "Ostrov nad Ohří"); not "on"
# or "for", which end the place ("flew to Sandvika on Saturday").
_JOIN = r"(?:de|del|della|di|da|do|dos|das|du|des|la|le|nad|pod|am|an|im|y|i)"
_PLACE = rf"(?P<value>{_WORD}(?:(?: {_JOIN})* {_WORD}){{0,3}})(?![\w'’-])"
# The cue phrases: being, living, coming from or going to somewhere.
_CUE = (
    r"(?i:\b(?:i|we)(?:['’]m|['’]re| am| are)(?: (?:currently|now|still|staying|living|"
    r"based|located))? in|"
    r"\b(?:live|lives|lived|living|reside|resides|resided|residing|grew up|born|based|"
    r"located|staying|stay) in|"
    r"\b(?:moved|moving|relocated|relocating|emigrated)(?: here| there| back)? (?:to|from)|"
    r"\boriginally from|"
    r"\b(?:flew|fly|flying|travell?ing|travell?ed|drove|driving) (?:to|from)|"
    r"\b(?:returned|returning|trip) to|\b(?:arrived|arriving) (?:at|in)|\bhome (?:town|city))"
)
# Capitalised words these phrases also take that are not places ("I'm in Sales", "based in
# Excel", "I'm in Trouble"), plus days and months ("moving to Monday").
_NOT_PLACES = frozenset(
    """
    sales support finance marketing accounting engineering it hr qa legal operations ops
    management admin billing charge love doubt need trouble touch contact agreement favor
    favour time progress office meeting meetings settings account accounts the a an my our
    your this that monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december unit suite apt
    apartment flat floor room building box
    """.split()  # noqa: SIM905
)


class TicketLocationCueRecognizer(TicketPatternRecognizer):
    ENTITY = "LOCATION"
    PATTERNS = [("place after a cue", rf"{_CUE}\s+{_PLACE}", 0.6)]
    CONTEXT: list[str] = []
    TRIGGER_WORDS = (
        " in ",
        "moved",
        "moving",
        "relocat",
        "emigrated",
        "from",
        "flew",
        "fly",
        "flying",
        "travel",
        "drove",
        "driving",
        "return",
        "trip",
        "arriv",
        "home",
    )

    def validate_value(self, value: str) -> bool | None:
        words = [w.strip(".,'’").casefold() for w in value.split()]
        if words[0] in _NOT_PLACES or words[-1] in _NOT_PLACES:
            return False
        # "based in USD", "I'm in IT": a short all-capital word is a code, not a town.
        if len(words) == 1 and value.isupper() and len(value) <= 3:
            return False
        # Greetings, brands and support words the person recognizer rejects are no places.
        if TicketPersonRecognizer.accept(None, value, 0, len(value)) is None:  # type: ignore[arg-type]
            return False
        return None
