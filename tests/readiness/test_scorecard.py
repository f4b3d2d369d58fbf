"""scorecard.{json,md,html}: the DESIGN.md shape, self-contained HTML, no ticket text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from reports.scorecard import write_scorecard
from reports.scorecard.html import coverage_by_month
from tests.readiness.summaries import healthy
from tests.readiness.test_history import CFG
from ticket_audit.baselines import business_baselines
from ticket_audit.ownership import tagging_evidence
from ticket_audit.readiness import build_scorecard
from ticket_audit.retrieval import load_corpus, run_probe
from ticket_audit.store import open_store
from ticket_audit.tagging import tagged_labels

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "reports" / "scorecard" / "scorecard.schema.json").read_text()
)
FRACTION_KEY = re.compile(r"(_share|coverage|precision_at_5|completeness)$")


def card_for(summaries: dict) -> dict:
    return build_scorecard(
        summaries,
        CFG,
        audit_id="20260101-000000-abcd",
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        tickets_total=1000,
        previous=[],
    )


def _fractions(obj: object, key: str = "") -> list[tuple[str, float]]:
    if isinstance(obj, dict):
        return [
            x
            for k, v in obj.items()
            for x in _fractions(v, k if FRACTION_KEY.search(k) else str(k))
        ]
    if isinstance(obj, list):
        return [x for v in obj for x in _fractions(v, key)]
    if isinstance(obj, float | int) and not isinstance(obj, bool) and FRACTION_KEY.search(key):
        return [(key, obj)]
    return []


def test_json_matches_the_design_schema(tmp_path: Path) -> None:
    paths = write_scorecard(card_for(healthy()), tmp_path)
    assert [p.name for p in paths] == ["scorecard.html", "scorecard.md", "scorecard.json"]
    card = json.loads((tmp_path / "scorecard.json").read_text())
    jsonschema.validate(card, SCHEMA)
    assert card["readiness"]["verdict"] == "ready"


def test_missing_layers_still_carry_every_key() -> None:
    card = card_for(healthy(quality=None, pii=None, retrieval=None))
    jsonschema.validate(card, SCHEMA)
    assert card["quality"]["funnel"] is None
    assert card["readiness"]["verdict"] == "not_ready"


def test_the_schema_rejects_out_of_range_fractions() -> None:
    card = card_for(healthy(quality={"tagging_coverage": 80.0}))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(card, SCHEMA)


def test_every_fraction_is_within_0_and_1() -> None:
    found = _fractions(card_for(healthy()))
    assert len(found) >= 8
    assert all(0 <= v <= 1 for _, v in found), found


def test_html_is_self_contained(tmp_path: Path) -> None:
    write_scorecard(card_for(healthy()), tmp_path)
    page = (tmp_path / "scorecard.html").read_text()
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page
    # The only absolute URLs are SVG namespaces; links are anchors of this page (each with
    # its target) or files of the same output directory.
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    links = re.findall(r'(?:href|src)="([^"]+)"', page)
    anchors = [x[1:] for x in links if x.startswith("#")]
    assert anchors and all(f'id="{a}"' in page for a in anchors), anchors
    assert {x for x in links if not x.startswith("#")} == {"pii_exposure.html"}
    for chart in ("layers", "funnel", "coverage", "latency", "trends"):
        assert f'data-chart="{chart}"' in page


def test_html_escapes_what_it_shows(tmp_path: Path) -> None:
    s = healthy(quality={"funnel": [{"step": "<b>all</b>", "remaining": 5}]})
    s["ownership"]["responsibilities"][0]["owner"] = "<img src=x onerror=alert(1)>"
    write_scorecard(card_for(s), tmp_path)
    page = (tmp_path / "scorecard.html").read_text()
    assert "<img" not in page and "<b>all</b>" not in page
    assert "&lt;b&gt;all&lt;/b&gt;" in page


def test_markdown_has_the_verdict_issues_and_tables(tmp_path: Path) -> None:
    s = healthy(pii={"residual_findings_after_redaction": 4})
    write_scorecard(card_for(s), tmp_path)
    md = (tmp_path / "scorecard.md").read_text()
    assert "**Verdict: Not ready**" in md
    assert "| issue | owner | action |" in md
    assert "4 PII findings remain in the redacted dataset." in md
    assert "| Billing | 10 | 90.0% |" in md  # precision@5 by category


def test_no_ticket_text_or_customer_data_in_reports(loaded, tmp_path: Path) -> None:
    """A full assembly over a generated history: the reports carry counts, never text."""
    history, cfg = loaded
    cats = list(cfg.taxonomy.categories)
    with open_store(cfg.duckdb_path) as con:
        b = business_baselines(con, labels=tagged_labels(cfg.taxonomy))
        ev = tagging_evidence(con, "canonical.tickets", tagged_labels(cfg.taxonomy))
        corpus = load_corpus(con, "canonical.tickets", "canonical.messages", cats)
    s = healthy()
    s["baselines"] = b
    s["ownership"]["evidence"] = ev
    s["retrieval"] = run_probe(
        corpus, cfg.retrieval, monthly_volume=b["monthly_volume"], index_dir=None
    )
    write_scorecard(card_for(s), tmp_path)
    text = "\n".join(
        (tmp_path / n).read_text() for n in ("scorecard.html", "scorecard.md", "scorecard.json")
    )
    tickets = pl.read_csv(history.tickets_path, infer_schema=False)
    texts = {
        (r["ticket_id"], f): r[f] or ""
        for r in tickets.iter_rows(named=True)
        for f in ("subject", "description")
    }
    planted = [json.loads(line) for line in history.pii_truth_path.read_text().splitlines()]
    values = {
        texts[(p["ticket_id"], p["field"])][p["start"] : p["end"]]
        for p in planted
        if (p["ticket_id"], p["field"]) in texts
    }
    assert len(values) > 50
    secrets = (
        set(tickets["customer_email"].drop_nulls())
        | set(tickets["customer_name"].drop_nulls())
        | {v for v in values if len(v) >= 6}
    )
    leaked = sorted(v for v in secrets if v in text)
    assert not leaked, leaked[:5]
    subjects = {v for v in tickets["subject"].drop_nulls() if len(v) > 25}
    assert not [v for v in subjects if v in text]


def test_coverage_chart_prefers_the_quality_layers_months() -> None:
    base = [
        {"month": "2026-01-01", "tickets": 10, "tagged": 5, "complete": True},
        {"month": "2026-02-01", "tickets": 10, "tagged": 6, "complete": False},
    ]
    card = {"baselines": {"monthly": base}, "quality": {}}
    assert coverage_by_month(card) == base
    card["quality"]["by_month"] = [
        {"value": "2026-01", "tickets": 8, "tagging_coverage": 0.75},
        {"value": "2026-02", "tickets": 8, "tagging_coverage": 1.0},  # still running
        {"value": "2027-03", "tickets": 1, "tagging_coverage": 1.0},  # future-dated defect
    ]
    assert coverage_by_month(card) == [
        {"month": "2026-01", "tickets": 8, "tagged": 6, "complete": True}
    ]


def test_scorecard_holds_the_quality_layers_section(tmp_path: Path) -> None:
    from reports import quality_section

    card = card_for(healthy())
    write_scorecard(card, tmp_path)
    md = (tmp_path / "scorecard.md").read_text()
    assert quality_section.render_markdown(card["quality"]) in md
    page = (tmp_path / "scorecard.html").read_text()
    assert "Tagging coverage" in page and "92.0%" in page


def test_each_chart_appears_once_with_the_real_quality_section(tmp_path: Path) -> None:
    write_scorecard(card_for(healthy()), tmp_path)
    page = (tmp_path / "scorecard.html").read_text()
    for chart in ("funnel", "coverage"):
        assert page.count(f'data-chart="{chart}"') == 1


def _layer_bars(html: str) -> dict[str, tuple[str, str]]:
    """layer -> (fill colour, status) of the layer chart's score bars."""
    return {
        m["layer"]: (m["fill"], m["status"])
        for m in re.finditer(
            r'fill="(?P<fill>#[0-9a-f]{6})" data-layer="(?P<layer>\w+)" '
            r'data-status="(?P<status>\w+)"',
            html,
        )
    }


