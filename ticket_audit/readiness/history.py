"""Audit history in DuckDB: every audit is kept; trends and category-mix drift come from it."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from ticket_audit.store import transaction

HISTORY_DDL = """CREATE TABLE IF NOT EXISTS audit.audit_history (
    audit_id VARCHAR PRIMARY KEY,
    generated_at TIMESTAMP,
    verdict VARCHAR,
    score DOUBLE,
    tickets_total BIGINT,
    metrics JSON,
    category_mix JSON,
    scorecard JSON
)"""

# Headline numbers followed across audits: (name, path in the scorecard).
TREND_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("score", ("readiness", "score")),
    ("tagging_coverage", ("quality", "tagging_coverage")),
    ("usable_labeled_share", ("quality", "usable_labeled_share")),
    ("label_conflict_share", ("quality", "label_conflict_share")),
    ("duplicate_share", ("quality", "duplicate_share")),
    ("tickets_with_pii_share", ("pii", "tickets_with_pii_share")),
    ("ownership_score", ("ownership", "score")),
    ("precision_at_5", ("retrieval", "precision_at_5")),
    ("p95_ms", ("retrieval", "p95_ms")),
    ("monthly_volume", ("baselines", "monthly_volume")),
    ("tickets_total", ("tickets_total",)),
)


def _get(d: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def headline_metrics(scorecard: dict) -> dict[str, float | None]:
    return {name: _get(scorecard, path) for name, path in TREND_METRICS}


def category_mix(baselines: dict | None) -> dict[str, float]:
    """Share of tickets per category value (untagged included) from the baselines."""
    counts = {
        k: v.get("tickets", 0) for k, v in ((baselines or {}).get("by_category") or {}).items()
    }
    total = sum(counts.values())
    return {k: n / total for k, n in sorted(counts.items())} if total else {}


def mix_drift(current: dict[str, float], previous: dict[str, float] | None) -> dict:
    """Total variation distance (half the L1 distance, in [0, 1]) and per-category changes."""
    if not previous or not current:
        return {"tvd": None, "changes": [], "previous_audit": None}
    cats = sorted(set(current) | set(previous))
    changes = [
        {
            "category": c,
            "previous": previous.get(c, 0.0),
            "current": current.get(c, 0.0),
            "delta": current.get(c, 0.0) - previous.get(c, 0.0),
        }
        for c in cats
    ]
    changes.sort(key=lambda d: (-abs(d["delta"]), d["category"]))
    return {"tvd": round(0.5 * sum(abs(d["delta"]) for d in changes), 6), "changes": changes}


def ensure_history(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(HISTORY_DDL)


def previous_audits(
    con: duckdb.DuckDBPyConnection, before_audit: str | None = None, limit: int = 24
) -> list[dict]:
    """Earlier audits, oldest first (without the one being written)."""
    ensure_history(con)
    rows = con.execute(
        """SELECT audit_id, generated_at, verdict, score, tickets_total, metrics, category_mix
           FROM audit.audit_history WHERE audit_id IS DISTINCT FROM ?
           ORDER BY generated_at DESC, audit_id DESC LIMIT ?""",
        [before_audit, limit],
    ).fetchall()
    return [
        {
            "audit_id": a,
            "generated_at": g.isoformat(timespec="seconds"),
            "verdict": v,
            "score": s,
            "tickets_total": t,
            "metrics": json.loads(m),
            "category_mix": json.loads(c),
        }
        for a, g, v, s, t, m, c in reversed(rows)
    ]


def record_audit(con: duckdb.DuckDBPyConnection, scorecard: dict) -> None:
    """Keep this audit; re-recording the same audit id replaces it (re-runs never duplicate)."""
    ensure_history(con)
    generated = datetime.fromisoformat(scorecard["generated_at"]).replace(tzinfo=None)
    with transaction(con):
        con.execute("DELETE FROM audit.audit_history WHERE audit_id = ?", [scorecard["audit_id"]])
        con.execute(
            "INSERT INTO audit.audit_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                scorecard["audit_id"],
                generated,
                scorecard["readiness"]["verdict"],
                scorecard["readiness"]["score"],
                scorecard["tickets_total"],
                json.dumps(headline_metrics(scorecard)),
                json.dumps(category_mix(scorecard.get("baselines"))),
                json.dumps(scorecard, default=str),
            ],
        )


def trends(previous: list[dict], current: dict) -> dict:
    """Headline metrics per audit (oldest first, this one last) and change since the last one."""
    now = headline_metrics(current)
    series = [
        {
            "audit_id": p["audit_id"],
            "generated_at": p["generated_at"],
            "verdict": p["verdict"],
            **p["metrics"],
        }
        for p in previous
    ]
    series.append(
        {
            "audit_id": current["audit_id"],
            "generated_at": current["generated_at"],
            "verdict": current["readiness"]["verdict"],
            **now,
        }
    )
    last = previous[-1]["metrics"] if previous else {}
    changes = {
        k: (v - last[k])
        if isinstance(v, int | float) and isinstance(last.get(k), int | float)
        else None
        for k, v in now.items()
    }
    return {
        "audits": series,
        "change_since_previous": changes,
        "previous_audit_id": previous[-1]["audit_id"] if previous else None,
    }
