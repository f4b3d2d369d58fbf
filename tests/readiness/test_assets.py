"""The readiness assets in Dagster against a real DuckDB file: summaries, reports, history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import yaml

from pipelines.defs.readiness import (
    business_baselines,
    ownership_scorecard_asset,
    readiness_scorecard,
    retrieval_probe,
)
from pipelines.defs.resources import AuditResource
from tests.conftest import REPO
from tests.readiness.conftest import loaded_history
from ticket_audit.generator import GeneratorSpec
from ticket_audit.store import open_store
from ticket_audit.summaries import load_summaries

ASSETS = [ownership_scorecard_asset, business_baselines, retrieval_probe, readiness_scorecard]


def _materialize(config: Path, out: Path) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ASSETS,
        resources={"audit": AuditResource(config_path=str(config), output_dir=str(out))},
        selection=[a.key for a in ASSETS],
    )
    assert result.success
    return result


def test_assets_write_summaries_reports_and_history(tmp_path: Path) -> None:
    history, cfg = loaded_history(GeneratorSpec(tickets=800, seed=3), tmp_path)
    shutil.copy(REPO / "configs" / "owners.yaml", tmp_path / "owners.yaml")
    data = yaml.safe_load(history.config_path.read_text())
    data["audit"]["duckdb_path"] = str(cfg.duckdb_path)
    data["ownership"] = {"owners_file": str(tmp_path / "owners.yaml")}
    config = tmp_path / "audit.yaml"
    config.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"

    first = _materialize(config, out)
    card = json.loads((out / "scorecard.json").read_text())
    assert (out / "scorecard.html").stat().st_size > 5000 and (out / "scorecard.md").exists()
    assert card["ownership"]["missing_owners"] == ["retrieval"]
    assert card["retrieval"]["source_table"] == "canonical.tickets (in memory)"
    assert not (cfg.duckdb_path.parent / "retrieval_index").exists()  # nothing unredacted on disk
    mat = first.asset_materializations_for_node("readiness_scorecard")[0]
    assert mat.metadata["verdict"].value == card["readiness"]["verdict"]
    # quality and PII did not run here: the verdict must say so rather than look good.
    assert card["readiness"]["verdict"] == "not_ready"
    assert {i["check"] for i in card["readiness"]["blocking_issues"]} >= {"layer_missing"}

    # The PII layer's redacted tables appear: the probe indexes them, on disk.
    with open_store(cfg.duckdb_path) as con:
        con.execute("CREATE TABLE audit.redacted_tickets AS SELECT * FROM canonical.tickets")
        con.execute("CREATE TABLE audit.redacted_messages AS SELECT * FROM canonical.messages")
    _materialize(config, out)
    card = json.loads((out / "scorecard.json").read_text())
    assert card["retrieval"]["source_table"] == "audit.redacted_tickets"
    assert (cfg.duckdb_path.parent / "retrieval_index").is_dir()
    assert card["trends"]["previous_audit_id"] is not None
    assert len(card["trends"]["audits"]) == 2
    assert card["category_drift"]["tvd"] == 0  # same history, same mix
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM audit.audit_history").fetchall()[0][0] == 2
        assert set(load_summaries(con)) >= {"ownership", "baselines", "retrieval"}
    assert "kept" not in card["retrieval"]  # the table changed: measured again
    measured_at = card["retrieval"]["measured_at"]

    # Nothing changed since: the probe keeps its measurement and says so.
    _materialize(config, out)
    card = json.loads((out / "scorecard.json").read_text())
    assert card["retrieval"]["measured_at"] == measured_at
    assert card["retrieval"]["kept"]["corpus_tickets_now"] == card["retrieval"]["corpus_tickets"]
