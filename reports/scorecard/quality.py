"""The quality section of the scorecard.

Seam: the quality layer owns `reports/quality_section.py`. When it exists and offers
`render_html(summary, charts=False)` / `render_markdown(summary)`, the scorecard uses them;
otherwise the generic rendering below shows the published keys, so the scorecard never
waits on it.
"""

from __future__ import annotations

import importlib
import inspect
from html import escape

from reports.escape import md_text
from reports.format import num, pct

HEADLINE = (
    ("tagging_coverage", "Tagging coverage"),
    ("usable_labeled_share", "Usable labelled data"),
    ("label_conflict_share", "Label conflicts"),
    ("duplicate_share", "Duplicates"),
)


def _section_module():
    try:
        return importlib.import_module("reports.quality_section")
    except ImportError:
        return None


def _flat(value: object, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _flat(v, f"{prefix}{k}.")
        return out
    if isinstance(value, float) and 0 <= value <= 1:
        return [(prefix.rstrip("."), pct(value))]
    if isinstance(value, int | float):
        return [(prefix.rstrip("."), num(value, 2 if isinstance(value, float) else 0))]
    if isinstance(value, str):
        return [(prefix.rstrip("."), value)]
    return []


def quality_html(summary: dict) -> str:
    mod = _section_module()
    if mod is not None and hasattr(mod, "render_html"):
        # The scorecard draws the funnel and coverage charts itself, once.
        if "charts" in inspect.signature(mod.render_html).parameters:
            return mod.render_html(summary, charts=False)
        return mod.render_html(summary)
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{pct(summary.get(key))}</td></tr>"
        for key, label in HEADLINE
    )
    if isinstance(summary.get("response_variability"), int | float):
        rows += (
            "<tr><th>Response variability (0 = uniform, 1 = highly varied)</th>"
            f"<td>{num(summary['response_variability'], 2)}</td></tr>"
        )
    completeness = "".join(
        f"<tr><td>{escape(str(f))}</td><td>{pct(s)}</td></tr>"
        for f, s in sorted((summary.get("metadata_completeness") or {}).items())
    )
    detail = summary.get("response_variability")
    variability = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
        for k, v in (_flat(detail) if isinstance(detail, dict) else [])
    )
    parts = [f'<table class="kv">{rows}</table>']
    if completeness:
        parts.append(
            "<h3>Metadata completeness</h3><table><tr><th>field</th><th>complete</th>"
            f"</tr>{completeness}</table>"
        )
    if variability:
        parts.append(
            "<h3>Response variability</h3><table><tr><th>measure</th><th>value</th>"
            f"</tr>{variability}</table>"
        )
    return "".join(parts)


def quality_markdown(summary: dict) -> str:
    mod = _section_module()
    if mod is not None and hasattr(mod, "render_markdown"):
        return mod.render_markdown(summary)
    lines = ["| step | remaining |", "|---|---:|"]
    lines += [
        f"| {md_text(s.get('step'))} | {num(s.get('remaining'))} |"
        for s in summary.get("funnel") or []
    ]
    lines += ["", "| measure | value |", "|---|---|"]
    lines += [f"| {label} | {pct(summary.get(key))} |" for key, label in HEADLINE]
    if isinstance(summary.get("response_variability"), int | float):
        lines.append(f"| Response variability (0-1) | {num(summary['response_variability'], 2)} |")
    completeness = summary.get("metadata_completeness") or {}
    if completeness:
        lines += ["", "| field | complete |", "|---|---|"]
        lines += [f"| {md_text(f)} | {pct(s)} |" for f, s in sorted(completeness.items())]
    detail = summary.get("response_variability")
    variability = _flat(detail) if isinstance(detail, dict) else []
    if variability:
        lines += ["", "| response variability | value |", "|---|---|"]
        lines += [f"| {md_text(k)} | {md_text(v)} |" for k, v in variability]
    return "\n".join(lines)
