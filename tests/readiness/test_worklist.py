"""worklist.csv and "what it would take" on a real demo audit.

The worklist's counts per step must be the funnel's; each "what it would take" row must be
what a real re-run gives: a copy of the audit's DuckDB file with those tickets fixed by plain
SQL, counted again (by the funnel and by a direct count), judged by the readiness rules.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import pytest

from reports.escape import FORMULA_START
from ticket_audit.config import load_config
from ticket_audit.quality.funnel import CRITERION_KEYS, funnel
from ticket_audit.readiness import evaluate
from ticket_audit.store import open_store
from ticket_audit.summaries import load_summaries


@pytest.fixture(scope="module")
def audit(demo_audit: Path) -> dict:
    out = demo_audit / "out"
    with open(out / "worklist.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        "rows": rows,
        "card": json.loads((out / "scorecard.json").read_text()),
        "config": demo_audit / ".ticket_audit" / "demo" / "data" / "audit.yaml",
    }


def test_worklist_counts_are_the_funnels(audit: dict) -> None:
    rows, card = audit["rows"], audit["card"]
    funnel_steps = card["quality"]["funnel"]
    removed = {s["key"]: s["removed"] for s in funnel_steps if s["removed"]}
    counted: dict[str, int] = {}
    for r in rows:
        counted[r["step_key"]] = counted.get(r["step_key"], 0) + 1
    assert counted == removed
    read, usable = funnel_steps[0]["remaining"], funnel_steps[-1]["remaining"]
    assert len(rows) == read - usable
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    by_step = {s["step_key"]: s["tickets"] for s in card["worklist"]["by_step"]}
    assert by_step == removed


def test_worklist_rows_say_who_fixes_what(audit: dict) -> None:
    rows = audit["rows"]
    owners = {
        r["area"]: r["owner"] for r in audit["card"]["ownership"]["responsibilities"] if r["owner"]
    }
    for r in rows:
        assert r["fix"] and r["owner"]
        assert r["owner"] == owners.get(r["area"], r["owner"])
        assert r["step_key"] == r["failed"].split(";")[0]
        assert not str(r["ticket_id"]).startswith(FORMULA_START)
    # Suggestions only where a label is the fix, as probabilities; relabel work comes first,
    # tickets one relabel makes usable before the others, surest suggestion first.
    suggested = [r for r in rows if r["suggested_category"]]
    assert suggested, "the demo history has unlabelled tickets the classifier can label"
    assert {r["step_key"] for r in suggested} <= {
        "category_present",
        "category_valid",
        "label_plausible",
    }
    assert rows[: len(suggested)] == suggested
    single = [float(r["confidence"]) for r in suggested if r["failures"] == "1"]
    assert single == sorted(single, reverse=True)
    assert all(0 < float(r["confidence"]) <= 1 for r in suggested)


def test_what_it_would_take_equals_a_real_rerun(audit: dict, tmp_path: Path) -> None:
    rows, card = audit["rows"], audit["card"]
    cfg = load_config(audit["config"])
    table = card["worklist"]["what_it_would_take"]
    assert len(table) >= 3
    fixable = [(r["source"], r["ticket_id"]) for r in rows if r["step_key"] != "loaded"]
    read = card["quality"]["funnel"][0]["remaining"]
    for x in (table[0], table[len(table) // 2], table[-1]):
        copy_path = tmp_path / f"copy-{x['fixed']}.duckdb"
        shutil.copy(cfg.duckdb_path, copy_path)
        top = fixable[: x["fixed"]]
        with open_store(copy_path) as con:
            con.execute("CREATE TEMP TABLE top (source VARCHAR, ticket_id VARCHAR)")
            con.executemany("INSERT INTO top VALUES (?, ?)", top)
            # The fix of a later duplicate copy is to drop it; of anything else, to make
            # every failing criterion pass.
            dropped = con.execute(
                "DELETE FROM audit.quality_ticket_flags WHERE NOT not_duplicate "
                "AND (source, ticket_id) IN (SELECT (source, ticket_id) FROM top)"
            ).fetchall()[0][0]
            sets = ", ".join(f"{k} = true" for k in ["validated", "tagged", *CRITERION_KEYS])
            con.execute(
                f"UPDATE audit.quality_ticket_flags SET {sets} "
                "WHERE (source, ticket_id) IN (SELECT (source, ticket_id) FROM top)"
            )
            usable = con.execute(
                "SELECT count(*) FROM audit.quality_ticket_flags WHERE "
                + " AND ".join(["validated", *CRITERION_KEYS])
            ).fetchall()[0][0]
            rerun = funnel(con, read - dropped)
            loaded, tagged = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE tagged) FROM audit.quality_ticket_flags"
            ).fetchall()[0]
            summaries = load_summaries(con)
        assert x["dropped_copies"] == dropped
        assert x["usable_labeled_tickets"] == usable == rerun[-1]["remaining"]
        assert x["usable_labeled_share"] == pytest.approx(usable / (read - dropped))
        assert x["tagging_coverage"] == pytest.approx(tagged / loaded)
        adjusted = copy.deepcopy(summaries)
        adjusted["quality"].update(
            usable_labeled_share=usable / (read - dropped), tagging_coverage=tagged / loaded
        )
        judged = evaluate(adjusted, cfg.readiness, drift=card.get("category_drift"))
        assert (x["verdict"], x["score"]) == (judged["verdict"], judged["score"])
    # Fixing more never leaves fewer usable tickets; fixing all leaves only unloaded rows.
    usable_counts = [x["usable_labeled_tickets"] for x in table]
    assert usable_counts == sorted(usable_counts)
    assert table[-1]["fixed"] == len(fixable)
    assert table[-1]["usable_labeled_tickets"] == table[-1]["tickets_read"] - (
        len(rows) - len(fixable)
    )
