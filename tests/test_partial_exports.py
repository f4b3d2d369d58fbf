"""Exports that hold only part of a ticket history are audited for what they hold: a
conversation without subject or description, labels without any text. The layers that
cannot run say why (n/a) in the scorecard; the audit exits 0, never 3."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.conftest import write_config

pytestmark = pytest.mark.slow

TICKETS = [
    ["id", "created", "category"],
    ["T1", "2024-01-01 10:00:00", "Billing"],
    ["T2", "2024-01-02 10:00:00", "Shipping"],
    ["T3", "2024-01-03 10:00:00", ""],
]
MESSAGES = [
    ["ticket", "seq", "role", "text"],
    ["T1", "0", "customer", "My invoice shows the wrong amount"],
    ["T1", "1", "agent", "Hello,\nsorry, we fixed the invoice.\nRegards"],
    ["T2", "0", "customer", "Where is my parcel"],
]


def _run(tmp_path: Path, messages: bool) -> tuple[int, dict, str]:
    for name, rows in (("t.csv", TICKETS), ("m.csv", MESSAGES)):
        with (tmp_path / name).open("w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    mapping: dict = {"fields": {"ticket_id": "id", "created_at": "created", "category": "category"}}
    if messages:
        mapping["messages"] = {
            "file": {
                "path": "m.csv",
                "fields": {
                    "ticket_id": "ticket",
                    "seq": "seq",
                    "author_role": "role",
                    "body": "text",
                },
            }
        }
    config = write_config(
        tmp_path,
        {
            "audit": {"duckdb_path": str(tmp_path / "db" / "p.duckdb"), "output_dir": "out"},
            "sources": [{"name": "s", "kind": "file", "path": "t.csv", "mapping": mapping}],
        },
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        mp.setenv("TICKET_AUDIT_HASH_KEY", "demo-key-for-tests")
        mp.delenv("DAGSTER_HOME", raising=False)
        # An earlier `run` in this process may have left its config and output in the
        # environment (the code location reads them from there).
        mp.delenv("TICKET_AUDIT_CONFIG", raising=False)
        mp.delenv("TICKET_AUDIT_OUTPUT", raising=False)
        code = main(["run", "--config", str(config)])
    out = tmp_path / "out"
    return (
        code,
        json.loads((out / "scorecard.json").read_text()),
        (out / "scorecard.md").read_text(),
    )


def test_conversation_only_export_is_queried_with_the_customers_first_message(tmp_path) -> None:
    code, card, _ = _run(tmp_path, messages=True)
    assert code == 0
    r = card["retrieval"]
    assert r.get("status") != "n/a"
    # Two tickets have a customer message to query with; the retrieval probe ran on them.
    assert r["index_size"] is not None
    assert card["quality"]["agent_replies"] == 1


def test_label_only_export_says_what_could_not_run(tmp_path) -> None:
    code, card, md = _run(tmp_path, messages=False)
    assert code == 0
    assert card["retrieval"]["status"] == "n/a"
    assert "no ticket text" in card["retrieval"]["reason"]
    assert card["quality"]["response_variability"] is None
    assert card["quality"]["agent_replies"] == 0
    variability = next(line for line in md.splitlines() if line.startswith("| Response variab"))
    assert variability.endswith("| no replies |")
    assert "The retrieval probe did not run: the history has no ticket text" in md
    # Fields no source maps are "not mapped", not "100% valid".
    assert "| priority | not mapped | not mapped |" in md
    assert card["readiness"]["verdict"] == "not_ready"
