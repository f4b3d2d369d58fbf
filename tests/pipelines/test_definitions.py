"""The code location loads, validates, and its ingest assets run against a real DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.ingest import ROWS_ACCOUNTED_FOR, UNIQUE_TICKET_IDS, ingest, ticket_profile
from pipelines.defs.partitions import monthly_partitions, window_predicate
from pipelines.defs.resources import AuditResource
from tests.conftest import REPO, with_store


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.definitions import defs as lazy

    return lazy() if callable(lazy) else lazy


def test_definitions_hold_the_ingest_assets(defs: dg.Definitions) -> None:
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_tickets", "canonical_tickets", "ticket_profile"} <= keys
    dg.Definitions.validate_loadable(defs)
    assert "audit" in defs.resources


@pytest.mark.parametrize("job", ["monthly_stages_job", "monthly_stages_celery_job"])
def test_monthly_jobs_select_every_partitioned_stage(defs: dg.Definitions, job: str) -> None:
    # Counted from the asset specs, independently of the job's selection string.
    partitioned = {
        spec.key for spec in defs.resolve_all_asset_specs() if spec.partitions_def is not None
    }
    assert {"pii_findings", "redacted_tickets", "quality_checks"} <= {
        k.to_user_string() for k in partitioned
    }
    job_def = defs.resolve_job_def(job)
    assert set(job_def.asset_layer.selected_asset_keys) == partitioned


def test_dagster_definitions_validate_cli(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(REPO)}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "pipelines.definitions",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ingest_assets_materialize_with_checks(small_history, tmp_path: Path) -> None:
    import yaml

    cfg = yaml.safe_load(small_history.config_path.read_text())
    cfg["audit"].update(duckdb_path=str(tmp_path / "a.duckdb"), output_dir=str(tmp_path / "out"))
    cfg["sources"][0]["path"] = str(small_history.tickets_path)
    cfg["sources"][0]["mapping"]["messages"]["file"]["path"] = str(small_history.messages_path)
    config_path = tmp_path / "audit.yaml"
    config_path.write_text(yaml.safe_dump(cfg))
    result = dg.materialize(
        [ingest, ticket_profile],
        resources={"audit": AuditResource(config_path=str(config_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {ROWS_ACCOUNTED_FOR: True, UNIQUE_TICKET_IDS: True}
    meta = result.asset_materializations_for_node("ingest")
    canonical = next(m for m in meta if m.asset_key.to_user_string() == "canonical_tickets")
    manifest = small_history.manifest()
    assert canonical.metadata["tickets_in_store"].value == (
        manifest["tickets_written"] - manifest["expected_quarantined"]
    )
    assert (tmp_path / "out" / "profile.json").exists()


def test_month_window_covers_edges() -> None:
    keys = monthly_partitions.get_partition_keys()
    first, middle, last = (
        window_predicate(monthly_partitions.time_window_for_partition_key(k))
        for k in (keys[0], keys[5], keys[-1])
    )
    assert first[0] == "created_month < ?"  # tickets before the first month go to it
    assert middle == (
        "created_month >= ? AND created_month < ?",
        [
            monthly_partitions.time_window_for_partition_key(keys[5]).start.date(),
            monthly_partitions.time_window_for_partition_key(keys[6]).start.date(),
        ],
    )
    assert last[0] == "created_month >= ?"  # future-dated tickets go to the last month


def test_profile_counts_match_the_generated_truth(small_history, tmp_path: Path) -> None:
    import json

    from connectors.ingest import ingest_config
    from reports.profile import compute_profile, write_profile
    from ticket_audit.config import load_config
    from ticket_audit.store import open_store

    cfg = with_store(load_config(small_history.config_path), tmp_path)
    ingest_config(cfg, progress=lambda _m: None)
    with open_store(cfg.duckdb_path) as con:
        profile = compute_profile(con)
    write_profile(profile, tmp_path)
    manifest, truth = small_history.manifest(), small_history.truth()
    loaded = truth.filter(truth["invalid_timestamp"] == 0)
    assert profile["rows_read"] == manifest["tickets_written"]
    assert profile["rows_quarantined"] == manifest["expected_quarantined"]
    expected_fill = 1 - loaded["missing_category"].sum() / loaded.height
    assert abs(profile["field_fill_rates"]["category"] - expected_fill) < 1e-9
    assert profile["months_covered"] >= 12
    assert json.loads((tmp_path / "profile.json").read_text())["tickets_total"] == loaded.height


def test_asset_owners_come_from_the_owners_file(small_history, tmp_path: Path, monkeypatch) -> None:
    import shutil

    from pipelines.definitions import defs as lazy
    from ticket_audit.ownership.sample import use_sample_owners

    for name in ("audit.yaml", "tickets.csv", "messages.csv"):
        shutil.copy(small_history.directory / name, tmp_path / name)
    assert use_sample_owners(tmp_path / "audit.yaml")
    monkeypatch.setenv("TICKET_AUDIT_CONFIG", str(tmp_path / "audit.yaml"))
    loaded = lazy() if callable(lazy) else lazy
    specs = {s.key.to_user_string(): s for s in loaded.resolve_all_asset_specs()}
    assert "team:data-platform" in specs["canonical_tickets"].owners  # schema owner
    assert "team:privacy-office" in specs["pii_findings"].owners
    # The retrieval area has no owner: its assets go to the escalation contact, as the
    # scorecard's issues do (readiness.escalate_to).
    assert specs["retrieval_probe"].owners == ["team:TPM"]
