"""Generated histories with planted defects, ingested and run through the quality layer.

Each rate setting is generated, loaded and audited once per session; tests only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.conftest import with_store
from tests.quality.layer import LayerRun, run_quality_layer
from ticket_audit.config import AuditConfig, load_config
from ticket_audit.generator import GeneratedHistory, GeneratorSpec, generate_history

BASE = GeneratorSpec().rates
RATE_SETTINGS: dict[str, dict[str, float]] = {
    # The generator's defaults.
    "default": dict(BASE),
    # The brief's example: 40% of tickets without a category, plus heavy label noise.
    "missing40": {
        **BASE,
        "missing_category": 0.40,
        "wrong_category": 0.08,
        "catch_all_category": 0.10,
        "exact_duplicate": 0.06,
        "near_duplicate_conflict": 0.04,
    },
    # Messy metadata and text, few label problems.
    "messy_metadata": {
        **BASE,
        "missing_category": 0.03,
        "wrong_category": 0.02,
        "missing_priority": 0.15,
        "invalid_priority": 0.05,
        "missing_channel": 0.10,
        "missing_team": 0.25,
        "missing_product": 0.12,
        "resolved_before_created": 0.06,
        "first_response_after_resolution": 0.05,
        "future_created_at": 0.02,
        "invalid_timestamp": 0.04,
        "template_leftover": 0.10,
        "html_debris": 0.08,
        "empty_description": 0.04,
    },
}
SEEDS = {"default": 21, "missing40": 22, "messy_metadata": 23}


@dataclass(frozen=True)
class Audited:
    name: str
    history: GeneratedHistory
    cfg: AuditConfig
    run: LayerRun

    @property
    def summary(self) -> dict:
        return self.run.summary

    @property
    def output(self) -> Path:
        return Path(self.cfg.output_dir)


def audit_history(name: str, spec: GeneratorSpec, directory: Path) -> Audited:
    history = generate_history(spec, directory / "data")
    cfg = with_store(load_config(history.config_path), directory)
    ingest_config(cfg, progress=lambda _msg: None)
    run = run_quality_layer(cfg, output_dir=Path(cfg.output_dir), progress=lambda _msg: None)
    return Audited(name, history, cfg, run)


_AUDITED: dict[str, Audited] = {}


def _audited(name: str, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    if name not in _AUDITED:
        spec = GeneratorSpec(tickets=2500, months=6, seed=SEEDS[name], rates=RATE_SETTINGS[name])
        _AUDITED[name] = audit_history(name, spec, tmp_path_factory.mktemp(f"quality_{name}"))
    return _AUDITED[name]


@pytest.fixture(scope="session", params=list(RATE_SETTINGS))
def audited(request, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return _audited(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def default_audit(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    """The default setting on its own (for tests that need one history, not all). Tests
    that rewrite its tables must leave them as they found them."""
    return _audited("default", tmp_path_factory)


@pytest.fixture(scope="session")
def missing40_audit(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return _audited("missing40", tmp_path_factory)
