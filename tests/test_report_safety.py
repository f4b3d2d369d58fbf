"""Labels are data: reports show them inert (Markdown/HTML escaped, CSV formulas neutralised);
reports are deterministic; two audits never write one output directory at once."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from reports.escape import csv_cell, md_text
from reports.pii_exposure import render_csv
from reports.scorecard.markdown import render_markdown

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
HOSTILE = [SCRIPT, IMG, LINK, "a|b", "**bold**", "`code`", '=HYPERLINK("http://x")']


def _card() -> dict:
    by = {label: {"tickets": 3, "monthly_volume": 1.0} for label in HOSTILE}
    return {
        "audit_name": SCRIPT,
        "audit_id": IMG,
        "tickets_total": 10,
        "quality": {
            "funnel": [{"step": s, "remaining": 5, "removed": 1} for s in HOSTILE],
            "criteria": [{"step": s, "failing_tickets": 1} for s in HOSTILE],
            "metadata_completeness": {s: 0.5 for s in HOSTILE},
            "template_tokens": [{"field": "description", "token": IMG, "tickets": 2}],
        },
        "retrieval": {
            "precision_at_5_by_category": {
                s: {"queries": 2, "precision_at_5": 0.5} for s in HOSTILE
            }
        },
        "baselines": {"by_category": by, "by_channel": by},
        "ownership": {
            "responsibilities": [
                {"area": "taxonomy", "title": SCRIPT, "owner": IMG, "status": "ok"}
            ],
            "evidence": {
                "by_team": [{"team": s, "tickets": 1, "untagged_share": 0.1} for s in HOSTILE]
            },
        },
        "category_drift": {
            "tvd": 0.1,
            "changes": [
                {"category": s, "previous": 0.1, "current": 0.2, "delta": 0.1} for s in HOSTILE
            ],
        },
        "readiness": {"verdict": "not_ready", "score": 0.4, "blocking_issues": []},
    }


def test_scorecard_markdown_shows_hostile_labels_as_text() -> None:
    md = render_markdown(_card())
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    for raw in ("<script", "<img", 'href="javascript', "<strong>bold", "<code>code"):
        assert raw not in rendered, raw
    # ... and still shows them, literally, to the reader.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "[click](javascript:alert(1))" in rendered


def test_md_text_round_trips_through_a_markdown_renderer() -> None:
    md = MarkdownIt("commonmark")
    for s in [*HOSTILE, "plain", "snake_case_field", "50% (n=3)", "\\back\\slash"]:
        html = md.renderInline(md_text(s))
        assert html == s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
            '"', "&quot;"
        ), s


def _exposure(channel: str) -> dict:
    return {
        "tickets_scanned": 2,
        "tickets_with_pii": 1,
        "tickets_with_pii_share": 0.5,
        "findings_total": 1,
        "entities": [],
        "by_field": [
            {
                "field": "-1+1",
                "tickets": 1,
                "tickets_share": 0.5,
                "findings": 1,
                "entity_types": ["@SUM(A1)"],
            }
        ],
        "by_channel": [
            {
                "value": channel,
                "tickets": 2,
                "tickets_exposed": 1,
                "share_exposed": 0.5,
                "by_entity": {"EMAIL_ADDRESS": 1},
            }
        ],
        "by_month": [],
        "high_risk_tickets": [],
        "residual_by_entity": {},
        "residual_tickets": [],
        "capabilities": {},
    }


@pytest.mark.parametrize(
    "channel", ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(1)", "\t=1"]
)
def test_pii_exposure_csv_cells_never_start_a_formula(channel: str) -> None:
    rows = list(csv.reader(io.StringIO(render_csv(_exposure(channel)))))
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not _number(c)]
    assert "'" + channel in cells  # kept, readable, inert
    assert csv_cell(-3) == -3 and csv_cell(0.5) == 0.5  # numbers stay numbers


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_pii_exposure_by_field_breaks_ties_by_name(tmp_path: Path) -> None:
    from ticket_audit.config import parse_config
    from ticket_audit.pii.exposure import compute_exposure
    from ticket_audit.pii.tables import ensure_pii_tables
    from ticket_audit.store import open_store

    cfg = parse_config(
        {
            "sources": [
                {
                    "name": "s",
                    "kind": "file",
                    "path": "x.csv",
                    "mapping": {"fields": {"ticket_id": "id", "created_at": "c"}},
                }
            ]
        },
        base_dir=tmp_path,
    )
    orders = []
    for n, fields in enumerate([list(range(60)), list(reversed(range(60)))]):
        with open_store(tmp_path / f"a{n}.duckdb") as con:
            ensure_pii_tables(con)
            con.execute(
                "INSERT INTO canonical.tickets (source, ticket_id, created_at, created_month) "
                "VALUES ('s', 'T1', '2024-01-01', '2024-01-01')"
            )
            con.execute(
                "INSERT INTO audit.pii_scan_state VALUES ('s', 'T1', '2024-01-01', 'h', now(), "
                "60, NULL, NULL)"
            )
            for i in fields:  # one finding in each of 60 fields: 60 ties
                con.execute(
                    "INSERT INTO audit.pii_findings VALUES "
                    "('s', 'T1', ?, 'EMAIL_ADDRESS', 0, 1, 0.9, 'r', 'v', ?)",
                    [f"field{i:02d}", date(2024, 1, 1)],
                )
            orders.append([r["field"] for r in compute_exposure(con, cfg)["by_field"]])
    assert orders[0] == orders[1] == sorted(orders[0])


def test_two_audits_never_write_one_output_directory_at_once(tmp_path: Path) -> None:
    """Different DuckDB files (so the store lock does not meet them), the same --output."""
    from pipelines.runner import AuditFailed, output_lock, run_audit

    config = tmp_path / "audit.yaml"
    config.write_text(
        "audit: {duckdb_path: second.duckdb}\n"
        "sources:\n- name: desk\n  kind: file\n  path: t.csv\n"
        "  mapping: {fields: {ticket_id: id, created_at: opened}}\n"
    )
    out = tmp_path / "shared-out"
    out.mkdir()
    with output_lock(out), pytest.raises(AuditFailed) as failed:
        run_audit(config, out, show_progress=False)
    assert failed.value.input_error
    assert f"{out}: another audit is writing this output directory (pid " in str(failed.value)
    assert not (tmp_path / "second.duckdb").exists()  # stopped before any stage ran
