"""worklist.csv: every ticket the quality funnel removes, for the teams that fix the data."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from reports.csv_text import csv_text
from reports.files import write_atomic


def write_worklist(worklist: pl.DataFrame, output_dir: str | Path) -> Path:
    """Columns: ticket_audit.readiness.worklist.COLUMNS; confidence rounded to 4 digits."""
    rows = worklist.with_columns(pl.col("confidence").round(4)).iter_rows(named=True)
    return write_atomic(Path(output_dir) / "worklist.csv", csv_text(worklist.columns, rows))
