"""Inline SVG charts for every report (scorecard, PII exposure, profile): no script, no
external file, so each report stays one file that renders from disk and prints.

Every chart carries `data-chart="<name>"` so tests (and people) can find it in the DOM.
"""

from __future__ import annotations

import math
from html import escape

from ticket_audit.units import ms_text

BLUE, GREY, RED, GREEN, AMBER = "#3b6ea8", "#9aa5b1", "#c0392b", "#2e8b57", "#d68910"
PALETTE = ["#3b6ea8", "#d68910", "#2e8b57", "#8e44ad", "#c0392b", "#16a085"]
FONT = 'font-family="system-ui, sans-serif"'


def _svg(name: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{name}" role="img" '
        f'aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _empty(name: str, title: str, message: str, width: int = 640) -> str:
    return _svg(
        name,
        title,
        width,
        40,
        [
            f'<rect x="0" y="0" width="{width}" height="40" fill="#f4f6f8"/>',
            f'<text x="12" y="25" font-size="13" fill="#555">{escape(message)}</text>',
        ],
    )


def funnel_chart(funnel: list[dict], width: int = 720) -> str:
    """Remaining tickets after each quality criterion, with the share each step removes."""
    title = "Funnel: from all tickets to usable labelled tickets"
    steps = [(str(s.get("step")), float(s.get("remaining") or 0)) for s in funnel or []]
    if not steps:
        return _empty("funnel", title, "The quality layer has not published a funnel.")
    top = steps[0][1] or 1
    label_w, bar_h, gap = 230, 22, 6
    height = len(steps) * (bar_h + gap) + 10
    span = width - label_w - 150
    body = []
    prev = None
    for i, (label, value) in enumerate(steps):
        y = 5 + i * (bar_h + gap)
        w = max(1.0, span * value / top)
        x = label_w + (span - w) / 2  # centred bars read as a funnel
        removed = f" (−{prev - value:,.0f})" if prev is not None and prev > value else ""
        body.append(
            f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BLUE}" rx="2">'
            f"<title>{escape(label)}: {value:,.0f}</title></rect>"
            f'<text x="{label_w + span + 8}" y="{y + 15}" font-size="12">'
            f"{value:,.0f} · {100 * value / top:.0f}%{removed}</text>"
        )
        prev = value
    return _svg("funnel", title, width, height, body)


def coverage_chart(
    monthly: list[dict], threshold: float | None = None, width: int = 720, height: int = 220
) -> str:
    """Tagging coverage per month (columns) against the configured minimum (dashed line)."""
    title = "Tagging coverage by month"
    # A month still running when the data was loaded would show a misleading sliver.
    months = [m for m in monthly or [] if m.get("tickets") and m.get("complete", True)]
    if not months:
        return _empty("coverage", title, "No monthly ticket counts available.")
    left, top_pad, bottom = 44, 12, 40
    plot_h = height - top_pad - bottom
    step = (width - left - 10) / len(months)
    body = [_axis_pct(left, top_pad, plot_h, width)]
    label_every = max(1, math.ceil(len(months) / 12))
    for i, m in enumerate(months):
        share = (m.get("tagged") or 0) / m["tickets"]
        h = plot_h * share
        x = left + i * step + step * 0.1
        colour = BLUE if threshold is None or share >= threshold else AMBER
        body.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(1.0, step * 0.8):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(m["month"][:7])}: '
            f"{100 * share:.1f}% of {m['tickets']:,} tickets</title></rect>"
        )
        if i % label_every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="10">'
                f"{escape(m['month'][:7])}</text>"
            )
    if threshold is not None:
        y = top_pad + plot_h * (1 - threshold)
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{RED}" '
            f'stroke-dasharray="5,4"/><text x="{left + 4}" y="{top_pad + plot_h + 30}" '
            f'font-size="10" fill="{RED}">- - - minimum {100 * threshold:.0f}%</text>'
        )
    return _svg("coverage", title, width, height, body)


def _axis_pct(left: int, top: int, plot_h: float, width: int) -> str:
    parts = []
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{100 * frac:.0f}%</text>"
        )
    return "".join(parts)


