"""US social security numbers, with the numbers the SSA never issues excluded."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


class TicketUsSsnRecognizer(TicketPatternRecognizer):
    ENTITY = "US_SSN"
    PATTERNS = [
        ("ssn dashed", r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", 0.6),
        ("ssn spaced", r"(?<![\w.-])\d{3}[ .]\d{2}[ .]\d{4}(?![\w-])(?!\.\d)", 0.4),
        ("ssn bare", r"(?<![\w.-])\d{9}(?![\w-])(?!\.\d)", 0.3),
    ]
    CONTEXT = ["ssn", "ssns", "ss#", "ssn#", "social security", "social sec", "social", "ssa"]
    TRIGGER = r"\d{3}"

    def validate_value(self, value: str) -> bool | None:
        digits = "".join(c for c in value if c.isdigit())
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            return False
        if len(set(digits)) == 1 or digits in ("123456789", "987654321"):
            return False
        return None
