"""Fixtures shared by every test package: outside data, generated histories, configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from ticket_audit.config import AuditConfig, load_config
from ticket_audit.generator import GeneratedHistory, GeneratorSpec, generate_history

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("TICKET_AUDIT_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (read-only outside data; never copied into the repo)."""
    path = shared_data_dir()
    if not path.is_dir():
        message = f"outside data not found at {path}; set TICKET_AUDIT_SHARED_DATA"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def kaggle_csv(shared_data: Path) -> Path:
    return shared_data / "kaggle_support_tickets" / "customer_support_tickets.csv"


def with_store(cfg: AuditConfig, directory: Path) -> AuditConfig:
    """The same configuration writing its DuckDB file and outputs under `directory`."""
    cfg.audit.duckdb_path = str(directory / "audit.duckdb")
    cfg.audit.output_dir = str(directory / "out")
    return cfg


def write_config(directory: Path, data: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def small_history(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHistory:
    """2,000 generated tickets with the default defect rates (shared, read-only)."""
    return generate_history(GeneratorSpec(tickets=2000, seed=11), tmp_path_factory.mktemp("hist"))


@pytest.fixture
def history_config(small_history: GeneratedHistory, tmp_path: Path) -> AuditConfig:
    """Config of `small_history` with a fresh DuckDB file for this test."""
    return with_store(load_config(small_history.config_path), tmp_path)
