"""PII scan on distinct texts (no repetition for the caches to exploit), against Presidio's
BatchAnalyzerEngine on the same model and recognizers, in the same run.

    python -m bench pii_distinct [--texts 3000] [--n-process auto] [--presidio-n-process 1]
    python -m bench pii_distinct --fresh-process --texts 3000 --repeat 5

The corpus: every distinct text of the shared real exports nobody here wrote (the Kaggle
helpdesk CSV's descriptions and resolutions), the presidio-research synthetic set, and the
multilingual ticket set of tests/data/pii, deduplicated and shuffled (seeded); `--texts`
takes the first N. Each contender's time includes building it (loading its spaCy model:
"process start"), because a fresh process is what a scan of new texts pays; the libraries
both share are warmed up once before the first contender.

1. ours: `Scanner` as the audit builds it, language routing included (py3langid per text,
   English NER on English, the French model on French);
2. ours, no cache: `cache_segments=False` (every text and sentence analysed even if seen);
3. Presidio BatchAnalyzerEngine over `build_analyzer(config)`: the same recognizers and
   model, Presidio's own loop (whole spaCy pipeline per text), batch size 256, in
   `--presidio-n-process` processes (its `n_process`, spaCy's own multiprocessing).

`--fresh-process` runs each contender in a new Python process timed from outside instead
(nothing shared, nothing warmed); `--repeat N` gives N rounds in turns and shows medians,
for a machine whose speed wanders (the per-round factors are printed too).

"x Batch" divides wall seconds; "x Batch cpu" CPU seconds, which other jobs on a shared
machine do not stretch (read it for one-process runs: spaCy's own worker processes may end
unwaited, and then their CPU is not counted).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import RESULTS, table


def corpus(n: int) -> list[str]:
    from ticket_audit.pii import evaluate as ev

    texts: list[str] = []
    path = ev.shared_data_dir() / "kaggle_support_tickets" / "customer_support_tickets.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts += [row.get("Ticket Description") or "", row.get("Resolution") or ""]
    texts += [e.text for e in ev.load_synth()]
    texts += [
        e.text for e in ev.load_labelled_jsonl(ev.LABELLED_DIR / "multilingual_tickets.jsonl")
    ]
    distinct = sorted({t.strip() for t in texts if t and t.strip()})
    random.Random(19).shuffle(distinct)
    return distinct[:n]


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (helpers are stopped
    before the clock is read): unlike wall time, not stretched by other jobs on the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _time(build, scan) -> tuple[float, float, float, object]:
    c0 = _cpu()
    t0 = time.perf_counter()
    engine = build()
    t1 = time.perf_counter()
    out = scan(engine)
    return t1 - t0, time.perf_counter() - t0, _cpu() - c0, out


def _add_ratios(rows: list[dict], n_texts: int) -> None:
    """Throughput and the factors against the last row (Presidio's batch engine)."""
    batch, batch_cpu = rows[-1]["total_s"], rows[-1]["cpu_s"]
    for r in rows:
        r["texts_per_s"] = n_texts / r["total_s"]
        r["x_batch"] = batch / r["total_s"]
        r["x_batch_cpu"] = batch_cpu / r["cpu_s"]


def run(
    n: int, n_process: str, presidio_n_process: int = 1, presidio_one_blas_thread: bool = False
) -> dict:
    from presidio_analyzer import BatchAnalyzerEngine
    from threadpoolctl import threadpool_limits

    from ticket_audit.config.pii import PiiSection
    from ticket_audit.pii import evaluate as ev
    from ticket_audit.pii.analyzer import build_analyzer, load_spacy
    from ticket_audit.pii.scan import Scanner

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    texts = corpus(n)
    sentences = sum(1 for _ in texts)
    config = PiiSection(n_process=n_process if n_process == "auto" else int(n_process))
    # Libraries both contenders share (phonenumbers' per-region metadata, regex caches,
    # spaCy's and Presidio's imports) warm up on other texts first, so the first contender
    # timed does not pay them for the others; each still loads its own model.
    warm = Scanner(config.model_copy(update={"n_process": 1}))
    warm.scan(
        [f"Warm-up {i}: Maria Lopez asked us to call +44 20 7946 {i:04d} today." for i in range(50)]
        + [f"Bonjour, Camille Martin a écrit le message numéro {i} depuis Lyon." for i in range(50)]
    )
    ev.predict_presidio(build_analyzer(config), ["warm-up: call +1 415 555 0100"])
    del warm
    rows = []

    def ours(cfg):
        def build():
            load_spacy.cache_clear()
            return Scanner(cfg)

        def scan(scanner):
            found = scanner.scan(texts)
            scanner.close()
            return found

        return _time(build, scan)

    for name, cfg in (
        ("ours (audit settings, language routing)", config),
        ("ours, no cache", config.model_copy(update={"cache_segments": False})),
    ):
        build_s, total_s, cpu_s, found = ours(cfg)
        rows.append(
            {
                "contender": name,
                "build_s": build_s,
                "total_s": total_s,
                "cpu_s": cpu_s,
                "findings": sum(len(f) for f in found),
            }
        )

    def build_batch():
        load_spacy.cache_clear()
        return build_analyzer(config)

    def batch_scan(analyzer):
        engine = BatchAnalyzerEngine(analyzer_engine=analyzer)
        return list(
            engine.analyze_iterator(
                texts, language="en", batch_size=256, n_process=presidio_n_process
            )
        )

    if presidio_one_blas_thread:
        with threadpool_limits(1, user_api="blas"):
            build_s, total_s, cpu_s, found = _time(build_batch, batch_scan)
    else:
        build_s, total_s, cpu_s, found = _time(build_batch, batch_scan)
    rows.append(
        {
            "contender": "Presidio BatchAnalyzerEngine (same model, same recognizers"
            + (f", n_process={presidio_n_process}" if presidio_n_process > 1 else "")
            + (", one BLAS thread" if presidio_one_blas_thread else "")
            + ")",
            "build_s": build_s,
            "total_s": total_s,
            "cpu_s": cpu_s,
            "findings": sum(len(f) for f in found),
        }
    )
    _add_ratios(rows, len(texts))
    return {
        "texts": len(texts),
        "distinct_texts": len(set(texts)),
        "sentences": sentences,
        "n_process": n_process,
        "presidio_n_process": presidio_n_process,
        "presidio_one_blas_thread": presidio_one_blas_thread,
        "rows": rows,
    }


def _contender(name: str, path: str, n_process: str, presidio_n_process: int, one_blas: bool):
    """One contender in this (fresh) process: read the texts, build, scan; findings count."""
    with open(path, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    from ticket_audit.config.pii import PiiSection

    if name == "ours":
        from ticket_audit.pii.runtime import get_scanner

        # The scanner as the audit and `ticket-audit scan-pii` get theirs: one per process.
        cfg = PiiSection(n_process=n_process if n_process == "auto" else int(n_process))
        scanner = get_scanner(cfg)
        found = scanner.scan(texts)
        scanner.close()
        return sum(len(f) for f in found)
    from presidio_analyzer import BatchAnalyzerEngine
    from threadpoolctl import threadpool_limits

    from ticket_audit.pii.analyzer import build_analyzer

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine = BatchAnalyzerEngine(analyzer_engine=build_analyzer(PiiSection()))
    with threadpool_limits(1 if one_blas else None, user_api="blas"):
        results = engine.analyze_iterator(
            texts, language="en", batch_size=256, n_process=presidio_n_process
        )
        return sum(len(r) for r in results)


def _run_contender(key: str, path: str, n_process: str, presidio_n_process: int, one_blas: bool):
    """(wall s, CPU s, findings) of one contender in a process of its own."""
    cmd = [sys.executable, "-m", "bench", "pii_distinct", "--contender", key]
    cmd += ["--input", path, "--n-process", n_process]
    cmd += ["--presidio-n-process", str(presidio_n_process)]
    if one_blas:
        cmd.append("--presidio-one-blas-thread")
    c0 = _cpu()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, _cpu() - c0, int(out.strip().splitlines()[-1])


def run_fresh(
    n: int,
    n_process: str,
    presidio_n_process: int = 1,
    presidio_one_blas_thread: bool = False,
    repeat: int = 1,
) -> dict:
    """Each contender in a process of its own, timed from outside: interpreter start,
    imports, model loading and the first use of every library are its own. With `repeat`,
    the contenders take turns (the order flips each round, so a slow spell of the machine
    does not always fall on the same one) and each row shows its median round."""
    texts = corpus(n)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for t in texts:
            fh.write(json.dumps({"text": t}) + "\n")
    presidio_name = (
        "Presidio BatchAnalyzerEngine (same model, same recognizers"
        + (f", n_process={presidio_n_process}" if presidio_n_process > 1 else "")
        + (", one BLAS thread" if presidio_one_blas_thread else "")
        + "), fresh process"
    )
    contenders = {
        "ours": "ours (audit settings, language routing), fresh process",
        "presidio": presidio_name,
    }
    rounds: dict[str, list[tuple[float, float, int]]] = {key: [] for key in contenders}
    try:
        for i in range(repeat):
            for key in list(contenders)[:: 1 if i % 2 == 0 else -1]:
                rounds[key].append(
                    _run_contender(
                        key, fh.name, n_process, presidio_n_process, presidio_one_blas_thread
                    )
                )
    finally:
        os.unlink(fh.name)
    rows = [
        {
            "contender": label,
            "build_s": float("nan"),
            "total_s": statistics.median(r[0] for r in rounds[key]),
            "cpu_s": statistics.median(r[1] for r in rounds[key]),
            "findings": rounds[key][0][2],
        }
        for key, label in contenders.items()
    ]
    _add_ratios(rows, len(texts))
    per_round = [p[0] / o[0] for o, p in zip(rounds["ours"], rounds["presidio"], strict=True)]
    return {
        "texts": len(texts),
        "distinct_texts": len(set(texts)),
        "sentences": len(texts),
        "n_process": n_process,
        "presidio_n_process": presidio_n_process,
        "presidio_one_blas_thread": presidio_one_blas_thread,
        "fresh_process": True,
        "repeat": repeat,
        "x_batch_per_round": per_round,
        "rows": rows,
    }


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench pii_distinct", description=__doc__.splitlines()[0]
    )
    p.add_argument("--texts", type=int, default=3000)
    p.add_argument("--n-process", default="auto", help="processes for our NER pass (auto, 1, 2)")
    p.add_argument(
        "--presidio-n-process",
        type=int,
        default=1,
        help="processes for Presidio's BatchAnalyzerEngine (its spaCy nlp.pipe n_process)",
    )
    p.add_argument(
        "--presidio-one-blas-thread",
        action="store_true",
        help="Presidio's run limited to one BLAS thread, as our scan limits itself",
    )
    p.add_argument(
        "--fresh-process",
        action="store_true",
        help="each contender in a new Python process timed from outside (interpreter start, "
        "imports and first use of every library included; no shared warm-up)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="with --fresh-process: rounds of both contenders, in turns; medians shown",
    )
    p.add_argument("--contender", choices=["ours", "presidio"], help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    settings = (args.n_process, args.presidio_n_process, args.presidio_one_blas_thread)
    if args.contender:
        print(_contender(args.contender, args.input, *settings))
        return 0
    if args.fresh_process:
        result = run_fresh(args.texts, *settings, max(1, args.repeat))
    else:
        result = run(args.texts, *settings)
    print(
        f"{result['texts']:,} distinct texts, n_process={result['n_process']}, "
        f"Presidio n_process={result['presidio_n_process']}"
    )
    print(
        table(
            [
                "contender",
                "build s",
                "total s",
                "texts/s",
                "x Batch",
                "cpu s",
                "x Batch cpu",
                "findings",
            ],
            [
                [
                    r["contender"],
                    r["build_s"],
                    r["total_s"],
                    r["texts_per_s"],
                    r["x_batch"],
                    r["cpu_s"],
                    r["x_batch_cpu"],
                    r["findings"],
                ]
                for r in result["rows"]
            ],
        )
    )
    if result.get("repeat", 1) > 1:
        print(
            f"median of {result['repeat']} rounds; x Batch per round: "
            + ", ".join(f"{x:.2f}" for x in result["x_batch_per_round"])
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"pii_distinct_{args.texts}_{args.n_process}_{args.presidio_n_process}"
    name += "_fresh.json" if args.fresh_process else ".json"
    (RESULTS / name).write_text(json.dumps(result, indent=2))
    return 0
