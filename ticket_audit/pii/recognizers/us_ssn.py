"""US social security numbers, with the numbers the SSA never issues excluded.

Numbers with a 9 in the area are not SSNs: those in the ITIN groups are US_ITIN (us_itin.py).
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


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
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            return False
        if len(set(digits)) == 1 or digits in ("123456789", "987654321"):
            return False
        return None
