"""Implausible-label detection: the audit's confident learning against cleanlab's
`find_label_issues` on the same out-of-fold probabilities, scored against the labels the
generator planted wrong (wrong_category, near_duplicate_conflict).

    pip install cleanlab        # not a dependency of the audit; only this comparison needs it
    python -m bench label_issues [--tickets 3000 20000] [--seed 21]

Prints one row per method and history size: flagged, planted among scored tickets, true
positives, precision, recall, time of the detection step alone (the classifier is shared).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from connectors.ingest import ingest_config
from ticket_audit.config import load_config
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.quality.classifier import confident_learning, out_of_fold
from ticket_audit.quality.label_consistency import trainable_labels
from ticket_audit.quality.word_store import read_ticket_words
from ticket_audit.store import open_store


def _compare(tickets: int, seed: int, work: Path) -> list[tuple]:
    from cleanlab.filter import find_label_issues

    history = generate_history(GeneratorSpec(tickets=tickets, months=6, seed=seed), work / "data")
    cfg = load_config(history.config_path)
    cfg.audit.duckdb_path = str(work / "bench.duckdb")
    ingest_config(cfg, progress=lambda _m: None)
    with open_store(cfg.duckdb_path) as con:
        found = read_ticket_words(con)
    t = found.tickets
    groups = t.select(pl.col("source") + ":" + pl.col("ticket_id")).to_series()
    oof = out_of_fold(found.words, trainable_labels(t, cfg), groups, cfg.quality.label_issues)
    truth = history.truth()
    wrong = set(
        truth.filter(
            (pl.col("wrong_category").cast(pl.Int64) == 1)
            | (pl.col("near_duplicate_conflict").cast(pl.Int64) == 1)
        )["ticket_id"].to_list()
    )
    planted = np.array([i in wrong for i in t["ticket_id"].to_list()])
    lab = np.nonzero(oof.y >= 0)[0]
    rows = []

    def row(name: str, flagged: np.ndarray, seconds: float) -> None:
        tp = int(planted[flagged].sum())
        n_planted = int(planted[lab].sum())
        rows.append(
            (name, tickets, len(flagged), n_planted, tp, tp / max(len(flagged), 1),
             tp / max(n_planted, 1), seconds * 1000)
        )  # fmt: skip

    t0 = time.perf_counter()
    cl = confident_learning(oof.probabilities, oof.y)
    row("audit (prune by noise rate)", np.nonzero(cl.issue)[0], time.perf_counter() - t0)
    probs = oof.probabilities[lab].astype(np.float64)
    for mode in ("prune_by_noise_rate", "both", "confident_learning"):
        t0 = time.perf_counter()
        issues = find_label_issues(oof.y[lab], probs, filter_by=mode)
        row(f"cleanlab {mode}", lab[np.nonzero(issues)[0]], time.perf_counter() - t0)
    return rows


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench label_issues")
    p.add_argument("--tickets", type=int, nargs="+", default=[3000, 20000])
    p.add_argument("--seed", type=int, default=21)
    args = p.parse_args(argv)
    print(
        f"{'method':30s} {'tickets':>8s} {'flagged':>8s} {'planted':>8s} {'tp':>6s} "
        f"{'precision':>9s} {'recall':>7s} {'ms':>7s}"
    )
    for n in args.tickets:
        with tempfile.TemporaryDirectory(prefix="bench-labels-") as tmp:
            for name, tickets, flagged, planted, tp, prec, rec, ms in _compare(
                n, args.seed, Path(tmp)
            ):
                print(
                    f"{name:30s} {tickets:8,d} {flagged:8,d} {planted:8,d} {tp:6,d} "
                    f"{prec:9.3f} {rec:7.3f} {ms:7.1f}"
                )
    return 0