def trend_chart(
    audits: list[dict], metrics: dict[str, str], width: int = 720, height: int = 240
) -> str:
    """Shares (0-1) per audit, one line per metric; a first audit shows as single points."""
    title = "Trends since earlier audits"
    if not audits:
        return _empty("trends", title, "No audits recorded yet.")
    left, top_pad, bottom, legend_w = 44, 12, 46, 170
    plot_w = width - left - legend_w - 10
    plot_h = height - top_pad - bottom
    n = len(audits)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    body = [_axis_pct(left, top_pad, plot_h, left + plot_w + 10)]
    label_every = max(1, math.ceil(n / 8))
    for i, a in enumerate(audits):
        if i % label_every == 0 or i == n - 1:
            body.append(
                f'<text x="{x_at(i):.1f}" y="{height - bottom + 16}" font-size="10" '
                f'text-anchor="middle">{escape(str(a.get("generated_at", ""))[:10])}</text>'
            )
    for k, (key, label) in enumerate(metrics.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = [(x_at(i), a.get(key)) for i, a in enumerate(audits)]
        pts = [
            (x, top_pad + plot_h * (1 - min(1.0, max(0.0, v))), v)
            for x, v in pts
            if isinstance(v, int | float)
        ]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, v in pts:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(label)}: {100 * v:.1f}%</title></circle>"
            )
        ly = top_pad + 6 + k * 18
        lx = left + plot_w + 20
        body.append(
            f'<rect x="{lx}" y="{ly - 8}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 18}" y="{ly + 2}" font-size="11">{escape(label)}</text>'
        )
    return _svg("trends", title, width, height, body)


def latency_chart(retrieval: dict, width: int = 720) -> str:
    """p50/p95/p99 as measured and at the projected volume, on a log scale, with the budget."""
    title = "Retrieval latency (log scale) against the budget"
    proj = retrieval.get("projection") or {}
    budget = retrieval.get("latency_budget_ms")
    rows = [
        (
            f"measured {p} ({retrieval.get('index_size') or 0:,} docs)",
            retrieval.get(f"{p}_ms"),
            BLUE,
        )
        for p in ("p50", "p95", "p99")
    ]
    rows += [
        (f"projected {p} ({proj.get('projected_docs') or 0:,} docs)", proj.get(f"{p}_ms"), AMBER)
        for p in ("p50", "p95", "p99")
    ]
    rows = [(lbl, float(v), c) for lbl, v, c in rows if isinstance(v, int | float)]
    if not rows:
        return _empty("latency", title, "The retrieval probe has not run.")
    values = [v for _, v, _ in rows] + ([budget] if budget else [])
    lo = 10 ** math.floor(math.log10(max(min(values), 1e-3)))
    hi = 10 ** math.ceil(math.log10(max(values) * 1.01))
    label_w, bar_h, gap, top_pad = 230, 20, 6, 8
    span = width - label_w - 80
    height = top_pad + len(rows) * (bar_h + gap) + 30

    def x_at(v: float) -> float:
        return label_w + span * (math.log10(max(v, lo)) - math.log10(lo)) / (
            math.log10(hi) - math.log10(lo)
        )

    body = []
    decade = lo
    axis_y = top_pad + len(rows) * (bar_h + gap)
    while decade <= hi * 1.0001:
        x = x_at(decade)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad}" y2="{axis_y}" '
            f'stroke="#e3e7eb"/><text x="{x:.1f}" y="{axis_y + 14}" font-size="10" '
            f'text-anchor="middle">{decade:g} ms</text>'
        )
        decade *= 10
    for i, (label, v, colour) in enumerate(rows):
        y = top_pad + i * (bar_h + gap)
        w = max(1.0, x_at(v) - label_w)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{escape(label)}: {v:.3f} ms</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" font-size="11">{ms_text(v)}</text>'
        )
    if budget:
        x = x_at(budget)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad - 4}" y2="{axis_y}" '
            f'stroke="{RED}" stroke-width="2" stroke-dasharray="6,4"/>'
            f'<text x="{x - 4:.1f}" y="{axis_y + 26}" font-size="10" fill="{RED}" '
            f'text-anchor="end">budget {budget:g} ms</text>'
        )
    return _svg("latency", title, width, height + 14, body)


