"""The audit's three PII steps in one process, on a copy of an ingested store: CPU seconds.

    python -m bench pii_steps --store DB --config CONFIG [--out JSON]

On a copy of `DB` (a store kept by `bench full_audit`, e.g.
bench/results/full_audit_100000/after_full/db/audit.duckdb) the PII tables are dropped, then
`pii_findings` (a month at a time), `redacted_tickets` (a month at a time) and
`pii_residual_scan` run as the audit runs them, in one process with the scanner's helper
processes off, so each step's CPU seconds are its own. Wall seconds on a machine shared with
other work mostly measure the other work; CPU seconds of the same store and data, run by two
checkouts one after the other (each its own venv: `git archive <commit> | tar -x -C DIR`,
`make install`, then this command from DIR), compare the code. Printed with the residual
findings per entity type and recognizer and an md5 over the sorted residual rows, so a
before/after pair shows whether the residual check still finds the same values.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from bench.common import table


def _steps(db: Path, config: Path) -> dict:
    from ticket_audit.config import load_config
    from ticket_audit.pii.redact_tickets import redact_window
    from ticket_audit.pii.residual import residual_scan
    from ticket_audit.pii.runtime import get_scanner
    from ticket_audit.pii.scan_tickets import scan_window
    from ticket_audit.pii.ticket_texts import WindowQuery
    from ticket_audit.store import connect_attached

    cfg = load_config(config)
    cfg.pii.n_process = 1  # every step in this process: its CPU time is the step's

    @contextmanager
    def store():
        con = connect_attached(db)
        try:
            yield con
        finally:
            con.close()

    with store() as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit' "
            "AND (table_name LIKE 'pii_%' OR table_name LIKE 'redacted_%' "
            "OR table_name = 'ner_spans')"
        ).fetchall()
        for (name,) in tables:
            con.execute(f"DROP TABLE audit.{name}")
        months = [
            m
            for (m,) in con.execute(
                "SELECT DISTINCT created_month FROM canonical.tickets ORDER BY 1"
            ).fetchall()
        ]

    def quiet(_msg: str) -> None:
        pass

    result: dict = {"steps": {}}

    def step(name: str, run: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        result["steps"][name] = {
            "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
        }

    def windows(fn: Callable) -> Callable[[], object]:
        return lambda: [
            fn(cfg, store, WindowQuery("created_month = ?", (m,)), log=quiet) for m in months
        ]

    step("pii_findings", windows(scan_window))
    step("redacted_tickets", windows(redact_window))
    step("pii_residual_scan", lambda: residual_scan(cfg, store, log=quiet))
    get_scanner(cfg.pii).close()
    with store() as con:
        result["residual"] = con.execute(
            "SELECT entity_type || '/' || recognizer, count(*) FROM audit.pii_residual "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        result["residual_rows_md5"] = con.execute(
            "SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (SELECT concat_ws("
            "'|', source, ticket_id, field, entity_type, start, \"end\", recognizer, value_hash)"
            " AS x FROM audit.pii_residual)"
        ).fetchone()[0]
        result["findings"] = con.execute("SELECT count(*) FROM audit.pii_findings").fetchone()[0]
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pii_steps", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="an ingested audit.duckdb")
    parser.add_argument("--config", type=Path, required=True, help="the audit's config")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("TICKET_AUDIT_HASH_KEY", "bench-not-a-secret")
    with tempfile.TemporaryDirectory(prefix="pii-steps-") as tmp:
        db = Path(tmp) / "audit.duckdb"
        shutil.copy(args.store, db)
        result = _steps(db, args.config)
    rows = [[name, s["wall_s"], s["cpu_s"]] for name, s in result["steps"].items()]
    print(table(["step", "wall s", "CPU s"], rows))
    print(f"first-pass findings: {result['findings']:,}")
    print(f"residual findings: {result['residual']}; rows md5 {result['residual_rows_md5']}")
    if args.out:
        args.out.write_text(json.dumps(result, default=str, indent=2))
    return 0
