"""Layer summaries: each analysis layer stores the numbers the scorecard shows.

A summary is the JSON object that becomes the layer's key in `scorecard.json` (see
DESIGN.md): "profile", "quality", "pii", "ownership", "retrieval", "baselines". A layer may
add keys; it never renames one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb


def save_summary(con: duckdb.DuckDBPyConnection, layer: str, summary: dict[str, Any]) -> None:
    con.execute(
        "INSERT OR REPLACE INTO audit.layer_summaries VALUES (?, ?, ?)",
        [layer, datetime.now(UTC).replace(tzinfo=None), json.dumps(summary, default=str)],
    )


def load_summaries(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    rows = con.execute("SELECT layer, summary FROM audit.layer_summaries").fetchall()
    return {layer: json.loads(summary) for layer, summary in rows}
