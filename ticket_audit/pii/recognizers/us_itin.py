"""US individual taxpayer identification numbers: 9NN-NN-NNNN in the IRS's ITIN groups.

An SSN never starts with 9, so a social-security-shaped number in these groups is an ITIN:
reported on its own (high risk, like an SSN) rather than dropped as an invalid SSN.
"""

from __future__ import annotations

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

# Groups 50-65, 70-88, 90-92 and 94-99 (IRS).
_GROUP = r"(?:5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])"


class TicketUsItinRecognizer(TicketPatternRecognizer):
    ENTITY = "US_ITIN"
    PATTERNS = [
        ("itin dashed", rf"(?<![\w-])9\d{{2}}-{_GROUP}-\d{{4}}(?![\w-])", 0.6),
        ("itin spaced", rf"(?<![\w.-])9\d{{2}}([ .]){_GROUP}\1\d{{4}}(?![\w-])(?!\.\d)", 0.5),
        ("itin bare", rf"(?<![\w.-])9\d{{2}}{_GROUP}\d{{4}}(?![\w-])(?!\.\d)", 0.3),
    ]
    CONTEXT = [
        "itin",
        "taxpayer",
        "tax id",
        "tax identification",
        "ssn",
        "social security",
        "social",
        "security number",
    ]
    CONTEXT_WINDOW = 60
    TRIGGER = r"9\d{2}"
