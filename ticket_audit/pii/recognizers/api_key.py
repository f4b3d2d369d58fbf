"""API keys: vendor formats with fixed prefixes, and long keys introduced as an API key."""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_STRIP = ".,;:)]}\"'"


class TicketApiKeyRecognizer(TicketPatternRecognizer):
    ENTITY = "API_KEY"
    PATTERNS = [
        ("stripe key", r"(?<![\w-])(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{16,99}(?![\w-])", 0.95),
        (
            "aws access key id",
            r"(?<![\w-])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![\w-])",
            0.95,
        ),
        ("google api key", r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])", 0.95),
        ("openai style key", r"(?<![\w-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}(?![\w-])", 0.9),
        ("sendgrid key", r"(?<![\w-])SG\.[\w-]{22}\.[\w-]{43}(?![\w-])", 0.95),
        ("twilio key", r"(?<![\w-])SK[0-9a-f]{32}(?![\w-])", 0.8),
        (
            "key after label",
            r"(?i:\b(?:api[ _-]?key|apikey|x-api-key|secret[ _-]?key|client[ _-]?secret|"
            r"app[ _-]?secret|private[ _-]?key))(?:\s*[:=]\s*|\s+(?i:is|=)\s+|\s+)[\"']?"
            r"(?P<value>[A-Za-z0-9_\-+/=.]{16,256})",
            0.75,
            ("key", "secret"),
        ),
    ]
    CONTEXT = ["api", "key", "secret", "apikey", "token"]
    TRIGGER_WORDS = (
        "key",
        "secret",
        "sk_",
        "pk_",
        "rk_",
        "akia",
        "asia",
        "agpa",
        "aida",
        "aroa",
        "anpa",
        "anva",
        "aipa",
        "aiza",
        "sk-",
        "sg.",
    )
    TRIGGER = r"SK[0-9a-f]{32}"

    def validate_value(self, value: str) -> bool | None:
        # A label followed by prose ("API key documentation") is not a key: keys mix letters
        # and digits.
        if not (re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
            return False
        return None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, score, name in super().raw_matches(text, lowered):
            while end > start and text[end - 1] in _STRIP:
                end -= 1
            if end - start >= 16:
                out.append((start, end, score, name))
        return out
