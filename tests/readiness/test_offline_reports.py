"""The whole output directory of a real audit opens offline, as a person would open it.

Each HTML file (scorecard, PII exposure report, profile, the GX Data Docs index and its
pages) is rendered in headless Chromium, in an empty network namespace where the machine
allows it, with Chromium's network log on: no request the page makes may leave for http(s),
and no table of the rendered DOM (after the pages' own scripts ran) may be empty.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.data_docs import remote_loads
from tests.readiness.test_browser import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium not installed: `apt-get install -y chromium` (Debian package)",
)


@pytest.fixture(scope="module")
def output(demo_audit: Path) -> Path:
    return demo_audit / "out"


def page_requests(netlog: Path) -> list[str]:
    """http(s) addresses the page asked for (not Chromium's own background traffic: those
    requests carry no file:// isolation key)."""
    events = json.loads(netlog.read_text())["events"]
    by_source: dict[int, str] = {}
    from_page: set[int] = set()
    for e in events:
        params = e.get("params") or {}
        source = e.get("source", {}).get("id")
        if "url" in params:
            by_source.setdefault(source, params["url"])
        if str(params.get("network_isolation_key", "")).startswith("file://"):
            from_page.add(source)
    return sorted(
        {u for s, u in by_source.items() if s in from_page and u.startswith(("http:", "https:"))}
    )


def render(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and the http(s) requests it made."""
    netlog = tmp_path / f"{page.stem}.netlog.json"
    result = chromium(
        page,
        tmp_path / "profile",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=4000",
        "--dump-dom",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, page_requests(netlog)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Tables(HTMLParser):
    """Cells per visible table (nested tables counted on their own; tables inside a
    `display: none` element, such as bootstrap-table's hidden header clone, skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, hidden)
        self.tables: list[list] = []  # [cells, hidden]
        self.cells: list[int] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        style = (dict(attrs).get("style") or "").replace(" ", "")
        hidden = (bool(self.open) and self.open[-1][1]) or "display:none" in style
        if tag == "table":
            self.tables.append([0, hidden])
        elif tag == "td" and self.tables:
            self.tables[-1][0] += 1
        if tag not in VOID:
            self.open.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.tables:
            cells, hidden = self.tables.pop()
            if not hidden:
                self.cells.append(cells)
        while self.open:
            if self.open.pop()[0] == tag:
                break


def table_cells(dom: str) -> list[int]:
    parser = _Tables()
    parser.feed(dom)
    return parser.cells


def test_control_a_remote_script_and_an_empty_table_are_seen(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text(
        '<html><body><script src="https://cdn.example.com/lib.js"></script>'
        '<img src="http://img.example.org/a.png"><table><tr><th>x</th></tr></table>'
        "<table><tr><td>1</td></tr></table>"
        '<div style="display: none"><table></table></div></body></html>'
    )
    dom, requests = render(page, tmp_path)
    assert requests == ["http://img.example.org/a.png", "https://cdn.example.com/lib.js"]
    assert table_cells(dom) == [0, 1]
    assert remote_loads(page.read_text()) == [
        "https://cdn.example.com/lib.js",
        "http://img.example.org/a.png",
    ]


def test_no_html_file_of_the_output_loads_from_the_network(output: Path) -> None:
    pages = sorted(output.rglob("*.html"))
    assert len(pages) > 20  # the reports and the Data Docs pages
    loads = {str(p.relative_to(output)): remote_loads(p.read_text()) for p in pages}
    assert not {k: v for k, v in loads.items() if v}
    css = list((output / "data_docs" / "static").rglob("*.css"))
    assert css and not [c for c in css if remote_loads(c.read_text())]


@pytest.mark.parametrize(
    "name",
    ["scorecard.html", "pii_exposure.html", "profile.html", "data_docs/index.html", "validation"],
)
def test_each_report_renders_offline_with_no_empty_table(
    output: Path, tmp_path: Path, name: str
) -> None:
    if name == "validation":
        page = sorted((output / "data_docs" / "validations").rglob("*.html"))[0]
    else:
        page = output / name
    dom, requests = render(page, tmp_path)
    assert requests == [], requests
    cells = table_cells(dom)
    assert cells and min(cells) > 0, (name, cells)
    if name.startswith("data_docs"):
        # Bootstrap-table ran (its scripts loaded from the vendored copies) and filled the
        # index with the validation runs.
        assert "bootstrap-table" in dom and dom.count("<tr") > 5


def test_layer_colours_in_the_rendered_page_follow_blockers(output: Path, tmp_path: Path) -> None:
    """In the DOM Chromium renders, a layer with a blocker is red, never green."""
    from reports.charts import AMBER, GREEN, RED

    card = json.loads((output / "scorecard.json").read_text())
    r = card["readiness"]
    blocked = {i["layer"] for i in r["blocking_issues"]}
    conditions = {i["layer"] for i in r["conditions"]}
    dom, _ = render(output / "scorecard.html", tmp_path)
    bars = {
        m[2]: (m[1], m[3])
        for m in re.finditer(r'fill="(#[0-9a-f]{6})" data-layer="(\w+)" data-status="(\w+)"', dom)
    }
    assert set(bars) == {"quality", "pii", "retrieval", "ownership"}
    assert blocked & set(bars), "the demo history has a blocked layer"
    for layer, (fill, status) in bars.items():
        if layer in blocked:
            assert (fill, status) == (RED, "blocked"), layer
        elif layer in conditions:
            assert (fill, status) == (AMBER, "conditions"), layer
        else:
            assert fill == GREEN, layer
