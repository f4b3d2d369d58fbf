"""Dates of birth: a valid calendar date that words such as 'born' or 'DOB' point at.

Tickets are full of dates (orders, deliveries, outages); a date alone scores below any sane
threshold and only context lifts it.
"""

from __future__ import annotations

import re
from datetime import date

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_MONTH_NUMBER = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_NUMERIC = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})")


class TicketDateOfBirthRecognizer(TicketPatternRecognizer):
    ENTITY = "DATE_OF_BIRTH"
    PATTERNS = [
        ("iso date", r"(?<![\w./-])(?:19|20)\d{2}-\d{1,2}-\d{1,2}(?![\w/-])(?!\.\d)", 0.2),
        (
            "numeric date",
            r"(?<![\w./-])\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}(?![\w/-])(?!\.\d)",
            0.2,
        ),
        (
            "written date",
            rf"(?<![\w-])\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTHS},? (?:19|20)\d{{2}}(?!\d)",
            0.2,
        ),
        (
            "written date us",
            rf"(?<![\w-]){_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}(?!\d)",
            0.2,
        ),
    ]
    CONTEXT = [
        "born",
        "birth",
        "birthday",
        "birthdate",
        "date of birth",
        "dob",
        "d.o.b",
        "d.o.b.",
        "b-day",
        "bday",
        "geboren",
        "né",
        "née",
    ]
    TRIGGER = r"\d{2}"

    def validate_value(self, value: str) -> bool | None:
        m = _NUMERIC.fullmatch(value)
        if m is None:
            return None  # written month names are dates by construction
        a, b, c = (int(x) for x in m.groups())
        if len(m.group(1)) == 4:
            candidates = [(a, b, c)]
        else:
            year = c + (1900 if 30 <= c < 100 else 2000 if c < 30 else 0)
            candidates = [(year, b, a), (year, a, b)]  # day-first or month-first
        today = date.today()
        for y, mo, d in candidates:
            try:
                if date(y, mo, d) <= today and y >= 1900:
                    return None
            except ValueError:
                continue
        return False
