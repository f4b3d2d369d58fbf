"""The one Jinja2 environment of the HTML reports: shared layout and macros
(reports/templates/base.html.j2, macros.html.j2), autoescaping, number formats."""

from __future__ import annotations

from pathlib import Path

import jinja2

from reports import format as fmt

TEMPLATES = Path(__file__).parent / "templates"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    pct=fmt.pct,
    num=fmt.num,
    hours=fmt.hours,
    ms=fmt.ms,
    signed=fmt.signed,
    verdict=fmt.verdict,
    measure=fmt.measure,
    label_evidence=fmt.label_evidence,
)


def render(template: str, **context: object) -> str:
    return env.get_template(template).render(**context)
