"""US social security numbers, with the numbers the SSA never issues excluded.

Numbers with a 9 in the area are not SSNs: those in the ITIN groups are US_ITIN (us_itin.py).
The other 9xx numbers count only where the text names them an SSN ("his SSN 900-12-3456"):
a made-up or mistyped number the writer calls an SSN is redacted like a real one.
"""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_ITIN_GROUP = re.compile(r"5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9]")
# Words that name the number an SSN (not "tax id", which an ITIN or EIN answers too).
_NAMED_SSN = re.compile(r"(?i)(?<![a-z])(?:ssn|ss#|social security|soc\.? ?sec)(?![a-z])")


class TicketUsSsnRecognizer(TicketPatternRecognizer):
    ENTITY = "US_SSN"
    PATTERNS = [
        ("ssn dashed", r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", 0.6),
        # Presidio's own "medium" pattern scores the dotted and spaced forms 0.5 alone.
        ("ssn spaced", r"(?<![\w.-])\d{3}([ .])\d{2}\1\d{4}(?![\w-])(?!\.\d)", 0.5),
        ("ssn bare", r"(?<![\w.-])\d{9}(?![\w-])(?!\.\d)", 0.3),
    ]
    CONTEXT = [
        "ssn",
        "ssns",
        "ss#",
        "ssn#",
        "social security",
        "social sec",
        "social",
        "ssa",
        "security number",
        "tax id",
        "taxpayer",
    ]
    # "Social Security: ... please confirm using 598 27 6059": the label can stand a sentence away.
    CONTEXT_WINDOW = 60
    TRIGGER = r"\d{3}"

    def validate_value(self, value: str) -> bool | None:
        digits = "".join(c for c in value if c.isdigit())
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        if area in ("000", "666") or group == "00" or serial == "0000":
            return False
        if len(set(digits)) == 1 or digits in ("123456789", "987654321"):
            return False
        return None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, score, name in super().raw_matches(text, lowered):
            digits = "".join(c for c in text[start:end] if c.isdigit())
            if digits[0] == "9" and (
                _ITIN_GROUP.fullmatch(digits[3:5])
                or not _NAMED_SSN.search(text, max(0, start - self.CONTEXT_WINDOW), start)
            ):
                continue
            out.append((start, end, score, name))
        return out
