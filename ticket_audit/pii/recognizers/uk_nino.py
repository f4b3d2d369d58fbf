"""UK National Insurance numbers (two letters, six digits, suffix A-D)."""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_NEVER_ISSUED = re.compile(r"^(?:BG|GB|NK|KN|TN|NT|ZZ)")


class TicketUkNinoRecognizer(TicketPatternRecognizer):
    ENTITY = "UK_NINO"
    PATTERNS = [
        (
            "nino",
            r"(?<![\w-])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])",
            0.6,
        ),
    ]
    CONTEXT = ["national insurance", "nino", "ni number", "ni no", "insurance number", "nin"]
    TRIGGER = r"\d{2}"

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        # Prefixes HMRC never issues still get reported when the customer calls it an NI
        # number (then it is what they typed), but not on shape alone.
        return [
            (s, e, 0.3 if _NEVER_ISSUED.match(text[s:e]) else score, name)
            for s, e, score, name in super().raw_matches(text, lowered)
        ]
