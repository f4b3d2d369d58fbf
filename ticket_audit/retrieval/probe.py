"""The retrieval feasibility probe (method in docs/readiness.md).

1. Hold out a seeded sample of tickets; index the rest (BM25, tantivy).
2. Query with each held-out ticket's subject + description, as a reply assistant would with
   a new ticket (its rarest terms, see index.py). Latency is wall time from raw text to the
   top-k row ids (analysis, term lookups, search, id lookup), after unmeasured warm-ups.
3. Relevance proxy: precision@5 against the query's category (hits sharing the label count
   as relevant; only labelled queries are judged), by category; and the share of queries
   whose top hit has a public agent reply (something to draft from).
4. Projected volume = monthly volume x retention months. When it exceeds the history, the
   same documents are indexed again, repeated up to the projected size (at most
   `max_scale_docs`), and latency is measured there; beyond that cap it is extrapolated with
   the growth exponent between the two measured sizes.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from importlib.metadata import version
from itertools import cycle, islice
from pathlib import Path

from ticket_audit.config.retrieval import RetrievalSection
from ticket_audit.retrieval.corpus import Corpus, split_holdout
from ticket_audit.retrieval.index import TicketIndex
from ticket_audit.retrieval.stats import extrapolate, growth_exponent, latency_summary
from ticket_audit.units import ms_text

ENGINE = f"tantivy {version('tantivy')} (BM25)"


def time_queries(
    index: TicketIndex, texts: list[str], k: int, max_terms: int, warmup: int
) -> tuple[list[float], list[list[int]]]:
    for text in texts[:warmup]:
        index.search(text, k, max_terms)
    latencies, results = [], []
    for text in texts:
        t0 = time.perf_counter_ns()
        rows = index.search(text, k, max_terms)
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
        results.append(rows)
    return latencies, results


def relevance(
    corpus: Corpus, queries: list[int], results: list[list[int]], min_queries: int = 1
) -> dict:
    """Precision@5 (same category) overall and per category; a category with fewer than
    `min_queries` queries is not shown on its own (a figure from 2 queries is noise) but
    counted in `categories_below_min_queries`."""
    cats = corpus.frame["category"].to_list()
    labelled = corpus.frame["labelled"].to_list()
    replied = corpus.frame["has_reply"].to_list()
    per_cat: dict[str, list[float]] = defaultdict(list)
    top_replied = 0
    for q, rows in zip(queries, results, strict=True):
        if rows and replied[rows[0]]:
            top_replied += 1
        if labelled[q]:
            per_cat[cats[q]].append(sum(cats[r] == cats[q] for r in rows[:5]) / 5)
    judged = [p for ps in per_cat.values() for p in ps]
    return {
        "precision_at_5": round(sum(judged) / len(judged), 4) if judged else None,
        "judged_queries": len(judged),
        "precision_at_5_by_category": {
            c: {"queries": len(ps), "precision_at_5": round(sum(ps) / len(ps), 4)}
            for c, ps in sorted(per_cat.items())
            if len(ps) >= min_queries
        },
        "categories_below_min_queries": {
            "categories": sum(len(ps) < min_queries for ps in per_cat.values()),
            "queries": sum(len(ps) for ps in per_cat.values() if len(ps) < min_queries),
            "min_queries": min_queries,
        },
        "top_hit_reply_share": round(top_replied / len(queries), 4) if queries else None,
    }


def _project(
    index_rows: list[int],
    texts: list[str],
    query_texts: list[str],
    measured: dict,
    projected_docs: int,
    s: RetrievalSection,
    on_disk: bool,
) -> dict:
    n = len(index_rows)
    out = {"projected_docs": projected_docs, "measured_docs": n, "method": "measured"}
    if projected_docs <= n or n == 0:
        return out | {k: measured[k] for k in ("p50_ms", "p95_ms", "p99_ms")}
    scale_docs = min(projected_docs, s.max_scale_docs)
    docs = ((i, texts[r]) for i, r in enumerate(islice(cycle(index_rows), scale_docs)))
    # The scale index holds the same text as the probe index: on disk only if that one is.
    with tempfile.TemporaryDirectory(prefix="ticket-audit-scale-") as tmp:
        t0 = time.perf_counter()
        big = TicketIndex.build(
            docs, Path(tmp) if on_disk else None, threads=s.writer_threads, heap_mb=s.writer_heap_mb
        )
        build_s = time.perf_counter() - t0
        lat, _ = time_queries(big, query_texts, s.top_k, s.max_query_terms, s.warmup_queries)
        del big
    at_scale = latency_summary(lat)
    out |= {
        "method": "repeated_corpus",
        "scale_docs": scale_docs,
        "scale_build_seconds": round(build_s, 3),
    }
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        b = growth_exponent(n, measured[key], scale_docs, at_scale[key])
        out[key] = extrapolate(at_scale[key], scale_docs, projected_docs, b)
        out[f"scale_{key}"] = at_scale[key]
        out[f"{key.removesuffix('_ms')}_exponent"] = round(b, 3)
    if projected_docs > scale_docs:
        out["method"] = "repeated_corpus+extrapolated"
    return out


def not_measured(reason: str, settings: RetrievalSection) -> dict:
    """The retrieval summary of a probe that could not run: every measure null, the reason."""
    return {
        "status": "n/a",
        "reason": reason,
        **{k: None for k in ("p50_ms", "p95_ms", "p99_ms", "precision_at_5", "index_size")},
        "queries": 0,
        "projection": {"p95_ms": None},
        "latency_budget_ms": settings.latency_budget_ms,
        "within_budget": None,
        "verdict": f"The retrieval probe did not run: {reason}.",
    }


def run_probe(
    corpus: Corpus, settings: RetrievalSection, *, monthly_volume: float, index_dir: Path | None
) -> dict:
    """Build, query and measure; returns the "retrieval" summary of the scorecard."""
    s = settings
    index_rows, queries = split_holdout(corpus, s.holdout_share, s.max_queries, s.seed)
    texts = corpus.frame["text"].to_list()
    if not queries:
        # Nothing to index or query (a label-only or text-free export): the layer cannot run,
        # and says why instead of failing the audit.
        return not_measured(
            "the history has no ticket text to index or query (no subject, description or "
            "customer message is mapped or filled)",
            s,
        )
    t0 = time.perf_counter()
    index = TicketIndex.build(
        ((r, texts[r]) for r in index_rows),
        index_dir,
        threads=s.writer_threads,
        heap_mb=s.writer_heap_mb,
    )
    build_s = time.perf_counter() - t0
    query_texts = [texts[q] for q in queries]
    latencies, results = time_queries(
        index, query_texts, s.top_k, s.max_query_terms, s.warmup_queries
    )
    measured = latency_summary(latencies)
    projected_docs = round(monthly_volume * s.retention_months)
    projection = _project(
        index_rows, texts, query_texts, measured, projected_docs, s, on_disk=index_dir is not None
    )
    verdict_p95 = projection["p95_ms"]
    return {
        **{k: round(v, 4) for k, v in measured.items()},
        **relevance(corpus, queries, results, s.min_category_queries),
        "index_size": index.num_docs,
        "index_bytes": index.size_bytes(),
        "build_seconds": round(build_s, 3),
        "queries": len(queries),
        "top_k": s.top_k,
        "engine": ENGINE,
        "latency_histogram": histogram(latencies),
        "projection": {k: round(v, 4) if isinstance(v, float) else v for k, v in projection.items()}
        | {"monthly_volume": round(monthly_volume, 2), "retention_months": s.retention_months},
        "latency_budget_ms": s.latency_budget_ms,
        "within_budget": verdict_p95 <= s.latency_budget_ms,
        "verdict": (
            f"p95 {ms_text(verdict_p95)} at {projected_docs:,} tickets is "
            + ("within" if verdict_p95 <= s.latency_budget_ms else "over")
            + f" the {s.latency_budget_ms:g} ms budget"
        ),
    }


def histogram(latencies_ms: list[float], buckets: int = 12) -> list[dict]:
    """Counts per log-spaced latency bucket, for the scorecard's latency chart."""
    lo, hi = max(min(latencies_ms), 1e-3), max(latencies_ms)
    if hi <= lo:
        return [{"from_ms": lo, "to_ms": hi, "queries": len(latencies_ms)}]
    ratio = (hi / lo) ** (1 / buckets)
    edges = [lo * ratio**i for i in range(buckets + 1)]
    counts = [0] * buckets
    for v in latencies_ms:
        i = 0
        while i < buckets - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return [
        {"from_ms": round(edges[i], 4), "to_ms": round(edges[i + 1], 4), "queries": c}
        for i, c in enumerate(counts)
    ]


def reusable_probe(
    previous: dict | None, tickets: int, settings: str, source_table: str, remeasure_growth: float
) -> dict | None:
    """The last measurement, marked as kept, if it still describes this history; else None.

    Latency at a projected size barely moves when a large history grows by a week; rebuilding
    the index to re-measure it would be most of a weekly audit's time.
    """
    if not previous or remeasure_growth <= 0:
        return None
    if previous.get("settings") != settings or previous.get("source_table") != source_table:
        return None
    then = previous.get("corpus_tickets") or 0
    if then <= 0 or abs(tickets - then) / then > remeasure_growth:
        return None
    return {
        **previous,
        "kept": {"corpus_tickets_now": tickets, "remeasure_growth": remeasure_growth},
    }