STATUS_COLOUR = {"ok": GREEN, "conditions": AMBER, "blocked": RED, "did_not_run": GREY}
STATUS_TEXT = {
    "ok": "no issue",
    "conditions": "conditions",
    "blocked": "blocker",
    "did_not_run": "did not run",
}


def layer_chart(
    scores: dict[str, float | None], status: dict[str, str] | None = None, width: int = 720
) -> str:
    """The layer scores as horizontal bars on a 0-100 scale, coloured by the layer's worst
    issue (a blocker is red whatever the score; docs/readiness.md)."""
    title = "Layer scores (colour: the layer's worst issue)"
    status = status or {}
    items = list(scores.items())
    label_w, bar_h, gap = 120, 20, 6
    span = width - label_w - 200
    height = len(items) * (bar_h + gap) + 8
    body = []
    for i, (layer, s) in enumerate(items):
        y = 4 + i * (bar_h + gap)
        st = status.get(layer) or ("did_not_run" if s is None else "ok")
        colour = STATUS_COLOUR.get(st, GREY)
        w = span * (s or 0)
        text = "did not run" if s is None else f"{100 * s:.0f} / 100 · {STATUS_TEXT[st]}"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(layer)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{span}" height="{bar_h}" fill="#eef1f4"/>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 0):.1f}" height="{bar_h}" '
            f'fill="{colour}" data-layer="{escape(layer)}" data-status="{escape(st)}">'
            f"<title>{escape(layer)}: {escape(text)}</title></rect>"
            f'<text x="{label_w + span + 6}" y="{y + 14}" font-size="11">{escape(text)}</text>'
        )
    return _svg("layers", title, width, height, body)


def bar_chart(
    items: list[tuple[str, float]],
    *,
    name: str,
    title: str,
    width: int = 720,
    value_format: str = "{:,.0f}",
    max_value: float | None = None,
) -> str:
    """Horizontal bars, one per (label, value), largest scale `max_value` or the largest."""
    if not items:
        return _empty(name, title, "No data.")
    label_w, bar_h, gap = 190, 18, 6
    top = max(max_value or 0, max(v for _, v in items)) or 1
    span = width - label_w - 90
    height = len(items) * (bar_h + gap) + 8
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * (bar_h + gap)
        w = max(1.0, span * value / top)
        text = value_format.format(value)
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" font-size="12" text-anchor="end">'
            f"{escape(str(label))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{BLUE}">'
            f"<title>{escape(str(label))}: {escape(text)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="11">{escape(text)}</text>'
        )
    return _svg(name, title, width, height, body)


def column_chart(
    items: list[tuple[str, float]],
    *,
    name: str,
    title: str,
    width: int = 720,
    height: int = 200,
    value_format: str = "{:,.0f}",
    flagged: set[str] | frozenset[str] = frozenset(),
    flag_note: str = "",
) -> str:
    """Vertical columns over an ordered axis (months); `flagged` labels are drawn in amber
    (e.g. months after the audit date) and `flag_note` says why."""
    if not items:
        return _empty(name, title, "No data.")
    left, top_pad, bottom = 44, 12, 40
    plot_h = height - top_pad - bottom
    top = max(v for _, v in items) or 1
    step = (width - left - 10) / len(items)
    body = [
        f'<text x="{left - 6}" y="{top_pad + 4}" font-size="10" text-anchor="end">'
        f"{escape(value_format.format(top))}</text>",
        f'<line x1="{left}" x2="{width - 10}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" '
        'stroke="#9aa5b1"/>',
    ]
    label_every = max(1, math.ceil(len(items) / 12))
    for i, (label, value) in enumerate(items):
        h = plot_h * value / top
        x = left + i * step + step * 0.1
        colour = AMBER if label in flagged else BLUE
        body.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(1.0, step * 0.8):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: '
            f"{escape(value_format.format(value))}"
            f"{' (' + escape(flag_note) + ')' if label in flagged and flag_note else ''}"
            "</title></rect>"
        )
        if i % label_every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="10">'
                f"{escape(label)}</text>"
            )
    if flagged and flag_note:
        body.append(
            f'<rect x="{left}" y="{height - 14}" width="10" height="10" fill="{AMBER}"/>'
            f'<text x="{left + 14}" y="{height - 5}" font-size="10">{escape(flag_note)}</text>'
        )
    return _svg(name, title, width, height, body)
