"""scorecard.html in a real headless Chromium, offline: it renders and the charts draw.

Needs the Debian package `chromium` (`apt-get install -y chromium`). Where the machine lets
us, Chromium runs in a fresh network namespace (`unshare -n`), so the page has no network at
all; otherwise it runs with Chromium's own background networking switched off.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.charts import BLUE
from reports.scorecard import write_scorecard
from tests.readiness.pngread import colour_counts, read_png
from tests.readiness.summaries import healthy
from tests.readiness.test_history import CFG
from ticket_audit.readiness import build_scorecard

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium not installed: `apt-get install -y chromium` (Debian package)",
)
CHARTS = ("layers", "funnel", "coverage", "latency", "trends")


def _offline_prefix() -> list[str]:
    try:
        ok = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return []
    return ["unshare", "-rn"] if ok.returncode == 0 else []


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        *_offline_prefix(),
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _rgb(hex_colour: str) -> bytes:
    return bytes.fromhex(hex_colour.removeprefix("#"))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scorecard")
    s = healthy(quality={"tagging_coverage": 0.7})
    s["baselines"]["monthly"] = [
        {"month": f"2026-{m:02d}-01", "tickets": 100, "tagged": 60 + 3 * m, "complete": True}
        for m in range(1, 11)
    ]
    previous = [
        {
            "audit_id": "A",
            "generated_at": "2025-12-01T00:00:00",
            "verdict": "not_ready",
            "metrics": {"score": 0.5, "tagging_coverage": 0.6, "precision_at_5": 0.7},
            "category_mix": {"Billing": 0.5, "Account": 0.5},
        }
    ]
    card = build_scorecard(
        s,
        CFG,
        audit_id="B",
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        tickets_total=1000,
        previous=previous,
    )
    return write_scorecard(card, out)[0]


def test_dom_has_every_chart_drawn(page: Path, tmp_path: Path) -> None:
    result = chromium(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-verdict="ready_with_conditions"' in dom
    for chart in CHARTS:
        m = re.search(rf'<svg[^>]*data-chart="{chart}"[^>]*>(.*?)</svg>', dom, re.S)
        assert m, f"chart {chart} missing from the rendered DOM"
        assert re.search(r"<(rect|polyline|circle)\b", m.group(1)), f"chart {chart} is empty"
    assert dom.count("<polyline") >= 2  # trend lines across the two audits


def test_screenshot_shows_the_charts(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    result = chromium(
        page,
        tmp_path / "profile",
        "--window-size=1000,2400",
        "--hide-scrollbars",
        f"--screenshot={shot}",
    )
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    width, height, rows = read_png(shot)
    assert (width, height) == (1000, 2400)
    counts = colour_counts(rows)
    assert len(counts) > 50, "screenshot is (nearly) blank"
    # The bar colour is used by the SVG charts only (the page's CSS never uses it).
    assert counts[_rgb(BLUE)] > 500, "no chart bars painted"


def test_control_the_bar_colour_comes_from_the_charts(page: Path, tmp_path: Path) -> None:
    html = page.read_text()
    assert BLUE not in html.split("</style>")[0]
    stripped = tmp_path / "no-charts.html"
    stripped.write_text(re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S))
    shot = tmp_path / "shot.png"
    chromium(stripped, tmp_path / "profile", "--window-size=1000,2400", f"--screenshot={shot}")
    assert colour_counts(read_png(shot)[2])[_rgb(BLUE)] == 0
