"""Fixtures of the PII tests: one analyzer per session, small generated histories."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.conftest import with_store
from ticket_audit.config import AuditConfig, load_config
from ticket_audit.config.pii import PiiSection
from ticket_audit.generator import GeneratedHistory, GeneratorSpec, generate_history
from ticket_audit.generator.vocabulary import COMPANY_ALLOW_LIST
from ticket_audit.pii.hashing import KeyedHasher
from ticket_audit.pii.runtime import get_scanner
from ticket_audit.pii.scan import Scanner
from ticket_audit.store import open_store

TEST_KEY = "pii-tests-key"


@pytest.fixture(scope="session")
def pii_config() -> PiiSection:
    return PiiSection(allow_list=COMPANY_ALLOW_LIST, n_process=1)


@pytest.fixture(scope="session")
def scanner(pii_config: PiiSection) -> Scanner:
    """Loads the spaCy model once for the whole session (shared with the pipeline steps)."""
    return get_scanner(pii_config)


@pytest.fixture(scope="session")
def hasher() -> KeyedHasher:
    return KeyedHasher(TEST_KEY)


def load_history(spec: GeneratorSpec, directory: Path) -> tuple[GeneratedHistory, AuditConfig]:
    history = generate_history(spec, directory / "data")
    cfg = with_store(load_config(history.config_path), directory)
    cfg.pii.n_process = 1
    ingest_config(cfg, progress=lambda _msg: None)
    return history, cfg


@pytest.fixture
def pii_history(tmp_path: Path) -> tuple[GeneratedHistory, AuditConfig]:
    """400 generated tickets loaded into a fresh DuckDB file (each test may change it)."""
    return load_history(GeneratorSpec(tickets=400, seed=23, months=4), tmp_path)


def store_for(cfg: AuditConfig):
    return lambda: open_store(cfg.duckdb_path)
