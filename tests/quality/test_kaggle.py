"""The Kaggle export: the audit finds its known flaws on its own (configs/kaggle.yaml)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from connectors.ingest import ingest_config
from tests.conftest import REPO, with_store
from tests.quality.layer import run_quality_layer
from ticket_audit.config import load_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kaggle(kaggle_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    cfg = with_store(load_config(REPO / "configs" / "kaggle.yaml"), tmp_path_factory.mktemp("kq"))
    ingest_config(cfg, progress=lambda _m: None)
    run = run_quality_layer(cfg, progress=lambda _m: None)
    return cfg, run.summary


@pytest.fixture(scope="module")
def raw(kaggle_csv: Path) -> pl.DataFrame:
    return pl.read_csv(kaggle_csv, infer_schema_length=None)


def test_finds_the_unfilled_product_token(kaggle, raw) -> None:
    _, s = kaggle
    tokens = {t["token"]: t["tickets"] for t in s["template_tokens"] if t["field"] == "description"}
    expected = raw.filter(
        pl.col("Ticket Description").str.contains("{product_purchased}", literal=True)
    ).height
    assert tokens["{product_purchased}"] == expected
    assert expected / raw.height > 0.9
    check = next(c for c in s["checks"] if c["check"] == "description_no_template_token")
    assert check["unexpected"] >= expected


def test_finds_resolution_before_first_response(kaggle, raw) -> None:
    _, s = kaggle
    ts = raw.select(
        frt=pl.col("First Response Time").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
        ttr=pl.col("Time to Resolution").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
    )
    expected = ts.filter(pl.col("ttr") < pl.col("frt")).height
    assert 1300 <= expected <= 1400  # the data README: "about 1,365 rows"
    check = next(c for c in s["checks"] if c["check"] == "first_response_not_after_resolution")
    assert check["unexpected"] == expected


def test_finds_resolution_and_csat_only_on_closed_tickets(kaggle, raw) -> None:
    _, s = kaggle
    patterns = {p["field"]: p for p in s["status_patterns"]}
    not_closed = raw.filter(pl.col("Ticket Status") != "Closed").height
    for field in ("resolved_at", "csat", "agent_reply"):
        assert patterns[field]["present_for"] == ["closed"], field
        assert set(patterns[field]["absent_for"]) == {"open", "pending"}, field
        assert patterns[field]["tickets_without"] == not_closed, field


def test_labels_that_text_cannot_predict_are_not_called_wrong(kaggle) -> None:
    _, s = kaggle
    lc = s["label_classifier"]
    assert lc["labels_learnable"] is False
    assert s["label_issue_share"] == 0
    assert "team" in s["unmapped_fields"]
