"""Audit history: every audit kept, trends across audits, drift of the category mix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.readiness.summaries import healthy
from ticket_audit.config import parse_config
from ticket_audit.readiness import build_scorecard, mix_drift, previous_audits, record_audit
from ticket_audit.store import open_store

CFG = parse_config(
    {
        "sources": [
            {
                "name": "s",
                "kind": "file",
                "path": "t.csv",
                "mapping": {"fields": {"ticket_id": "id", "created_at": "c"}},
            }
        ]
    },
    base_dir=Path("."),
)


def _audit(con, audit_id: str, when: datetime, summaries: dict, total: int) -> dict:
    card = build_scorecard(
        summaries,
        CFG,
        audit_id=audit_id,
        generated_at=when,
        tickets_total=total,
        previous=previous_audits(con, audit_id),
    )
    record_audit(con, card)
    return card


def test_two_audits_give_trends_and_drift(tmp_path: Path) -> None:
    first = healthy(quality={"tagging_coverage": 0.70})
    second = healthy(
        quality={"tagging_coverage": 0.90},
        baselines={
            "by_category": {
                "Billing": {"tickets": 300},
                "Account": {"tickets": 500},
                "Shipping": {"tickets": 200},
            }
        },
    )
    with open_store(tmp_path / "a.duckdb") as con:
        a = _audit(con, "A", datetime(2026, 1, 1, tzinfo=UTC), first, 1000)
        assert a["trends"]["previous_audit_id"] is None
        assert a["category_drift"]["tvd"] is None
        assert len(a["trends"]["audits"]) == 1
        b = _audit(con, "B", datetime(2026, 2, 1, tzinfo=UTC), second, 1000)
        stored = con.execute(
            "SELECT audit_id, verdict FROM audit.audit_history ORDER BY generated_at"
        ).fetchall()
    assert [s[0] for s in stored] == ["A", "B"]
    t = b["trends"]
    assert [x["audit_id"] for x in t["audits"]] == ["A", "B"]
    assert [x["tagging_coverage"] for x in t["audits"]] == [0.70, 0.90]
    assert t["change_since_previous"]["tagging_coverage"] == pytest.approx(0.20)
    assert t["change_since_previous"]["tickets_total"] == 0
    d = b["category_drift"]
    # A: Billing 0.6 / Account 0.4;  B: Billing 0.3 / Account 0.5 / Shipping 0.2
    assert d["tvd"] == pytest.approx(0.5 * (0.3 + 0.1 + 0.2))
    assert d["previous_audit"] == "A"
    assert [c["category"] for c in d["changes"]] == ["Billing", "Shipping", "Account"]
    assert "category_drift" in [i["check"] for i in b["readiness"]["conditions"]]


def test_recording_the_same_audit_twice_keeps_one_row(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.duckdb") as con:
        when = datetime(2026, 1, 1, tzinfo=UTC)
        _audit(con, "A", when, healthy(), 10)
        _audit(con, "A", when, healthy(quality={"tagging_coverage": 0.5}), 10)
        rows = con.execute(
            "SELECT audit_id, metrics->>'tagging_coverage' FROM audit.audit_history"
        ).fetchall()
        assert rows == [("A", "0.5")]
        assert previous_audits(con, "B")[0]["audit_id"] == "A"
        assert previous_audits(con, "A") == []


def test_mix_drift_is_zero_for_the_same_mix_and_one_for_disjoint_mixes() -> None:
    assert mix_drift({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5})["tvd"] == 0
    assert mix_drift({"a": 1.0}, {"b": 1.0})["tvd"] == 1
    assert mix_drift({"a": 1.0}, None)["tvd"] is None
