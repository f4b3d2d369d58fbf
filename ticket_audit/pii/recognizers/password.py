"""Passwords and PINs customers paste into tickets: the word after 'password' (or 'PIN') when
it looks like a secret rather than the next word of the sentence."""

from __future__ import annotations

import re

from ticket_audit.pii.recognizers.base import TicketPatternRecognizer

_KEYWORD = r"(?i:\b(?:new |old |temporary |temp |current )?(?:password|passwd|passcode|pass code|pwd|pw|login pin|pin(?: code)?))"
# "password is X", "password: X", "password = X", "set the password to X", "password was X"
_LINK = r"(?:\s*[:=]\s*|\s+(?i:is|was|to|as|=|is now|was set to|set to|changed to|reads)\s*:?\s+)"
# "password for my account is X"
_FOR = r"(?:\s+(?i:for|of|on|at)(?:\s+[\w.@-]+){1,3}?)?"
_QUOTE = "[\"'“‘`]?"
_STRIP = ".,;:)]}\"'”’`"
_WORDY = re.compile(r"^[a-z]+$")
# Without "is"/":" between keyword and token ("with password Qr7!dke#39") or in a login pair
# ("edward.kim@bytecore.com / W!nter2024") only a token that reads as a secret counts: a
# letter with a symbol, or a digit with an upper-case letter ("password reset-link" and
# "password manager2" are the sentence going on).
_SECRET = re.compile(r"^(?=.*[A-Za-z])(?=.*[!@#$%^&*?~+=]|(?=.*\d)(?=.*[A-Z]))\S{6,64}$")
_BARE = ("password bare", "login pair")
# Runs of mask characters inside the token ("XXXX-XXXX1", "****Ab1"): what an earlier tool
# left of a secret, not the secret (and never a high-risk finding on a masked export).
_MASKED = re.compile(r"X{3}|x{3}|\*{3}|#{3}|•{3}")


class TicketPasswordRecognizer(TicketPatternRecognizer):
    ENTITY = "PASSWORD"
    PATTERNS = [
        (
            "password after keyword",
            rf"{_KEYWORD}{_FOR}{_LINK}{_QUOTE}(?P<value>[^\s\"'”’`]{{4,64}})",
            0.8,
            ("pass", "pw", "pin"),
        ),
        (
            "password bare",
            rf"(?i:\b(?:password|passwd|pwd))\s+{_QUOTE}(?P<value>[^\s\"'”’`]{{6,64}})",
            0.8,
            ("pass", "pwd"),
        ),
        (
            "login pair",
            r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*/\s*(?P<value>[^\s\"'”’`]{6,64})",
            0.7,
            ("@",),
        ),
    ]
    CONTEXT = ["password", "passcode", "pin", "login", "credentials"]
    TRIGGER_WORDS = ("pass", "pw", "pin", "@")

    def raw_matches(
        self, text: str, lowered: str | None = None
    ) -> list[tuple[int, int, float, str]]:
        out = []
        for start, end, score, name in super().raw_matches(text, lowered):
            while end > start and text[end - 1] in _STRIP:
                end -= 1
            value = text[start:end]
            if len(value) < 4 or _MASKED.search(value):
                continue
            if name in _BARE:
                if _SECRET.match(value) and not value.lower().startswith(("http", "www.")):
                    out.append((start, end, score, name))
                continue
            keyword = text[max(0, start - 30) : start].lower()
            is_pin = "pin" in keyword and "pass" not in keyword and "pw" not in keyword
            if is_pin:
                if not (value.isdigit() and 4 <= len(value) <= 8):
                    continue
                out.append((start, end, 0.7, name))
                continue
            # A lower-case word ("password is incorrect") is the sentence going on, not a secret.
            if _WORDY.match(value):
                continue
            mixed = (
                any(c.isdigit() for c in value)
                or not value.isalnum()
                or (value.lower() != value and value.upper() != value)
            )
            out.append((start, end, score if mixed and len(value) >= 6 else 0.45, name))
        return out
