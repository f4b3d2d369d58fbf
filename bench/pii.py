"""Throughput of the full PII scan against Presidio's BatchAnalyzerEngine and bare spaCy NER.

    python -m bench pii [--tickets 100000] [--baseline-tickets N] [--skip-uncached]
                        [--part all|throughput|incremental]

Every text of every generated ticket (subject, description, each message) is scanned by:

1. ours: `ticket_audit.pii.scan.Scanner` as the audit runs it (distinct texts and sentences
   once, NER component only, up to two processes on large batches);
2. ours, one process: the same, `n_process=1`;
3. ours, no cache, one process: every text analysed as if all were different (what the
   scanner costs on a history with no repetition at all);
4. Presidio BatchAnalyzerEngine with the same spaCy model and the same recognizers
   (`build_analyzer(config)`), one process, batch size 256;
5. bare spaCy NER: `nlp.pipe` with every component but `ner` disabled, one process; the floor
   of any NER-based scan, and it finds names only.

Recall and precision are measured on the texts each contender scanned, against the PII the
generator planted (docs/pii.md describes the matching rule). `--baseline-tickets` scans a
deterministic subset for contenders 3-5 when a full run would take too long; the table
says so. Goal: ours >= 5x the BatchAnalyzerEngine's tickets/s at equal or better recall.

`--part incremental` times the `pii_findings` step end to end on DuckDB: a first audit of
97.5% of the history (oldest first), then a re-audit once the newest 2.5% have arrived.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from datetime import UTC, datetime

from bench.common import RESULTS, cached_history, table


def _load(tickets: int):
    from ticket_audit.config import load_config
    from ticket_audit.pii import evaluate as ev

    history = cached_history(tickets)
    cfg = load_config(history.config_path)
    examples = ev.load_generated(history.directory)
    return cfg, examples


def _subset(examples, n_tickets: int):
    """Every text of the first `n_tickets` tickets in a fixed shuffle (seeded)."""
    import random

    ids = sorted({e.id.split("/")[0] for e in examples})
    random.Random(5).shuffle(ids)
    keep = set(ids[:n_tickets])
    return [e for e in examples if e.id.split("/")[0] in keep], len(keep)


def _row(name, examples, n_tickets, seconds, predictions, *, note=""):
    from ticket_audit.pii import evaluate as ev

    scores = ev.score(examples, predictions)
    person = scores.get("PERSON", ev.Scores())
    return {
        "contender": name,
        "tickets": n_tickets,
        "texts": len(examples),
        "seconds": round(seconds, 1),
        "tickets_per_s": round(n_tickets / seconds, 1),
        "recall": round(scores["ALL"].recall, 4),
        "precision": round(scores["ALL"].precision, 4),
        "person_recall": round(person.recall, 4),
        "note": note,
    }


def run(tickets: int, baseline_tickets: int | None, skip_uncached: bool, n_process: str) -> dict:
    from ticket_audit.pii import evaluate as ev
    from ticket_audit.pii.analyzer import build_analyzer, load_spacy
    from ticket_audit.pii.scan import Scanner

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    cfg, examples = _load(tickets)
    n_all = len({e.id.split("/")[0] for e in examples})
    texts = [e.text for e in examples]
    pii = cfg.pii.model_copy(
        update={"n_process": n_process if n_process == "auto" else int(n_process)}
    )
    load_spacy(pii.spacy_model)
    analyzer = build_analyzer(pii)  # loaded before any clock starts
    rows, details = [], {}

    scanner = Scanner(pii, analyzer)
    scanner.scan(texts[:300], n_process=1)  # first-call allocations stay off the clock
    t0 = time.perf_counter()
    ours = scanner.scan(texts)
    rows.append(
        _row(
            "ours",
            examples,
            n_all,
            time.perf_counter() - t0,
            [[(f.entity_type, f.start, f.end) for f in fs] for fs in ours],
            note=f"n_process={scanner.stats.n_process}",
        )
    )
    details["ours"] = vars(scanner.stats)

    single = Scanner(pii.model_copy(update={"n_process": 1}), analyzer)
    t0 = time.perf_counter()
    pred = single.scan(texts)
    rows.append(
        _row(
            "ours, 1 process",
            examples,
            n_all,
            time.perf_counter() - t0,
            [[(f.entity_type, f.start, f.end) for f in fs] for fs in pred],
        )
    )

    sub, n_sub = (examples, n_all) if not baseline_tickets else _subset(examples, baseline_tickets)
    sub_texts = [e.text for e in sub]
    note = "" if n_sub == n_all else f"subset of {n_sub:,} tickets"

    if n_sub != n_all:
        same = Scanner(pii, analyzer)
        t0 = time.perf_counter()
        pred = same.scan(sub_texts)
        rows.append(
            _row(
                "ours, on the subset",
                sub,
                n_sub,
                time.perf_counter() - t0,
                [[(f.entity_type, f.start, f.end) for f in fs] for fs in pred],
                note=f"n_process={same.stats.n_process}; {note}",
            )
        )

    if not skip_uncached:
        uncached = Scanner(
            pii.model_copy(update={"n_process": 1, "cache_segments": False}), analyzer
        )
        t0 = time.perf_counter()
        pred = uncached.scan(sub_texts)
        rows.append(
            _row(
                "ours, no cache, 1 process",
                sub,
                n_sub,
                time.perf_counter() - t0,
                [[(f.entity_type, f.start, f.end) for f in fs] for fs in pred],
                note=note,
            )
        )

    t0 = time.perf_counter()
    pred = ev.predict_presidio(
        analyzer,
        sub_texts,
        score_threshold=pii.score_threshold,
        allow_list=pii.allow_list,
        batch_size=pii.batch_size,
    )
    rows.append(
        _row(
            "Presidio BatchAnalyzerEngine",
            sub,
            n_sub,
            time.perf_counter() - t0,
            pred,
            note=("same model and recognizers; " + note).strip("; "),
        )
    )

    nlp = load_spacy(pii.spacy_model)
    disabled = [p for p in nlp.pipe_names if p != "ner"]
    t0 = time.perf_counter()
    pred = []
    for doc in nlp.pipe(sub_texts, batch_size=pii.batch_size, disable=disabled):
        pred.append(
            [("PERSON", e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
        )
    seconds = time.perf_counter() - t0
    row = _row(
        "bare spaCy NER (floor)",
        sub,
        n_sub,
        seconds,
        pred,
        note=("names only; " + note).strip("; "),
    )
    row["recall"] = row["precision"] = None  # finds one type: overall figures do not apply
    rows.append(row)

    batch = next(r for r in rows if r["contender"].startswith("Presidio"))
    for r in rows:
        r["x_batch"] = round(r["tickets_per_s"] / batch["tickets_per_s"], 2)
    return {
        "benchmark": "pii",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tickets": n_all,
        "texts": len(texts),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rows": rows,
        "details": details,
    }


def incremental(tickets: int, share: float = 0.025) -> dict:
    """The `pii_findings` step end to end on DuckDB: first audit of (1 - share) of the history,
    then a re-audit after the newest `share` of tickets arrive (only those must be scanned)."""
    import tempfile
    from pathlib import Path

    import polars as pl
    import yaml

    from connectors.ingest import ingest_config
    from ticket_audit.config import load_config
    from ticket_audit.pii.runtime import get_scanner
    from ticket_audit.pii.scan_tickets import scan_window
    from ticket_audit.store import open_store

    history = cached_history(tickets)
    with tempfile.TemporaryDirectory(dir=RESULTS) as tmp:
        work = Path(tmp)
        frame = pl.read_csv(history.tickets_path, infer_schema_length=0)
        messages = pl.read_csv(history.messages_path, infer_schema_length=0)
        order = frame.sort("created_at")["ticket_id"].to_list()
        first = set(order[: round(len(order) * (1 - share))])
        config = yaml.safe_load(history.config_path.read_text())
        config["audit"].update(duckdb_path=str(work / "audit.duckdb"), output_dir=str(work / "out"))
        source = config["sources"][0]
        source["path"] = str(work / "tickets.csv")
        source["mapping"]["messages"]["file"]["path"] = str(work / "messages.csv")
        (work / "audit.yaml").write_text(yaml.safe_dump(config))
        cfg = load_config(work / "audit.yaml")

        def load(keep: set[str] | None) -> None:
            t = frame if keep is None else frame.filter(pl.col("ticket_id").is_in(list(keep)))
            m = messages if keep is None else messages.filter(pl.col("ticket_id").is_in(list(keep)))
            t.write_csv(work / "tickets.csv")
            m.write_csv(work / "messages.csv")
            ingest_config(cfg, progress=lambda _m: None)

        def store():
            return open_store(cfg.duckdb_path)

        get_scanner(cfg.pii)  # model loading stays off the clock, as in a running code location
        rows = []
        for label, keep in (("first audit", first), (f"re-audit, +{share:.1%} new tickets", None)):
            load(keep)
            t0 = time.perf_counter()
            r = scan_window(cfg, store, log=lambda _m: None)
            seconds = time.perf_counter() - t0
            rows.append(
                {
                    "run": label,
                    "tickets_in_store": r.tickets_in_window,
                    "tickets_scanned": r.tickets_scanned,
                    "unchanged_skipped": r.tickets_unchanged,
                    "seconds": round(seconds, 1),
                    "findings_written": r.findings_written,
                }
            )
    return {"incremental": rows}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench pii", description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument(
        "--baseline-tickets",
        type=int,
        default=None,
        help="scan only this many tickets with the slow contenders (default: all)",
    )
    p.add_argument("--skip-uncached", action="store_true", help="leave out 'ours, no cache'")
    p.add_argument("--n-process", default="auto", help="processes for our NER pass (auto, 1, 2)")
    p.add_argument("--part", choices=["all", "throughput", "incremental"], default="all")
    args = p.parse_args(argv)
    if args.part in ("all", "incremental"):
        inc = incremental(args.tickets)["incremental"]
        print(
            table(
                [
                    "run (pii_findings on DuckDB)",
                    "tickets in store",
                    "scanned",
                    "skipped",
                    "seconds",
                    "findings written",
                ],
                [
                    [
                        r["run"],
                        r["tickets_in_store"],
                        r["tickets_scanned"],
                        r["unchanged_skipped"],
                        r["seconds"],
                        r["findings_written"],
                    ]
                    for r in inc
                ],
            )
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"pii_incremental_{args.tickets}.json").write_text(json.dumps(inc, indent=2))
        if args.part == "incremental":
            return 0
    result = run(args.tickets, args.baseline_tickets, args.skip_uncached, args.n_process)
    headers = [
        "contender",
        "tickets",
        "texts",
        "seconds",
        "tickets/s",
        "x Batch",
        "recall",
        "precision",
        "PERSON recall",
        "note",
    ]
    print(
        table(
            headers,
            [
                [
                    r["contender"],
                    r["tickets"],
                    r["texts"],
                    r["seconds"],
                    r["tickets_per_s"],
                    r["x_batch"],
                    "-" if r["recall"] is None else f"{r['recall']:.4f}",
                    "-" if r["precision"] is None else f"{r['precision']:.4f}",
                    f"{r['person_recall']:.4f}",
                    r["note"],
                ]
                for r in result["rows"]
            ],
        )
    )
    print(f"load average {result['load_average']}, {result['cpus']} CPUs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"pii_{result['tickets']}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written {out}")
    return 0