def test_layer_colours_follow_blockers_not_scores(tmp_path: Path) -> None:
    from reports.charts import AMBER, GREEN, RED

    # 2 of 300 findings survive redaction: the PII layer is blocked, and its score says so
    # (1 - 2/300 would read 99.3; residuals cap it at 0.6, a PII blocker at 0.5; issue 19).
    s = healthy(pii={"residual_findings_after_redaction": 2})
    card = card_for(s)
    r = card["readiness"]
    assert r["layer_scores"]["pii"] == 0.5
    assert r["layer_status"] == {
        "quality": "ok",
        "pii": "blocked",
        "retrieval": "ok",
        "ownership": "ok",
    }
    write_scorecard(card, tmp_path)
    bars = _layer_bars((tmp_path / "scorecard.html").read_text())
    assert bars["pii"] == (RED, "blocked")
    assert bars["quality"] == (GREEN, "ok")

    # A condition (tagging coverage under its minimum) is amber even at a high score.
    card = card_for(healthy(quality={"tagging_coverage": 0.79}))
    assert card["readiness"]["layer_scores"]["quality"] > 0.8
    write_scorecard(card, tmp_path)
    assert _layer_bars((tmp_path / "scorecard.html").read_text())["quality"] == (
        AMBER,
        "conditions",
    )


def test_the_page_explains_the_score_and_the_verdict(tmp_path: Path) -> None:
    card = card_for(healthy(pii={"residual_findings_after_redaction": 2}))
    write_scorecard(card, tmp_path)
    html = (tmp_path / "scorecard.html").read_text()
    section = html.split('id="how-scored"', 1)[1].split("<h2", 1)[0]
    assert "any blocker makes the history <b>Not ready</b>" in section
    assert "1 blocker and 0 conditions, so <b>Not ready</b>" in section
    # The breakdown's weighted contributions add up to the overall score shown.
    weighted = [float(x) for x in re.findall(r'<td class="n">([\d.]+)</td><td class="st-', section)]
    total = float(re.search(r"overall score</th><th class=\"n\">([\d.]+)<", section)[1])
    assert sum(weighted) == pytest.approx(total, abs=0.2)
    assert total == pytest.approx(100 * card["readiness"]["score"], abs=0.05)
    assert re.search(r"<code>residual_pii</code>.*?blocker raised", section, re.S)


def test_latency_check_is_shown_in_milliseconds_not_as_a_share(tmp_path: Path) -> None:
    card = card_for(healthy())
    card["retrieval"]["projection"] = {
        **(card["retrieval"].get("projection") or {}),
        "p95_ms": 0.097,
    }
    write_scorecard(card, tmp_path)
    html = (tmp_path / "scorecard.html").read_text()
    row = re.search(r"<code>retrieval_latency</code>.*?</tr>", html, re.S)[0]
    assert "0.10 ms" in row and "500 ms" in row and "%" not in row
