"""Customer account numbers: the source's configured formats, and numbers introduced as one."""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4})$")


class TicketAccountNumberRecognizer(TicketPatternRecognizer):
    ENTITY = "ACCOUNT_NUMBER"
    PATTERNS = [
        (
            "number after label",
            r"(?i:\b(?:account|acct|a/c|customer)\s*(?:number|no\.?|num|nr\.?|#|id)\s*(?:is|:|=)?\s*#?)"
            r"['\"‘“]?(?P<value>[A-Z0-9][A-Z0-9-]{4,24}[A-Z0-9])",
            0.6,
            ("account", "acct", "a/c", "customer"),
        ),
        # "Bank account 8721938475", "my account 48213377 is locked": the number right after
        # the word (validate_value wants five digits, so "account 2 times" is prose).
        (
            "number after account",
            r"(?i:\b(?:bank |checking |savings |current |my |the |your )?account\s+)"
            r"['\"‘“]?(?P<value>[A-Z0-9][A-Z0-9-]{4,24}[A-Z0-9])",
            0.5,
            ("account",),
        ),
        # "Acc: 11156486351", "acct 4411223", "Kontonummer 12345678", "numéro de compte ..."
        (
            "number after short label",
            r"(?i:\b(?:acc|acct|accnt|accnum|a/c|konto(?:nummer)?|kundennummer|n(?:u|ú)mero de (?:cuenta|conta|compte)|"
            r"num[ée]ro de compte|n[°º] de compte)\b\.?\s*(?:[:#=]|is|ist|es|est|é)?\s*#?)"
            r"(?P<value>[A-Z0-9][A-Z0-9-]{4,24}[A-Z0-9])",
            0.6,
            ("acc", "a/c", "konto", "kunden", "cuenta", "conta", "compte"),
        ),
    ]
    CONTEXT = ["account", "acct", "customer number", "account number", "a/c", "acc"]
    TRIGGER = r"\d{4}"
    # Extra patterns come from `pii.account_number_patterns`.
    CONFIGURED_SCORE = 0.85

    def __init__(self, configured: list[str] | None = None, **kwargs) -> None:
        extra = [
            (f"configured {i}", p, self.CONFIGURED_SCORE) for i, p in enumerate(configured or [])
        ]
        super().__init__(patterns=[*self.PATTERNS, *extra], **kwargs)

    def validate_value(self, value: str) -> bool | None:
        # At least five digits: labels followed by words ("account number is wrong") are prose.
        if _DATE.match(value):
            return False
        return None if sum(c.isdigit() for c in value) >= 5 else False
