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
# Not phone numbers whatever libphonenumber says: a date starting the run (a log timestamp
# "2022-08-03 07:33:35.189"), a time or a port right after it, a version after its word.
_DATE_PREFIX = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}(?!\d)")
_TIME_AFTER = re.compile(r"[:,]\d")
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\b(?:version|ver|v|build|release|rev|revision|firmware|fw|update|patch)\.?\s*|"
    r"[$€£¥]\s?|\b(?:usd|eur|gbp|total|amount|price|order|invoice|ticket|case|id|ref)\b[\s#:.]*)$"
)
# Digits right after the name of another identifier are that identifier ("routing number
# 061000104", "TIN 22-3456789", "license 12-345-678"), however well they parse as a phone.
_OTHER_ID_BEFORE = re.compile(
    r"(?i)\b(?:routing|aba|swift|bic|sort code|tin|ein|tax ?id|tax identification|"
    r"licen[cs]e|passport|policy|member|employee|patient|aadhaa?r|voter|pan)"
    r"(?:\s+(?:number|no\.?|num|#|id))?\s*[:#]?\s*['\"]?$"
)
# "my number is 9686911186": a cue that says the digits are a phone number, however written.
_CUE_BEFORE = re.compile(
    r"(?i)(?:\bmy (?:phone |mobile |cell |contact |whatsapp )?(?:number|no\.?|#) (?:is|:)|"
    r"\bmy registered(?: (?:phone|mobile|cell))?(?: number| no\.?)?|"
    r"\b(?:call|reach|text|ring|contact|whatsapp) (?:me|us) (?:on|at|back on|back at)|"
    r"\b(?:mi (?:número|numero|teléfono|telefono|móvil|movil) es|mon (?:numéro|numero) est|"
    r"meine (?:nummer|telefonnummer|handynummer) (?:ist|lautet)|meu (?:número|numero|telefone) é))"
    r"\s*:?\s*$"
)


class TicketPhoneRecognizer(TicketPatternRecognizer):
    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        (
            "phone candidate",
            # Separators within a line only: a postcode line above a number is not part of it.
            r"(?<![\w+.-])(?:\+\d{1,3}[ \t.-]?)?(?:\(0\)[ \t]?)?(?:\(\d{1,5}\)[ \t.-]?)?\d{1,12}"
            r"(?:[ \t.-]\d{1,12}){0,5}(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,5})?(?!\w|-\d)(?!\.\d)",
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
        "contact",
        "reach",
        "number",
        "numbers",
        "telefon",
        "telefonnummer",
        "handy",
        "téléphone",
        "portable",
        "numéro",
        "teléfono",
        "móvil",
        "número",
        "telefone",
        "celular",
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
        if cleaned.startswith(("+", "00")):
            try:
                number = phonenumbers.parse(
                    "+" + cleaned.lstrip("+")[2 * (cleaned[0] == "0") :], None
                )
            except phonenumbers.NumberParseException:
                return None
            if phonenumbers.is_valid_number(number):
                return 0.9
            # A country code written out is a phone number's mark even where the rest does
            # not validate (made-up and newly allocated ranges).
            return 0.55 if phonenumbers.is_possible_number(number) else None
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

    def invalidate_match(self, text: str, start: int, end: int) -> bool:
        if _DATE_PREFIX.match(text, start, end) or _TIME_AFTER.match(text, end):
            return True
        # The minutes of "07:33" or the decimals of "1,234": a number goes on before this one.
        if start >= 2 and text[start - 1] in ":," and text[start - 2].isdigit():
            return True
        if _OTHER_ID_BEFORE.search(text, max(0, start - 32), start):
            return True
        return _VERSION_BEFORE.search(text, max(0, start - 16), start) is not None

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, _, name in super().raw_matches(text, lowered):
            value = text[start:end]
            score = self._score(value)
            if _CUE_BEFORE.search(text, max(0, start - 30), start) and (
                7 <= sum(c.isdigit() for c in value) <= 15
            ):
                score = max(score or 0.0, 0.7)
            if score is not None:
                out.append((start, end, score, name))
        return out
