"""The independent half of the residual check: Presidio's own predefined recognizers.

Scanning the redacted text again with the same recognizers at the same threshold can only
find what the first pass already removed. The residual scan therefore also runs code that
shares nothing with ours: Presidio's predefined pattern recognizers (e-mail, card, IBAN,
IP, SSN, ITIN, phone through libphonenumber's matcher), with Presidio's context rule (a
context word in the five words before a match adds 0.35). What they find in the redacted
text, outside placeholders, is residual personal data or a gap in our recognizers; either
way compliance must see it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import ticket_audit.pii.analyzer  # noqa: F401  (tldextract on its bundled suffix list)
from ticket_audit.pii.recognizers import Finding
from ticket_audit.pii.recognizers.base import CONTEXT_BOOST, MIN_SCORE_WITH_CONTEXT

# Presidio's recognizers, each with a cheap test a text must pass before it runs (most
# redacted texts hold no '@' and no long digit run). A trigger only skips texts on which
# the recognizer cannot report anything at MIN_SCORE: of the SSN patterns only "SSN5
# (medium)" (3-2-4 digits with separators, 0.5) can reach it (the others score 0.05, 0.4
# with context); the ITIN patterns that can (0.3 with context, 0.5) are nine digits from a
# 9, grouped 3-2-4 or not.
_TRIGGERS = {
    "EmailRecognizer": re.compile(r"@"),
    "CreditCardRecognizer": re.compile(r"\d(?:[ -]?\d){11}"),
    "IbanRecognizer": re.compile(r"[A-Z]{2}\d{2}"),
    "IpRecognizer": re.compile(r"\d\.\d|::|[0-9a-fA-F]:[0-9a-fA-F]"),
    "UsSsnRecognizer": re.compile(r"\d{3}[- .]\d{2}[- .]\d{4}"),
    "UsItinRecognizer": re.compile(r"9\d{2}[- ]?\d{2}[- ]?\d{4}"),
    "PhoneRecognizer": re.compile(r"\d(?:[\s.()-]{0,2}\d){6}"),
}
# Presidio scores every phone number 0.4: below MIN_SCORE without a context word before it,
# so a text with no context word anywhere is not given to libphonenumber's matcher (the
# pass's most expensive step: it tries each of eight regions over the whole text).
_NEEDS_CONTEXT = {"PhoneRecognizer"}
# Presidio's default analyzer threshold is 0; a residual gate needs evidence: 0.5 keeps the
# validated values (cards, IBANs, e-mails 1.0, IPs 0.6, SSN/ITIN 0.5) and a phone number
# (0.4) with a context word.
MIN_SCORE = 0.5
NAME = "PresidioPredefined"
_CONTEXT_WINDOW = 40


@lru_cache(maxsize=1)
def _recognizers():
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsItinRecognizer,
        UsSsnRecognizer,
    )

    out = []
    for cls in (
        EmailRecognizer,
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        UsSsnRecognizer,
        UsItinRecognizer,
        PhoneRecognizer,
    ):
        r = cls()
        words = [w.strip() for w in r.context if w.strip()]
        context = re.compile(
            r"(?<![a-z])(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z])",
            re.IGNORECASE,
        )
        out.append((r, _TRIGGERS[cls.__name__], context, cls.__name__ in _NEEDS_CONTEXT))
    return out


def presidio_findings(text: str | None) -> list[Finding]:
    """Findings of Presidio's predefined pattern recognizers, context-scored, >= MIN_SCORE."""
    if not text:
        return []
    out = []
    for recognizer, trigger, context, needs_context in _recognizers():
        if not trigger.search(text) or (needs_context and not context.search(text)):
            continue
        for r in recognizer.analyze(text, recognizer.supported_entities, None):
            score = r.score
            if score < 1.0 and context.search(text, max(0, r.start - _CONTEXT_WINDOW), r.start):
                score = max(MIN_SCORE_WITH_CONTEXT, min(1.0, score + CONTEXT_BOOST))
            if score >= MIN_SCORE:
                out.append(Finding(r.start, r.end, r.entity_type, score, NAME))
    return out
