"""Helpers for the operations tests: isolated configs, the CLI as a subprocess, tmpfs mounts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from ticket_audit.generator import GeneratedHistory, GeneratorSpec, generate_history
from ticket_audit.secrets import DEMO_KEY

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Numbers that must not depend on how the audit got to its end (kill, resume, executor);
# timings (retrieval latencies), ids and timestamps are left out on purpose.
STABLE_SCORECARD_KEYS = ("tickets_total", "quality", "pii", "baselines")


@pytest.fixture(scope="session")
def ops_history(tmp_path_factory: pytest.TempPathFactory) -> GeneratedHistory:
    """600 generated tickets with conversations over 12 months (shared, read-only)."""
    return generate_history(GeneratorSpec(tickets=600, seed=5), tmp_path_factory.mktemp("ops"))


@pytest.fixture(scope="session")
def reference(ops_history, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted CLI audit of `ops_history`: what every other route must equal."""
    base = tmp_path_factory.mktemp("reference")
    config = audit_config(ops_history, base)
    result = run_cli(["run", "--config", str(config)], cli_env(base / "home"))
    assert result.returncode in (0, 1), result.stderr
    return base


def audit_config(history: GeneratedHistory, directory: Path, **audit: str) -> Path:
    """A config for `history` whose DuckDB file and outputs live in `directory`."""
    data = yaml.safe_load(history.config_path.read_text())
    data["audit"].update(
        duckdb_path=str(directory / "db" / "audit.duckdb"),
        output_dir=str(directory / "out"),
        **audit,
    )
    source = data["sources"][0]
    source["path"] = str(history.tickets_path)
    source["mapping"]["messages"]["file"]["path"] = str(history.messages_path)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "audit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cli_env(dagster_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKET_AUDIT_")}
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    env.update(DAGSTER_HOME=str(dagster_home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    # Tests audit generated data with the public demo key; `run` refuses to without a key.
    env.update(TICKET_AUDIT_HASH_KEY=DEMO_KEY)
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "ticket-audit"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _normalized(value):
    """Order of ties and the last bit of float sums are not part of the result.

    The quality layer breaks ties between equal counts (rare categories in the same count,
    the most common sign-off of a category) and sums floats in an order that can vary
    between processes; see the operations report. Everything else must match exactly.
    """
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        # `top_*`: the most common greeting, sign-off or format of a category; a tie
        # between two has no defined winner yet.
        return {k: _normalized(v) for k, v in value.items() if not k.startswith("top_")}
    if isinstance(value, list):
        items = [_normalized(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def stable_scorecard(output_dir: Path) -> dict:
    card = json.loads((output_dir / "scorecard.json").read_text())
    stable = {k: card[k] for k in STABLE_SCORECARD_KEYS if k in card}
    stable["verdict"] = card["readiness"]["verdict"]
    stable["ownership_score"] = card["ownership"]["score"]
    return _normalized(stable)


def report_files(output_dir: Path) -> list[str]:
    """Files of an output directory; Great Expectations names Data Docs pages by run time."""
    return sorted(
        re.sub(r"\d{8}T\d{6}\.\d+Z", "<run time>", str(p.relative_to(output_dir)))
        for p in output_dir.rglob("*")
        if p.is_file()
    )


def stable_profile(output_dir: Path) -> dict:
    profile = json.loads((output_dir / "profile.json").read_text())
    return {k: v for k, v in profile.items() if not k.endswith("_at")}


def _read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    # A fixed catalog name: a file called audit.duckdb would otherwise shadow the `audit` schema.
    con = duckdb.connect()
    con.execute(f"ATTACH '{db_path}' AS ta (READ_ONLY)")
    con.execute("USE ta")
    return con


def table_counts(db_path: Path) -> dict[str, int]:
    """Rows per table in the raw, canonical and audit schemas."""
    con = _read_only(db_path)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE database_name = 'ta' AND schema_name IN ('raw', 'canonical', 'audit')"
        ).fetchall()
        # The command line's record of which months it audited; other routes keep none.
        return {
            f"{s}.{t}": con.execute(f'SELECT count(*) FROM ta."{s}"."{t}"').fetchone()[0]
            for s, t in tables
            if f"{s}.{t}" != "audit.month_fingerprints"
        }
    finally:
        con.close()


def duplicate_rows(db_path: Path, table: str, key: str) -> int:
    con = _read_only(db_path)
    try:
        return con.execute(
            f"SELECT count(*) FROM (SELECT {key} FROM ta.{table} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator:
    """Mount small tmpfs file systems (root in this sandbox); skip where mounting is denied."""
    mounted: list[Path] = []

    def mount(name: str, size: str, *options: str) -> Path:
        target = tmp_path / name
        target.mkdir()
        opts = ",".join([f"size={size}", *options])
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)
