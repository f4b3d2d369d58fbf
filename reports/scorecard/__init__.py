"""The TPM scorecard: scorecard.html (self-contained), scorecard.md and scorecard.json."""

from __future__ import annotations

import json
from pathlib import Path

from reports.files import write_atomic
from reports.scorecard.html import render_html
from reports.scorecard.markdown import render_markdown

__all__ = ["render_html", "render_markdown", "write_scorecard"]


def write_scorecard(
    card: dict, out_dir: str | Path, *, min_tagging_coverage: float | None = None
) -> list[Path]:
    """Writes scorecard.html, .md and .json; returns their paths (HTML first)."""
    out_dir = Path(out_dir)
    return [
        write_atomic(
            out_dir / "scorecard.html", render_html(card, min_tagging_coverage=min_tagging_coverage)
        ),
        write_atomic(out_dir / "scorecard.md", render_markdown(card)),
        write_atomic(out_dir / "scorecard.json", json.dumps(card, indent=2, default=str) + "\n"),
    ]
