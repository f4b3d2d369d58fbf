"""Load a generated N-ticket CSV into the canonical tables vs DuckDB's own read_csv of it.

    python -m bench ingest [--tickets 1000000]

Both sides write a fresh on-disk DuckDB file from the same CSV in their own process;
the table reports rows/s, seconds, peak RSS and our speed as a share of DuckDB's.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import cached_history, isolated, table


def _duckdb_read_csv(csv_path: str, db_path: str) -> int:
    import duckdb

    con = duckdb.connect(db_path)
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
    return con.execute("SELECT count(*) FROM t").fetchone()[0]


def _ticket_audit_ingest(config_path: str, db_path: str) -> int:
    from connectors.ingest import ingest_config
    from ticket_audit.config import load_config

    cfg = load_config(config_path)
    cfg.audit.duckdb_path = db_path
    # Tickets only: the baseline reads one file too.
    cfg.sources[0].mapping.messages.file = None
    report = ingest_config(cfg, progress=lambda _m: None)
    return report.totals()["rows_loaded"]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench ingest", description=__doc__)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    hist = cached_history(args.tickets)
    size_mb = hist.tickets_path.stat().st_size / 1e6
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        base_rows, base_s, base_mb = isolated(
            _duckdb_read_csv, str(hist.tickets_path), str(work / "baseline.duckdb")
        )
        ours_rows, ours_s, ours_mb = isolated(
            _ticket_audit_ingest, str(hist.config_path), str(work / "ours.duckdb")
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        [
            "DuckDB read_csv -> table (baseline)",
            base_rows,
            base_s,
            base_rows / base_s,
            base_mb,
            1.0,
        ],
        [
            "ticket-audit ingest -> raw + canonical",
            ours_rows,
            ours_s,
            args.tickets / ours_s,
            ours_mb,
            (args.tickets / ours_s) / (base_rows / base_s),
        ],
    ]
    print(f"\nIngest benchmark: {args.tickets:,} tickets, CSV {size_mb:,.0f} MB")
    print(table(["load", "rows", "seconds", "rows/s", "peak RSS MB", "speed vs baseline"], rows))
    print("\ngoal: speed vs baseline >= 0.50, peak RSS < 2048 MB")
    return 0
