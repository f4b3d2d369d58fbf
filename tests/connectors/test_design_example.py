"""The DESIGN.md mapping example as a user writes it: an export with no id and no creation
time, one channel for the whole file, tags spread over three columns. The audit's counts are
checked against counts made here with the csv module over the same file."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest

from connectors.ingest import ingest_config
from reports.profile import compute_profile
from tests.conftest import write_config
from tests.quality.layer import run_quality_layer
from ticket_audit.config import load_config

DESIGN_FIELDS = {
    "ticket_id": {"row_number": True},
    "created_at": {"value": "2024-06-01"},
    "channel": {"value": "social"},
    "tags": {"columns": ["tag_1", "tag_2", "tag_3"]},
    "subject": "subject",
    "description": "body",
}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    rnd = random.Random(20)
    words = ["refund", "login", "delivery", "invoice", "app", ""]
    rows = [
        {
            "subject": f"Question {i}",
            "body": f"Customer message number {i} about {rnd.choice(words[:-1])}",
            "tag_1": rnd.choice(words),
            "tag_2": rnd.choice(words + ["", ""]),
            "tag_3": rnd.choice(["", "", " ", "vip"]),
        }
        for i in range(120)
    ]
    d = tmp_path_factory.mktemp("design_example")
    with (d / "export.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return d, rows


@pytest.fixture(scope="module")
def audited(export):
    d, _ = export
    path = write_config(
        d,
        {
            "audit": {"duckdb_path": str(d / "design.duckdb"), "output_dir": str(d / "out")},
            "sources": [
                {
                    "name": "social",
                    "kind": "file",
                    "path": "export.csv",
                    "mapping": {"fields": DESIGN_FIELDS},
                }
            ],
            "taxonomy": {"channels": ["social"]},
        },
    )
    cfg = load_config(path)
    report = ingest_config(cfg, progress=lambda _m: None)
    run = run_quality_layer(cfg, progress=lambda _m: None)
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        profile = compute_profile(con)
        tags = con.execute(
            "SELECT unnest(tags) AS tag, count(*) FROM canonical.tickets GROUP BY 1"
        ).fetchall()
        ids = [r[0] for r in con.execute("SELECT ticket_id FROM canonical.tickets").fetchall()]
    finally:
        con.close()
    return report, run.summary, profile, dict(tags), ids


def test_every_row_loads_with_its_generated_id_and_constants(export, audited) -> None:
    _, rows = export
    report, summary, profile, _, ids = audited
    assert report.totals() == {
        "rows_read": len(rows),
        "rows_loaded": len(rows),
        "rows_quarantined": 0,
    }
    assert sorted(ids) == sorted(f"social-export.csv-{i}" for i in range(1, len(rows) + 1))
    assert [(m["month"], m["tickets"]) for m in profile["tickets_by_month"]] == [
        ("2024-06", len(rows))
    ]
    assert summary["metadata_completeness"]["channel"] == 1.0


def test_tags_counted_as_an_analyst_would(export, audited) -> None:
    _, rows = export
    _, _, profile, tags, _ = audited
    expected: dict[str, int] = {}
    tagged = 0
    for r in rows:
        cells = [r[c].strip() for c in ("tag_1", "tag_2", "tag_3") if r[c].strip()]
        tagged += bool(cells)
        for c in cells:
            expected[c] = expected.get(c, 0) + 1
    assert tags == expected
    assert profile["field_fill_rates"]["tags"] == pytest.approx(tagged / len(rows))
