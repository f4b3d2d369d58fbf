"""The export-file sensor and the weekly schedule: off by default, and what they request."""

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.audit_job import RANGE_END_TAG, RANGE_START_TAG
from pipelines.defs.jobs import DUCKDB_TAG
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.schedules import weekly_audit_schedule
from pipelines.defs.sensors import SETTLE_ENV, WATCH_ENV, export_file_sensor


def _old_file(path: Path, text: str = "id,created\n1,2024-01-01\n") -> Path:
    path.write_text(text)
    past = time.time() - 600
    os.utime(path, (past, past))
    return path


def _evaluate(cursor=None):
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor)
        return export_file_sensor(ctx)


@pytest.fixture
def watch(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    monkeypatch.setenv(WATCH_ENV, str(folder))
    monkeypatch.setenv(SETTLE_ENV, "30")
    return folder


def test_sensor_requests_one_audit_per_new_export_file(watch: Path) -> None:
    assert isinstance(_evaluate(), dg.SkipReason)
    _old_file(watch / "tickets-2024-01.csv")
    (watch / "notes.txt").write_text("not an export")
    result = _evaluate()
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    keys = monthly_partitions.get_partition_keys()
    assert request.tags[RANGE_START_TAG] == keys[0] and request.tags[RANGE_END_TAG] == keys[-1]
    assert (
        request.tags["ticket_audit/trigger"] == "export_file_sensor" and DUCKDB_TAG in request.tags
    )
    seen = json.loads(result.cursor)
    assert list(seen) == [str((watch / "tickets-2024-01.csv").resolve())]
    # Same files: nothing to do.
    assert isinstance(_evaluate(result.cursor), dg.SkipReason)
    # A second export lands: one more audit, with another run key.
    _old_file(watch / "tickets-2024-02.csv")
    again = _evaluate(result.cursor)
    assert isinstance(again, dg.SensorResult)
    assert again.run_requests[0].run_key != request.run_key
    assert len(json.loads(again.cursor)) == 2


def test_sensor_waits_for_a_file_still_being_written(watch: Path) -> None:
    (watch / "tickets.csv").write_text("id\n")  # modified just now
    result = _evaluate()
    assert isinstance(result, dg.SkipReason) and "still being written" in result.skip_message


def test_sensor_notices_a_re_exported_file(watch: Path) -> None:
    path = _old_file(watch / "tickets.jsonl", '{"id": 1}\n')
    first = _evaluate()
    _old_file(path, '{"id": 1}\n{"id": 2}\n')
    second = _evaluate(first.cursor)
    assert isinstance(second, dg.SensorResult) and len(second.run_requests) == 1


def test_schedule_requests_a_full_audit_once_a_week() -> None:
    when = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    ctx = dg.build_schedule_context(scheduled_execution_time=when)
    request = weekly_audit_schedule.evaluate_tick(ctx).run_requests[0]
    assert request.run_key == "weekly-audit-2026-W48"
    assert request.tags["ticket_audit/trigger"] == "schedule"
    assert RANGE_START_TAG in request.tags and RANGE_END_TAG in request.tags
    assert weekly_audit_schedule.cron_schedule == "0 6 * * 1"


def test_both_are_in_the_code_location_and_off_by_default() -> None:
    from pipelines.definitions import defs as lazy

    defs = lazy() if callable(lazy) else lazy
    sensor = defs.resolve_sensor_def("export_file_sensor")
    schedule = defs.resolve_schedule_def("weekly_audit_schedule")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert sensor.job_name == schedule.job_name == "audit_job"
    assert defs.resolve_job_def("audit_job") is not None


def test_the_run_the_sensor_requests_loads_the_new_export(tmp_path: Path, monkeypatch) -> None:
    import yaml

    from ticket_audit.config import load_config
    from ticket_audit.generator import GeneratorSpec, generate_history
    from ticket_audit.store import open_store

    hist = generate_history(GeneratorSpec(tickets=300, seed=3), tmp_path / "exports")
    cfg = yaml.safe_load(hist.config_path.read_text())
    cfg["audit"].update(duckdb_path=str(tmp_path / "a.duckdb"), output_dir=str(tmp_path / "out"))
    hist.config_path.write_text(yaml.safe_dump(cfg))
    for path in (hist.tickets_path, hist.messages_path):
        past = time.time() - 600
        os.utime(path, (past, past))
    monkeypatch.delenv(WATCH_ENV, raising=False)  # watch the configured file source
    monkeypatch.setenv("TICKET_AUDIT_CONFIG", str(hist.config_path))
    result = _evaluate()
    assert isinstance(result, dg.SensorResult)
    assert len(json.loads(result.cursor)) == 2  # tickets and messages exports
    (request,) = result.run_requests

    from pipelines.definitions import defs as lazy

    defs = lazy() if callable(lazy) else lazy
    job = defs.resolve_job_def("audit_job")
    run = job.execute_in_process(
        tags=request.tags,
        asset_selection=[dg.AssetKey("raw_tickets"), dg.AssetKey("canonical_tickets")],
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert run.success
    with open_store(load_config(hist.config_path).duckdb_path) as con:
        loaded = con.execute("SELECT count(*) FROM canonical.tickets").fetchone()[0]
    assert loaded == hist.manifest()["tickets_written"] - hist.manifest()["expected_quarantined"]
