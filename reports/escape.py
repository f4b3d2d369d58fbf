"""Values from the data (labels, teams, channels, ids) made inert where reports show them.

Markdown renders inline HTML and links, so a category named `<img src=x onerror=...>` would
run in whatever renders scorecard.md; a spreadsheet runs a CSV cell that starts with `=`,
`+`, `-` or `@` as a formula (`=HYPERLINK(...)`). One definition of each, used by every
Markdown and CSV writer.
"""

from __future__ import annotations

import csv
import html
import re
from typing import Any

# Characters with a meaning in Markdown text or tables (CommonMark's escapable punctuation
# that matters inline); `<`, `>` and `&` become HTML entities instead, which Markdown shows
# as the characters without ever reading them as HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~])")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_text(value: object) -> str:
    """`value` as literal Markdown text on one line (a table cell, a list item)."""
    text = " ".join(str(value).split("\n"))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'` (OWASP's advice);
    numbers, including negative ones, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter whose every text cell goes through `csv_cell`."""

    def writerow(self, rowdict):  # type: ignore[override]
        return super().writerow({k: csv_cell(v) for k, v in rowdict.items()})
