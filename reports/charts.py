"""Small inline-SVG charts: reports stay one self-contained file that opens from disk."""

from __future__ import annotations

from html import escape


def bar_chart(
    items: list[tuple[str, float]],
    *,
    title: str,
    width: int = 640,
    bar_height: int = 18,
    value_format: str = "{:,.0f}",
    max_value: float | None = None,
) -> str:
    """Horizontal bars, one per (label, value); labels are escaped."""
    if not items:
        return f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="24"><text x="4" y="16">no data</text></svg>'
    label_w, pad = 170, 4
    top = max(max_value or 0, max(v for _, v in items)) or 1
    height = len(items) * (bar_height + pad) + 24
    rows = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    span = width - label_w - 90
    for i, (label, value) in enumerate(items):
        y = 24 + i * (bar_height + pad)
        w = max(1.0, span * value / top)
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 5}" font-size="12" text-anchor="end">'
            f"{escape(str(label))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="#3b6ea8">'
            f"<title>{escape(str(label))}: {value_format.format(value)}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 5}" font-size="12">'
            f"{value_format.format(value)}</text>"
        )
    rows.append("</svg>")
    return "".join(rows)


def column_chart(
    items: list[tuple[str, float]],
    *,
    title: str,
    width: int = 720,
    height: int = 200,
    value_format: str = "{:,.0f}",
) -> str:
    """Vertical columns over an ordered axis (months); every fourth label is shown."""
    if not items:
        return bar_chart([], title=title)
    top = max(v for _, v in items) or 1
    plot_h, left = height - 50, 40
    step = (width - left - 10) / len(items)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    label_every = max(1, len(items) // 12)
    for i, (label, value) in enumerate(items):
        h = plot_h * value / top
        x = left + i * step
        parts.append(
            f'<rect x="{x:.1f}" y="{20 + plot_h - h:.1f}" width="{max(1.0, step * 0.8):.1f}" '
            f'height="{h:.1f}" fill="#3b6ea8"><title>{escape(label)}: '
            f"{value_format.format(value)}</title></rect>"
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 14}" font-size="10">{escape(label)}</text>'
            )
    parts.append(f'<text x="0" y="{24}" font-size="10">{value_format.format(top)}</text></svg>')
    return "".join(parts)
