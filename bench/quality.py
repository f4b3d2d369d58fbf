"""The whole quality layer on N generated tickets, stage by stage, and GX against one SQL query.

    python -m bench quality [--tickets 1000000]

The cached history (bench/results/) is ingested once into bench/results/quality_<N>/;
ingest is set-up, not part of the layer. Each stage then runs in a fresh process (as the
Dagster assets do under the multiprocess executor), so "peak RSS" is that stage's own
maximum resident set. In the same run, the same checks written as one DuckDB SQL query
(expectations/sql.py) count every check per month; its counts must equal GX's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import time
from datetime import datetime
from pathlib import Path
from typing import Any

# Imported here, not in the stage functions: a spawned child imports this module while it
# unpickles its task, before the clock starts, so import time is not billed to any stage.
from bench.common import RESULTS, cached_history, table
from connectors.ingest import ingest_config
from expectations.sql import counts_query
from expectations.stage import default_bounds, run_checks
from expectations.suites import all_checks, check_descriptions
from ticket_audit.config import load_config
from ticket_audit.quality.duplicates import run_duplicates
from ticket_audit.quality.label_consistency import run_label_consistency
from ticket_audit.quality.summary import run_quality_summary
from ticket_audit.quality.variability import run_reply_variability
from ticket_audit.store import open_store

GOAL_SECONDS = 120
GOAL_MB = 4096


def _child_cpu(conn, fn, args) -> None:
    """bench.common's child, plus the CPU seconds of `fn` itself (all threads)."""

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    start, cpu0 = time.perf_counter(), cpu()
    try:
        value, error = fn(*args), None
    except BaseException as exc:  # reported to the parent, which re-raises
        value, error = None, f"{type(exc).__name__}: {exc}"
    seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((value, seconds, peak_mb, cpu_seconds, error))
    conn.close()


