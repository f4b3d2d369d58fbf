"""Slow libraries are left out of the definitions: the stages (and the command-line audit,
before its stages) import them."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

SLOW_PACKAGES = {"great_expectations", "presidio_analyzer", "presidio_anonymizer", "spacy"}


def _top_level_modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules}))\n"
    env = {**os.environ, "DAGSTER_HOME": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return set(eval(result.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own output


def test_loading_the_definitions_leaves_the_slow_libraries_for_later() -> None:
    loaded = _top_level_modules_after(
        "from pipelines.definitions import defs\n"
        "defs().resolve_asset_graph()\n"
        "from expectations import stage\nfrom ticket_audit.quality import summary\n"
    )
    assert "dagster" in loaded
    assert not loaded & SLOW_PACKAGES


def test_the_command_line_audit_imports_them_before_its_stages() -> None:
    """...before `long_lived_frozen`, as the definitions used to: their objects are frozen."""
    loaded = _top_level_modules_after(
        "from pipelines.runner import import_stage_libraries\nimport_stage_libraries()\n"
    )
    assert loaded >= SLOW_PACKAGES
