"""How a latency reads everywhere (scorecard headline, tables, verdict sentences, issues):
one rounding, so "p95 0.26 ms" in one place is not "0.3 ms" in another."""

from __future__ import annotations


def ms_text(x: float) -> str:
    """Two decimals under 100 ms, whole milliseconds from there."""
    return f"{x:,.2f} ms" if x < 100 else f"{x:,.0f} ms"