def isolated_spawn(fn, *args) -> tuple[Any, float, float, float]:
    """Like bench.common.isolated, but a spawned (not forked) child: polars and DuckDB keep
    thread pools that a fork would copy mid-flight. Also returns the CPU seconds of `fn`,
    which the machine's load inflates far less than wall time."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_cpu, args=(child, fn, args))
    proc.start()
    child.close()
    value, seconds, peak_mb, cpu_seconds, error = parent.recv()
    proc.join()
    if error:
        raise RuntimeError(f"benchmark step failed: {error}")
    return value, seconds, peak_mb, cpu_seconds


def _config(config_path: str, work: str, as_of: str):
    cfg = load_config(config_path)
    cfg.audit.duckdb_path = str(Path(work) / "audit.duckdb")
    cfg.audit.output_dir = str(Path(work) / "out")
    # Future-dated means after the export: the history's own export moment.
    cfg.quality.as_of = datetime.fromisoformat(as_of)
    return cfg


def _ingest(config_path: str, work: str, as_of: str) -> dict:
    report = ingest_config(_config(config_path, work, as_of), progress=lambda _m: None)
    return report.totals()


def _stage(name: str, config_path: str, work: str, as_of: str) -> dict:
    cfg = _config(config_path, work, as_of)
    quiet = lambda _m: None  # noqa: E731
    if name == "quality_checks":
        out = run_checks(cfg, docs_dir=Path(cfg.output_dir) / "data_docs", progress=quiet)
        return {
            "timings": out.timings,
            "tickets": out.tickets,
            "months": len(out.tickets_by_month),
            "mismatches": len(out.mismatches()),
            "gx_counts": {c: sum(d.values()) for c, d in _by_check(out).items()},
        }
    if name == "duplicate_tickets":
        return run_duplicates(cfg, quiet).stats
    if name == "label_consistency":
        s = run_label_consistency(cfg, quiet).stats
        return {k: s.get(k) for k in ("implausible_labels", "classifier_accuracy", "timings")}
    if name == "reply_variability":
        return {"rows": run_reply_variability(cfg, quiet).height}
    if name == "quality_summary":
        s = run_quality_summary(cfg, check_descriptions(cfg), quiet)
        return {
            k: s[k]
            for k in (
                "usable_labeled_share",
                "tagging_coverage",
                "label_conflict_share",
                "duplicate_share",
                "response_variability",
                "tickets_read",
            )
        }
    raise ValueError(name)


def _by_check(outcome) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in outcome.results:
        out.setdefault(r.check, {})[r.partition_month.isoformat()] = r.unexpected_count or 0
    return out


def _sql_counts(config_path: str, work: str, as_of: str) -> dict:
    """Every check, per month, as one DuckDB query (the GX suites' SQL twin)."""
    cfg = _config(config_path, work, as_of)
    checks = all_checks(cfg)
    t0 = time.perf_counter()
    with open_store(cfg.duckdb_path) as con:
        rel = con.sql(counts_query(cfg, checks, default_bounds(cfg)))
        cols, rows = rel.columns, rel.fetchall()
    seconds = time.perf_counter() - t0
    totals = {c.name: sum(r[cols.index(c.name)] for r in rows) for c in checks}
    return {"seconds": seconds, "months": len(rows), "counts": totals}


def _noop() -> None:
    return None


STAGES = (
    "quality_checks",
    "duplicate_tickets",
    "label_consistency",
    "reply_variability",
    "quality_summary",
)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench quality", description=__doc__)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--reingest", action="store_true", help="load the history again")
    args = ap.parse_args(argv)

    hist = cached_history(args.tickets)
    as_of = hist.manifest()["export_date"]
    work = RESULTS / f"quality_{args.tickets}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "audit.duckdb"
    if args.reingest or not db.exists():
        db.unlink(missing_ok=True)
        print(f"ingesting {args.tickets:,} tickets (set-up, not measured)...", flush=True)
        isolated_spawn(_ingest, str(hist.config_path), str(work), as_of)
    # The child's import of this module (GX, polars, scikit-learn...) is not a stage.
    _, _, import_mb, _ = isolated_spawn(_noop)
    load = os.getloadavg()

    measured: dict[str, dict] = {}
    for name in STAGES:
        value, seconds, peak, cpu = isolated_spawn(
            _stage, name, str(hist.config_path), str(work), as_of
        )
        measured[name] = {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "peak_mb": peak,
            "detail": value,
        }
        print(f"  {name}: {seconds:,.1f} s ({cpu:,.1f} CPU s), peak {peak:,.0f} MB", flush=True)
    sql, sql_s, sql_mb, sql_cpu = isolated_spawn(
        _sql_counts, str(hist.config_path), str(work), as_of
    )
    load_after = os.getloadavg()

    checks = measured["quality_checks"]["detail"]
    t = checks["timings"]
    gx_seconds = t["read"] + t["gx"]
    agree = checks["gx_counts"] == sql["counts"]
    total = sum(m["seconds"] for m in measured.values())
    total_cpu = sum(m["cpu_seconds"] for m in measured.values())
    peak = max(m["peak_mb"] for m in measured.values())
    rows = [[name, m["seconds"], m["cpu_seconds"], m["peak_mb"]] for name, m in measured.items()]
    rows.append(["whole quality layer", total, total_cpu, peak])
    print(
        f"\nQuality layer benchmark: {args.tickets:,} generated tickets "
        f"({checks['tickets']:,} loaded, {checks['months']} monthly partitions); "
        f"load average {load[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(table(["stage", "seconds", "CPU seconds", "peak RSS MB"], rows))
    print(f"(peak RSS of a fresh process holding only the imports: {import_mb:,.0f} MB)")
    print(
        f"\ngoal: whole layer < {GOAL_SECONDS} s and < {GOAL_MB} MB: "
        f"{'met' if total < GOAL_SECONDS and peak < GOAL_MB else 'NOT met'}"
    )
    cmp_rows = [
        [
            "GX Core (pandas): read + validate, 4 suites x months",
            gx_seconds,
            t.get("gx_cpu"),
            measured["quality_checks"]["peak_mb"],
            1.0,
        ],
        ["  of which DuckDB read -> polars", t["read"], None, None, None],
        ["  of which polars -> pandas + GX validation", t["gx"], t.get("gx_cpu"), None, None],
        ["  Data Docs build (not compared)", t["data_docs"], None, None, None],
        ["same checks as one DuckDB SQL query", sql_s, sql_cpu, sql_mb, sql_s / gx_seconds],
    ]
    print(
        table(
            ["checks", "seconds", "CPU seconds", "peak RSS MB", "time vs GX"],
            [[c if c is not None else "–" for c in r] for r in cmp_rows],
        )
    )
    print(
        f"GX and SQL counts agree on every check: {agree}; GX takes "
        f"{gx_seconds / sql_s:,.1f}x the wall time of the SQL query"
        + (f" and {t['gx_cpu'] / sql_cpu:,.1f}x its CPU" if t.get("gx_cpu") and sql_cpu else "")
    )
    out = RESULTS / f"quality_{args.tickets}.json"
    out.write_text(
        json.dumps(
            {
                "tickets": args.tickets,
                "load_average": [load[0], load_after[0]],
                "stages": measured,
                "total_seconds": total,
                "peak_mb": peak,
                "gx_seconds": gx_seconds,
                "gx_cpu_seconds": t.get("gx_cpu"),
                "sql": {**sql, "peak_mb": sql_mb, "cpu_seconds": sql_cpu},
                "counts_agree": agree,
            },
            indent=2,
            default=str,
        )
    )
    print(f"results: {out}")
    return 0 if agree else 1
