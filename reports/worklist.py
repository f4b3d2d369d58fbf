"""worklist.csv: every ticket the quality funnel removes, for the teams that fix the data."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from reports.escape import SafeDictWriter
from reports.files import write_atomic


def write_worklist(worklist: pl.DataFrame, output_dir: str | Path) -> Path:
    """Columns: ticket_audit.readiness.worklist.COLUMNS; confidence rounded to 4 digits."""
    buf = io.StringIO()
    w = SafeDictWriter(buf, fieldnames=worklist.columns, lineterminator="\n")
    w.writeheader()
    for row in worklist.with_columns(pl.col("confidence").round(4)).iter_rows(named=True):
        w.writerow(row)
    return write_atomic(Path(output_dir) / "worklist.csv", buf.getvalue())
