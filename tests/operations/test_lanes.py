"""The command-line audit's second lane: the quality stages in a helper process beside the
PII stages (pipelines/lanes.py). Same results as one process; failures on either side fail
the audit with the stage named; `auto` keeps first audits and small histories in one."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines import lanes
from pipelines.definitions import defs as lazy_defs
from pipelines.runner import AuditFailed, AuditRun, StepEvents, _run_beside
from tests.operations.conftest import (
    audit_config,
    cli_env,
    run_cli,
    stable_profile,
    stable_scorecard,
    table_counts,
)
from ticket_audit.config import load_config

QUALITY = {
    "duplicate_tickets",
    "quality_checks",
    "reply_variability",
    "label_consistency",
    "quality_summary",
}


def _graph():
    defs = lazy_defs() if callable(lazy_defs) else lazy_defs
    return defs.resolve_asset_graph()


def _names(groups) -> set[str]:
    return {k.to_user_string() for g in groups for k in g}


def test_split_puts_the_quality_chain_in_the_lane_and_readiness_after_both() -> None:
    graph = _graph()
    second_run = [
        [key]
        for key in graph.toposorted_asset_keys
        if graph.get(key).is_materializable
        and key.to_user_string() not in ("raw_tickets", "canonical_tickets")
    ]
    parts = lanes.split(graph, second_run)
    assert _names(parts.lane) == QUALITY
    assert _names(parts.after) == {"readiness_scorecard"}
    assert {"pii_findings", "redacted_tickets", "pii_exposure_report"} <= _names(parts.here)
    assert not _names(parts.here) & (QUALITY | {"readiness_scorecard"})
    assert parts.useful
    # Nothing that runs here needs what the lane makes.
    lane_keys = {k for g in parts.lane for k in g}
    for group in parts.here:
        for key in group:
            assert not set(graph.get(key).parent_keys) & lane_keys, key


def test_split_without_quality_stages_has_no_lane() -> None:
    graph = _graph()
    only_pii = [[dg.AssetKey("pii_findings")], [dg.AssetKey("redacted_tickets")]]
    parts = lanes.split(graph, only_pii)
    assert not parts.useful
    assert parts.here == only_pii and parts.lane == [] and parts.after == []


def _runs(home: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return list(reversed(instance.get_runs()))


def _run_steps(home: Path, run_id: str) -> set[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {
            e.dagster_event.step_key
            for e in instance.all_logs(run_id)
            if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_SUCCESS"
        }


def test_audit_with_the_lane_equals_the_one_process_audit(
    ops_history, reference: Path, tmp_path: Path
) -> None:
    config = audit_config(ops_history, tmp_path, concurrent_stages="on")
    home = tmp_path / "home"
    result = run_cli(["run", "--config", str(config)], cli_env(home))
    assert result.returncode in (0, 1), result.stderr
    assert "16 assets materialized" in result.stdout

    runs = _runs(home)
    assert len(runs) == 4  # the sources; here and the lane side by side; readiness
    assert all(r.is_success for r in runs)
    steps = [_run_steps(home, r.run_id) for r in runs]
    assert QUALITY in steps
    assert {"readiness_scorecard"} == steps[-1]
    # The lane's run was executed by another process: its steps report another pid.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        pids = {
            e.dagster_event.pid
            for r in runs[1:3]
            for e in instance.all_logs(r.run_id)
            if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
        }
    assert len(pids) == 2

    db, ref_db = tmp_path / "db" / "audit.duckdb", reference / "db" / "audit.duckdb"
    assert table_counts(db) == table_counts(ref_db)
    assert stable_scorecard(tmp_path / "out") == stable_scorecard(reference / "out")
    assert stable_profile(tmp_path / "out") == stable_profile(reference / "out")


def test_a_failing_stage_in_the_lane_fails_the_audit_naming_it(ops_history, tmp_path: Path) -> None:
    config = audit_config(ops_history, tmp_path, concurrent_stages="on")
    # Great Expectations keeps its results in a directory beside the database; a file there
    # makes the quality checks fail, in the lane's process.
    blocker = tmp_path / "db" / "audit.duckdb.gx"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a directory")
    home = tmp_path / "home"
    result = run_cli(["run", "--config", str(config)], cli_env(home))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "quality_checks" in result.stderr
    # The other side ran to its end; readiness, which needs both, never started.
    steps = set().union(*(_run_steps(home, r.run_id) for r in _runs(home)))
    assert "pii_exposure_report" in steps
    assert "readiness_scorecard" not in steps


def test_a_helper_that_dies_fails_the_audit_after_this_side_finishes(tmp_path: Path) -> None:
    cli_env(tmp_path / "home")  # a persistent instance with the repository's settings
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        lane = lanes.Lane(instance, verbose=False)
        lane.proc.kill()
        lane.proc.wait()
        ran: list = []
        parts = lanes.Split(
            here=[[dg.AssetKey("pii_findings")]],
            lane=[[dg.AssetKey("quality_checks")]],
            after=[],
        )
        run = AuditRun(tmp_path)

        quiet = StepEvents(lambda step: None, lambda step, seconds: None)
        with pytest.raises(AuditFailed, match="exit code -9") as failed:
            _run_beside(
                lane,
                parts,
                lambda sel, tags: ran.append(sel),
                {},
                run,
                quiet,
                tmp_path / "audit.duckdb",
            )
        assert not failed.value.input_error
        assert ran == [[[dg.AssetKey("pii_findings")]]]
        assert "quality_checks" not in run.assets
        lane.stop()


def test_auto_keeps_first_audits_and_small_histories_in_one_process(
    ops_history, reference: Path, tmp_path: Path
) -> None:
    ref_cfg = load_config(reference / "audit.yaml")
    settings = f"{ref_cfg.results_json()}|{Path(ref_cfg.output_dir).resolve()}"
    with dg.DagsterInstance.from_config(str(reference / "home")) as instance:
        # An audited store under the same settings, but 600 tickets: not worth a helper.
        assert not lanes.wanted(ref_cfg, settings, instance)
        # Other settings: a first audit as far as the months know.
        assert not lanes.wanted(ref_cfg, settings + "x", instance)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(lanes, "AUTO_MIN_TICKETS", 100)
            assert lanes.wanted(ref_cfg, settings, instance)
            assert not lanes.wanted(ref_cfg, settings + "x", instance)
        on = ref_cfg.model_copy(
            update={"audit": ref_cfg.audit.model_copy(update={"concurrent_stages": "on"})}
        )
        off = ref_cfg.model_copy(
            update={"audit": ref_cfg.audit.model_copy(update={"concurrent_stages": "off"})}
        )
        assert lanes.wanted(on, settings, instance)
        assert not lanes.wanted(off, settings, instance)
    # Not a store yet: a first audit.
    fresh = load_config(audit_config(ops_history, tmp_path))
    with dg.DagsterInstance.from_config(str(reference / "home")) as instance:
        assert not lanes.wanted(fresh, settings, instance)
    # An in-memory instance cannot be shared with a helper.
    with dg.DagsterInstance.ephemeral() as instance:
        assert not lanes.wanted(on, settings, instance)


def test_auto_runs_side_by_side_only_when_few_tickets_changed(reference: Path) -> None:
    from pipelines.defs.partitions import monthly_partitions

    cfg = load_config(reference / "audit.yaml")
    keys = monthly_partitions.get_partition_keys()
    assert not lanes.worth_it(cfg, None, monthly_partitions)
    # Every month: the whole history changed.
    assert not lanes.worth_it(cfg, (keys[0], keys[-1]), monthly_partitions)
    # One month of twelve (and not an edge partition): under a quarter of the tickets.
    from ticket_audit.store import open_store

    with open_store(cfg.duckdb_path) as con:
        month = con.execute(
            "SELECT created_month FROM canonical.tickets GROUP BY 1 ORDER BY count(*) LIMIT 1 "
            "OFFSET 5"
        ).fetchall()[0][0]
    key = month.isoformat()
    assert key in keys[1:-1]
    assert lanes.worth_it(cfg, (key, key), monthly_partitions)
