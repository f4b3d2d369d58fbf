"""A re-audit redoes the per-month stages only for the months whose tickets changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import yaml

from tests.operations.conftest import audit_config, cli_env, run_cli, stable_scorecard


def _partitions(home: Path, asset: str) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records
        return sorted(r.partition_key for r in records)


def test_only_changed_months_are_audited_again(ops_history, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(ops_history.tickets_path, exports / "tickets_0001.csv")
    config = audit_config(ops_history, tmp_path)
    data = yaml.safe_load(config.read_text())
    data["sources"][0]["path"] = str(exports / "tickets_*.csv")
    config.write_text(yaml.safe_dump(data))
    home = tmp_path / "home"
    env = cli_env(home)

    first = run_cli(["run", "--config", str(config)], env)
    assert first.returncode in (0, 1), first.stderr
    months = _partitions(home, "pii_findings")
    assert len(months) >= 12  # a first audit does every month
    card = stable_scorecard(tmp_path / "out")

    # Nothing changed but settings that tune speed and memory: no month is redone, and the
    # audit says the same.
    data["audit"]["memory_limit"] = "768MB"
    data.setdefault("ingest", {})["batch_rows"] = 122_880
    data.setdefault("pii", {})["batch_size"] = 64
    config.write_text(yaml.safe_dump(data))
    again = run_cli(["run", "--config", str(config)], env)
    assert again.returncode == first.returncode, again.stderr
    assert _partitions(home, "pii_findings") == months
    assert stable_scorecard(tmp_path / "out") == card

    # A new export with five tickets of one month: that month alone is redone.
    tickets = pl.read_csv(ops_history.tickets_path, infer_schema=False)
    dated = tickets.filter(pl.col("created_at").str.contains(r"^\d{4}-\d{2}-\d{2} "))
    month = dated["created_at"][len(dated) // 2][:7]
    new = dated.filter(pl.col("created_at").str.starts_with(month)).head(5)
    new = new.with_columns(pl.col("ticket_id").str.replace("^NB-", "NBX-"))
    new.write_csv(exports / "tickets_0002.csv")
    third = run_cli(["run", "--config", str(config)], env)
    assert third.returncode in (0, 1), third.stderr
    redone = _partitions(home, "pii_findings")
    assert len(redone) == len(months) + 1
    assert [m for m in set(redone) if redone.count(m) == 2] == [f"{month}-01"]
    profile = json.loads((tmp_path / "out" / "profile.json").read_text())
    assert profile["rows_read"] == len(tickets) + 5
