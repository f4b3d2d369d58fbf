"""A multilingual helpdesk export nobody here wrote (tests/data/multilang_tickets: en, de, fr,
es, pt; no id, no creation time, nine tag columns), mapped by configs/multilang_tickets.yaml
with the DESIGN syntax only. Every expected number is counted here with the csv module."""

from __future__ import annotations

import csv
from collections import Counter

import duckdb
import pytest
import yaml

from connectors.ingest import ingest_config
from tests.conftest import REPO, write_config
from tests.quality.layer import run_quality_layer
from ticket_audit.config import load_config

pytestmark = pytest.mark.slow
DATA = REPO / "tests" / "data" / "multilang_tickets" / "tickets.csv"
TAGS = [f"tag_{i}" for i in range(1, 10)]
# The salutations that open a reply in each language, as a reader would list them.
SALUTATIONS = (
    "dear", "hello", "hi ", "sehr geehrte", "liebe", "hallo", "guten tag", "cher", "chère",
    "bonjour", "estimad", "hola", "prezad", "caro", "cara", "olá",
)  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("multilang")
    data = yaml.safe_load((REPO / "configs" / "multilang_tickets.yaml").read_text())
    data["audit"].update(duckdb_path=str(work / "ml.duckdb"), output_dir=str(work / "out"))
    data["sources"][0]["path"] = str(DATA)
    cfg = load_config(write_config(work, data))
    report = ingest_config(cfg, progress=lambda _m: None)
    summary = run_quality_layer(cfg, progress=lambda _m: None).summary
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        tags = dict(
            con.execute(
                "SELECT unnest(tags), count(*) FROM canonical.tickets GROUP BY 1"
            ).fetchall()
        )
        languages = dict(
            con.execute("SELECT language, count(*) FROM canonical.tickets GROUP BY 1").fetchall()
        )
    finally:
        con.close()
    return report, summary, tags, languages


def test_rows_ids_and_constants(audited, rows) -> None:
    report, summary, _, languages = audited
    assert report.totals() == {
        "rows_read": len(rows),
        "rows_loaded": len(rows),
        "rows_quarantined": 0,
    }
    assert languages == Counter(r["language"] for r in rows)
    assert summary["metadata_completeness"]["channel"] == 1.0


def test_nine_tag_columns_counted_as_an_analyst_would(audited, rows) -> None:
    _, _, tags, _ = audited
    expected = Counter(r[t].strip() for r in rows for t in TAGS if r[t].strip())
    assert tags == expected


def test_tagging_coverage_and_catch_all(audited, rows) -> None:
    _, summary, _, _ = audited
    queues = Counter(r["queue"] for r in rows)
    assert summary["tagging_coverage"] == pytest.approx(1.0)  # every queue is in the taxonomy
    assert summary["catch_all_share"] == pytest.approx(queues["General Inquiry"] / len(rows))


def test_greetings_found_in_every_language(audited, rows) -> None:
    _, summary, _, _ = audited
    answers = [r["answer"] for r in rows if r["answer"].strip()]
    greeted = sum(a.strip().lower().startswith(SALUTATIONS) for a in answers)
    overall = summary["response_variability_detail"]["overall"]
    assert overall["replies"] == len(answers)
    assert greeted / len(answers) > 0.5  # the sample is a fair test
    found = overall["greeting_share"] * len(answers)
    assert abs(found - greeted) <= 2, (found, greeted)
    # Sign-offs are on lines of their own ("Mit freundlichen Grüßen", "Cordialement", ...).
    signed = sum(
        a.strip().split("\n")[-1].strip().lower().startswith(
            ("best regards", "kind regards", "mit freundlichen", "viele grüße", "beste grüße",
             "cordialement", "bien cordialement", "saludos", "atentamente", "atenciosamente",
             "cumprimentos", "sincerely", "regards")
        )
        or (
            len(a.strip().split("\n")) > 1
            and a.strip().split("\n")[-2].strip().lower().startswith(
                ("best regards", "kind regards", "mit freundlichen", "viele grüße",
                 "cordialement", "saludos", "atentamente", "atenciosamente", "sincerely",
                 "regards")
            )
        )
        for a in answers
    )  # fmt: skip
    assert overall["signoff_share"] * len(answers) >= signed


def test_labels_the_text_does_not_predict_are_reported_unverified(audited, rows) -> None:
    _, summary, _, _ = audited
    lc = summary["label_classifier"]
    # Almost every ticket carries a valid queue, yet the bodies do not predict it.
    assert summary["usable_labeled_share"] > 0.9
    assert lc["classifier_skill"] is not None and lc["classifier_skill"] < 0.2
    assert summary["usable_labeled_verified"] is False
    assert summary["label_issue_share"] == 0  # no flags from a model without skill


def test_check_reads_an_export_whose_answers_span_lines(tmp_path) -> None:
    """`check` maps a copy of the first 1,000 lines; this export's multi-line answers put
    that cut inside a quoted value, which must not make a loadable file an error."""
    from connectors.preflight import check_sources

    with DATA.open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) > 1000  # the cut falls inside the file
    data = yaml.safe_load((REPO / "configs" / "multilang_tickets.yaml").read_text())
    data["audit"].update(duckdb_path=str(tmp_path / "c.duckdb"), output_dir=str(tmp_path / "o"))
    data["sources"][0]["path"] = str(DATA)
    assert check_sources(load_config(write_config(tmp_path, data))) == []
