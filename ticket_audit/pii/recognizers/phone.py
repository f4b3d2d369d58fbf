"""Phone numbers in international and national formats, validated by libphonenumber."""

from __future__ import annotations

import re
from typing import ClassVar

import phonenumbers

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_NANP_FORMATTED = re.compile(r"^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}$")
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DATE_SHAPE = re.compile(r"^(?:\d{1,2}[.-]\d{1,2}[.-]\d{2,4}|\d{4}[.-]\d{1,2}[.-]\d{1,2})$")
_IPV4_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


class TicketPhoneRecognizer(TicketPatternRecognizer):
    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        (
            "phone candidate",
            r"(?<![\w+.-])(?:\+\d{1,3}[\s.-]?)?(?:\(0\)\s?)?(?:\(\d{1,5}\)[\s.-]?)?\d{1,12}"
            r"(?:[\s.-]\d{1,12}){0,5}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\w|-\d)(?!\.\d)",
            0.4,
        ),
    ]
    CONTEXT = [
        "phone",
        "call",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "cellphone",
        "whatsapp",
        "fax",
        "sms",
        "text me",
        "reach me",
        "ring",
        "landline",
        "hotline",
        "dial",
        "ph",
        "mob",
        "contact number",
        "phone number",
        "office",
        "desk",
        "answering",
        "messages",
        "voicemail",
        "tel.",
    ]
    # Signature blocks put the label after the number ("781 1704 office").
    CONTEXT_AFTER = 12
    # Seven digits with at most one separator between neighbours.
    TRIGGER = r"\d(?:[\s.()-]{0,2}\d){6}"
    # Numbering plans so permissive that almost any digit run validates: alone they are weak.
    LOOSE_REGIONS: ClassVar[frozenset[str]] = frozenset({"DE", "AT"})

    def __init__(self, regions: list[str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.regions = list(regions or ["US", "GB", "CA", "FR", "IT", "ES", "NL", "DE"])
        # North America first (the formatted-NANP verdict), permissive plans last.
        self._region_order = sorted(
            self.regions, key=lambda r: (r not in ("US", "CA"), r in self.LOOSE_REGIONS)
        )

    def _score(self, value: str) -> float | None:
        digits = sum(c.isdigit() for c in re.sub(r"(?:x|ext\.?)\s?\d+$", "", value))
        if not 7 <= digits <= 15:
            return None
        if _SSN_SHAPE.match(value) or _DATE_SHAPE.match(value) or _IPV4_SHAPE.match(value):
            return None
        cleaned = value.replace("(0)", "")
        ext = re.search(r"\s?(?:x|ext\.?)\s?\d{1,5}$", cleaned)
        if ext:
            cleaned = cleaned[: ext.start()]
        if cleaned.startswith("+"):
            try:
                number = phonenumbers.parse(cleaned, None)
            except phonenumbers.NumberParseException:
                return None
            if phonenumbers.is_valid_number(number):
                return 0.9
            return 0.4 if phonenumbers.is_possible_number(number) else None
        separated = not value.isdigit()
        nanp = _NANP_FORMATTED.match(value) is not None
        loose_only = False
        # Most candidates decide on the first region tried; the order saves parse calls.
        for region in self._region_order:
            try:
                number = phonenumbers.parse(cleaned, region)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(number):
                continue
            if region in ("US", "CA") and nanp:
                return 0.75
            if region not in self.LOOSE_REGIONS:
                return 0.45 if separated else 0.3
            loose_only = True
        if loose_only:
            return 0.3 if separated else 0.15
        return None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, _, name in super().raw_matches(text, lowered):
            score = self._score(text[start:end])
            if score is not None:
                out.append((start, end, score, name))
        return out
