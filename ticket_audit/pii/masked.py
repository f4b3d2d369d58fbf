"""Placeholders that earlier tools left in the text (`<name>`, `[EMAIL]`, `ph_user`, `***`).

A masked export is already redacted where these stand: they are counted per style (the
exposure report shows how much of the history was masked, and by which tool's style), never
reported as personal data, never read as the password or phone number a keyword announces
("password: ph_user"), and left as written by redaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ticket_audit.pii.recognizers import Finding

MaskedSpan = tuple[str, int, int]  # (style, start, end)


class MaskedPlaceholders:
    """The configured placeholder patterns (`pii.masked_patterns`) as one regex."""

    def __init__(self, patterns: Mapping[str, str]) -> None:
        self.styles = list(patterns)
        # One alternation with a group per style: a single pass over each text.
        self._regex = (
            re.compile("|".join(f"(?P<m{i}>{p})" for i, p in enumerate(patterns.values())))
            if patterns
            else None
        )

    def find(self, text: str | None) -> list[MaskedSpan]:
        if self._regex is None or not text:
            return []
        out = []
        for m in self._regex.finditer(text):
            if m.end() > m.start():
                out.append((self.styles[int(m.lastgroup[1:])], m.start(), m.end()))
        return out

    @staticmethod
    def drop_overlapping(findings: list[Finding], masked: list[MaskedSpan]) -> list[Finding]:
        """Findings that touch no placeholder: a value that is (or holds) a placeholder was
        masked before the export, and a keyword's 'value' that is one is no value."""
        if not masked or not findings:
            return findings
        return [f for f in findings if all(f.end <= s or e <= f.start for _, s, e in masked)]
