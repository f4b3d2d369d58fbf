"""Dagster instance settings: the embedded default and the PostgreSQL deployment config."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from tests.operations.conftest import REPO

DUCKDB_LIMIT = {
    "key": "ticket_audit/duckdb",
    "value": {"applyLimitPerUniqueValue": True},
    "limit": 1,
}
LOCATION_LIMIT = {
    "key": "dagster/code_location",
    "value": {"applyLimitPerUniqueValue": True},
    "limit": 1,
}
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@dg.asset
def probe_asset() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"ok": True})


def _instance(home: Path, config: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(config, home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def _assert_run_queue(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits
    assert DUCKDB_LIMIT in limits
    assert LOCATION_LIMIT in limits


def test_repository_instance_is_embedded_sqlite_with_the_run_queue(tmp_path: Path) -> None:
    with _instance(tmp_path / "home", REPO / "dagster.yaml") as instance:
        # By name: Dagster exports no storage classes publicly.
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert not instance.telemetry_enabled
        _assert_run_queue(instance)
        result = dg.materialize([probe_asset], instance=instance)
        assert result.success
    assert list((tmp_path / "home" / "storage").iterdir())  # run data stays under DAGSTER_HOME


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch):
    """A throw-away database on the machine's PostgreSQL, exposed through the documented vars."""
    name = f"ticket_audit_ops_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **PG)
    except psycopg.OperationalError as exc:  # pragma: no cover - service missing
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("DAGSTER_PG_HOST", PG["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", str(PG["port"]))
    monkeypatch.setenv("DAGSTER_PG_USER", PG["user"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")  # trust auth on this machine
    monkeypatch.setenv("DAGSTER_PG_DB", name)
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.services
def test_postgres_config_stores_runs_events_and_queue_in_postgres(
    pg_database: str, tmp_path: Path
) -> None:
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    with _instance(tmp_path / "home", REPO / "deploy" / "dagster.postgres.yaml") as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert not instance.telemetry_enabled
        _assert_run_queue(instance)
        result = dg.materialize([probe_asset], instance=instance, tags={"probe": "pg"})
        assert result.success
        run_id = result.run_id
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS

    # Read back with plain SQL: the run and its events really are in this database.
    with psycopg.connect(dbname=pg_database, **PG) as con:
        status = con.execute("SELECT status FROM runs WHERE run_id = %s", [run_id]).fetchone()
        events = con.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s", [run_id]
        ).fetchone()[0]
        tag = con.execute(
            "SELECT value FROM run_tags WHERE run_id = %s AND key = 'probe'", [run_id]
        ).fetchone()
    assert status == ("SUCCESS",)
    assert events > 5
    assert tag == ("pg",)


@pytest.mark.services
def test_postgres_config_names_a_missing_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD"):
        monkeypatch.setenv(var, "x" if var != "DAGSTER_PG_PORT" else "5432")
    monkeypatch.delenv("DAGSTER_PG_DB", raising=False)
    with pytest.raises(Exception, match="DAGSTER_PG_DB"):
        _instance(tmp_path / "home", REPO / "deploy" / "dagster.postgres.yaml")
