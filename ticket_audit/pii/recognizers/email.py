"""Email addresses. No public-suffix lookup: support desks see internal and test domains."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer


class TicketEmailRecognizer(TicketPatternRecognizer):
    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = [
        (
            "email",
            r"(?<![\w.%+'-])[\w%+'-]+(?:\.[\w%+'-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])",
            0.9,
        ),
    ]
    CONTEXT = ["email", "e-mail", "mail", "address", "contact", "reach", "login"]
    TRIGGER = "@"
