"""Payment card numbers: 12-19 digits in any grouping that pass the Luhn checksum."""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer, luhn_valid


class TicketCreditCardRecognizer(TicketPatternRecognizer):
    ENTITY = "CREDIT_CARD"
    PATTERNS = [
        ("card", r"(?<![\w+.-])[1-6]\d{1,5}(?:[ -]?\d{1,6}){1,5}(?![\w-])(?!\.\d)", 0.6),
    ]
    CONTEXT = [
        "card",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "amex",
        "american express",
        "discover",
        "jcb",
        "diners",
        "maestro",
        "cc",
        "charged",
        "payment",
    ]
    TRIGGER = r"\d{4}"

    def validate_value(self, value: str) -> bool | None:
        digits = value.replace(" ", "").replace("-", "")
        if not 12 <= len(digits) <= 19 or not luhn_valid(digits):
            return False
        if len(set(digits)) == 1:
            return False
        # Full-length numbers with a Luhn match are cards; short ones (Maestro, old JCB) are
        # one-in-ten coincidences among order and tracking numbers unless context says card.
        return True if len(digits) >= 15 else None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        # The candidate pattern is greedy ("4111 1111 1111 1111 2 times"): when the whole run
        # fails, retry without trailing groups before giving up.
        if not self.triggered(text, text.lower() if lowered is None else lowered):
            return []
        out = []
        for m in self._compiled[0][1].finditer(text):
            start, end = m.span()
            while end - start >= 12:
                value = text[start:end]
                verdict = self.validate_value(value)
                if verdict is not False:
                    out.append((start, end, 1.0 if verdict else self._compiled[0][2], "card"))
                    break
                cut = max(value.rfind(" "), value.rfind("-"))
                if cut <= 0:
                    break
                end = start + cut
        return out
