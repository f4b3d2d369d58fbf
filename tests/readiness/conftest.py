"""Fixtures of the readiness tests: a generated history loaded into a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.conftest import with_store
from ticket_audit.config import AuditConfig, load_config
from ticket_audit.generator import GeneratedHistory, GeneratorSpec, generate_history
from ticket_audit.store import open_store


def loaded_history(spec: GeneratorSpec, directory: Path) -> tuple[GeneratedHistory, AuditConfig]:
    history = generate_history(spec, directory / "data")
    cfg = with_store(load_config(history.config_path), directory)
    ingest_config(cfg, progress=lambda _msg: None)
    return history, cfg


@pytest.fixture(scope="package")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[GeneratedHistory, AuditConfig]:
    """1,500 generated tickets with the default defects, ingested (read-only for tests)."""
    return loaded_history(GeneratorSpec(tickets=1500, seed=5), tmp_path_factory.mktemp("loaded"))


@pytest.fixture
def store(loaded):
    with open_store(loaded[1].duckdb_path) as con:
        yield con


@pytest.fixture(scope="session")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory after `ticket-audit demo --tickets 600 --output out`: the store
    under .ticket_audit/demo/data/, the reports under out/."""
    from pipelines.cli import main

    workdir = tmp_path_factory.mktemp("demo_audit")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        mp.delenv("DAGSTER_HOME", raising=False)
        mp.delenv("TICKET_AUDIT_CONFIG", raising=False)
        mp.delenv("TICKET_AUDIT_OUTPUT", raising=False)
        assert main(["demo", "--tickets", "600", "--output", "out"]) in (0, 1)
    return workdir
