"""No ticket text or planted personal data in GX results, Data Docs, audit tables or reports.

The needles are the texts themselves: every description and subject (40-character slices)
and every planted PII value, cut from the generated tickets by the truth offsets.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from expectations.stage import gx_results_dir
from reports.quality_section import render_html, render_markdown
from ticket_audit.store import open_store


@pytest.fixture(scope="module")
def needles(default_audit) -> list[str]:
    h = default_audit.history
    tickets = pl.read_csv(
        h.tickets_path, schema_overrides={"ticket_id": pl.Utf8}, infer_schema_length=None
    )
    out: set[str] = set()
    for column in ("description", "subject"):
        for text in tickets[column].drop_nulls().to_list():
            if len(text) >= 40:
                out.add(text[:40])
                out.add(text[-40:])
    by_id = {r["ticket_id"]: r for r in tickets.iter_rows(named=True)}
    for line in h.pii_truth_path.read_text().splitlines():
        span = json.loads(line)
        if span["field"] in ("description", "subject"):
            value = (by_id[span["ticket_id"]][span["field"]] or "")[span["start"] : span["end"]]
            if len(value) >= 6:
                out.add(value)
    out.update(e for e in tickets["customer_email"].drop_nulls().to_list())
    assert len(out) > 1000
    return sorted(out)


def _leaks(text: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n in text]


def _files(root: Path, *suffixes: str) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix in suffixes
    )


def test_gx_results_hold_counts_only(default_audit, needles) -> None:
    results = gx_results_dir(default_audit.cfg)
    stored = list(results.rglob("*.json"))
    assert stored, "GX stored no validation results"
    for path in stored:
        doc = json.loads(path.read_text())
        for r in doc["results"]:
            assert set(r["result"]) <= {
                "element_count",
                "unexpected_count",
                "unexpected_percent",
                "missing_count",
                "missing_percent",
                "unexpected_percent_total",
                "unexpected_percent_nonmissing",
                "observed_value",
            }, path
    assert _leaks(_files(results, ".json"), needles) == []


def test_data_docs_hold_no_ticket_text(default_audit, needles) -> None:
    docs = default_audit.output / "data_docs"
    assert (docs / "index.html").exists()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) >= 4 * 6  # four suites, at least six months
    assert _leaks(_files(docs, ".html", ".json"), needles) == []


def test_audit_tables_hold_no_ticket_text(default_audit, needles) -> None:
    with open_store(default_audit.cfg.duckdb_path) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit'"
            ).fetchall()
        ]
        dumps = []
        for t in tables:
            # Every column as text, lists included (duplicate_sketch keeps hash lists).
            frame = con.sql(f'SELECT COLUMNS(*)::VARCHAR FROM audit."{t}"').pl()
            dumps.append(frame.write_csv())
    assert {
        "quality_check_results",
        "quality_check_violations",
        "quality_ticket_flags",
        "duplicate_groups",
        "duplicate_sketch",
        "label_issues",
        "reply_labels",
        "reply_variability",
    } <= set(tables)
    assert _leaks("\n".join(dumps), needles) == []


def test_summary_and_section_hold_no_ticket_text(default_audit, needles) -> None:
    s = default_audit.summary
    text = json.dumps(s, default=str) + render_html(s) + render_markdown(s)
    assert _leaks(text, needles) == []


def test_runner_refuses_results_that_carry_values(tmp_path) -> None:
    """If GX ever ignored the result format, the month is discarded, not stored."""
    from datetime import date

    import pandas as pd

    import expectations.runner as runner_module
    from expectations.checks import Check, no_regex

    check: Check = no_regex(
        "text", "description_no_template_token", "description", [r"\{[a-z_]+\}"], "no tokens", None
    )
    runner = runner_module.GxRunner([check], results_dir=tmp_path / "results", docs_dir=None)
    loose = {"result_format": "SUMMARY"}
    for checkpoint in runner.checkpoints.values():
        checkpoint.result_format = loose
        checkpoint.save()
    frame = pd.DataFrame({"description": ["secret {name} text", "fine"], "subject": ["a", "b"]})
    with pytest.raises(RuntimeError, match="flagged values"):
        runner.validate(date(2026, 1, 1), {"text": frame})
    assert not list((tmp_path / "results").rglob("*.json"))
