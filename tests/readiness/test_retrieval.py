"""Retrieval probe: percentiles, query safety, hold-out split, relevance and projection."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.readiness.conftest import loaded_history
from ticket_audit.config.retrieval import RetrievalSection
from ticket_audit.generator import GeneratorSpec
from ticket_audit.retrieval import (
    Corpus,
    TicketIndex,
    latency_summary,
    load_corpus,
    percentile,
    query_words,
    relevance,
    run_probe,
    split_holdout,
)
from ticket_audit.retrieval.stats import extrapolate, growth_exponent
from ticket_audit.store import open_store

NO_LABEL_NOISE = {
    d: 0.0
    for d in (
        "missing_category",
        "wrong_category",
        "catch_all_category",
        "unknown_category",
        "near_duplicate_conflict",
    )
}


def test_percentiles_by_hand() -> None:
    xs = list(range(1, 101))  # 1..100
    assert percentile(xs, 50) == pytest.approx(50.5)
    assert percentile(xs, 95) == pytest.approx(95.05)
    assert percentile(xs, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 0) == 1 and percentile([3, 1, 2], 100) == 3
    with pytest.raises(ValueError):
        percentile([], 50)


def test_percentiles_agree_with_numpy_on_skewed_latencies() -> None:
    rng = random.Random(3)
    xs = [rng.lognormvariate(0, 1.2) for _ in range(997)]
    s = latency_summary(xs)
    for q in (50, 95, 99):
        assert s[f"p{q}_ms"] == pytest.approx(float(np.percentile(xs, q)), rel=1e-12)
    assert s["max_ms"] == max(xs)


def test_growth_exponent_and_extrapolation() -> None:
    assert growth_exponent(1000, 1.0, 10_000, 10.0) == pytest.approx(1.0)
    assert growth_exponent(1000, 1.0, 4000, 2.0) == pytest.approx(0.5)
    assert growth_exponent(1000, 2.0, 10_000, 1.0) == 0.0  # noise never predicts speed-ups
    assert growth_exponent(1000, 0.1, 2000, 0.6) == 1.0  # nor worse than linear growth
    assert extrapolate(10.0, 10_000, 40_000, 0.5) == pytest.approx(20.0)
    assert extrapolate(10.0, 10_000, 5_000, 1.0) == 10.0


def test_query_words_for_plain_scans() -> None:
    text = 'Refund (order #123) AND "NOT" field:value -minus <EMAIL_1> a_b'
    assert query_words(text, 32) == [
        "refund",
        "order",
        "123",
        "and",
        "not",
        "field",
        "value",
        "minus",
        "email",
        "1",
        "a",
        "b",
    ]
    assert query_words("one two one three", 2) == ["one", "two"]


def test_queries_keep_the_rarest_terms_and_ignore_query_syntax() -> None:
    docs = ["refund for my order", "router is broken", "order status", "order router"]
    index = TicketIndex.build(enumerate(docs))
    # "order" is in three documents, "router" in two, "refund" in one; "the" is a stop word.
    assert index.query_terms("The order, the router and the refund!", 2) == ["refund", "router"]
    assert index.query_terms("routers ordered", 5) == ["router", "order"]  # stemmed like the index
    assert index.query_terms("nothing matches", 5) == []
    assert index.search('refund (order) AND "NOT" field:value -x', 5)[0] == 0
    assert index.search("!!! ???", 5) == []
    assert index.search("", 5) == []


def _corpus(rows: list[tuple[str, str | None, bool]]) -> Corpus:
    frame = pl.DataFrame(
        {
            "ticket_id": [f"T{i}" for i in range(len(rows))],
            "text": [r[0] for r in rows],
            "category": [r[1] for r in rows],
            "has_reply": [r[2] for r in rows],
        },
        schema={
            "ticket_id": pl.Utf8,
            "text": pl.Utf8,
            "category": pl.Utf8,
            "has_reply": pl.Boolean,
        },
    )
    return Corpus(frame.with_columns(labelled=pl.col("category").is_not_null()))


def test_relevance_counts_by_hand() -> None:
    corpus = _corpus(
        [
            ("q1", "A", True),
            ("q2", "B", True),
            ("q3", None, True),
            ("x", "A", True),
            ("y", "A", False),
            ("z", "B", True),
            ("w", None, True),
        ]
    )
    results = [[3, 4, 5, 6], [4, 5], [3]]  # fewer than 5 hits count as misses
    r = relevance(corpus, [0, 1, 2], results)
    assert r["precision_at_5_by_category"] == {
        "A": {"queries": 1, "precision_at_5": 0.4},
        "B": {"queries": 1, "precision_at_5": 0.2},
    }
    assert r["precision_at_5"] == pytest.approx(0.3)  # the unlabelled query is not judged
    assert r["judged_queries"] == 2
    assert r["top_hit_reply_share"] == pytest.approx(
        2 / 3, abs=1e-4
    )  # q2's top hit (y) has no reply
    # From 2 queries a category is not shown; the overall figure still counts them.
    hidden = relevance(corpus, [0, 1, 2], results, min_queries=2)
    assert hidden["precision_at_5_by_category"] == {}
    assert hidden["categories_below_min_queries"] == {
        "categories": 2,
        "queries": 2,
        "min_queries": 2,
    }
    assert hidden["precision_at_5"] == pytest.approx(0.3)


def test_holdout_is_seeded_and_disjoint() -> None:
    corpus = _corpus([(f"text {i}" if i % 7 else "", "A", True) for i in range(400)])
    index_rows, queries = split_holdout(corpus, 0.1, 30, seed=1)
    assert len(queries) == 30
    assert not set(index_rows) & set(queries)
    assert sorted(index_rows + queries) == list(range(400))
    assert all(i % 7 for i in queries)  # empty texts are never queries
    assert split_holdout(corpus, 0.1, 30, seed=1) == (index_rows, queries)
    assert split_holdout(corpus, 0.1, 30, seed=2)[1] != queries


@pytest.fixture(scope="module")
def clean_history(tmp_path_factory: pytest.TempPathFactory):
    """A generated history whose categories are all correct."""
    spec = GeneratorSpec(tickets=1200, seed=21, rates={"invalid_timestamp": 0.0, **NO_LABEL_NOISE})
    return loaded_history(spec, tmp_path_factory.mktemp("clean"))


def _load(cfg) -> Corpus:
    with open_store(cfg.duckdb_path) as con:
        return load_corpus(
            con, "canonical.tickets", "canonical.messages", list(cfg.taxonomy.categories)
        )


def test_precision_at_5_on_a_history_with_known_categories(clean_history, tmp_path: Path) -> None:
    history, cfg = clean_history
    corpus = _load(cfg)
    truth = dict(zip(history.truth()["ticket_id"], history.truth()["true_category"], strict=True))
    assert corpus.frame["category"].to_list() == [truth[t] for t in corpus.frame["ticket_id"]]
    settings = RetrievalSection(max_queries=150, holdout_share=0.15)
    summary = run_probe(corpus, settings, monthly_volume=0, index_dir=tmp_path / "idx")
    # Customer wording is category-specific in the generator: BM25 neighbours share the label.
    assert summary["precision_at_5"] > 0.85
    assert set(summary["precision_at_5_by_category"]) == set(cfg.taxonomy.categories)
    assert summary["queries"] == 150 and summary["judged_queries"] == 150
    assert summary["index_size"] == len(corpus) - 150
    assert summary["index_bytes"] > 0 and (tmp_path / "idx").is_dir()
    assert summary["top_hit_reply_share"] > 0.8
    assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert sum(b["queries"] for b in summary["latency_histogram"]) == 150


def test_label_noise_lowers_precision(loaded, clean_history) -> None:
    settings = RetrievalSection(max_queries=150, holdout_share=0.15)
    clean = run_probe(_load(clean_history[1]), settings, monthly_volume=0, index_dir=None)
    noisy = run_probe(_load(loaded[1]), settings, monthly_volume=0, index_dir=None)
    assert noisy["precision_at_5"] < clean["precision_at_5"] - 0.05


def test_projection_indexes_up_to_the_projected_volume(clean_history) -> None:
    corpus = _load(clean_history[1])
    settings = RetrievalSection(max_queries=50, retention_months=24, max_scale_docs=6000)
    small = run_probe(corpus, settings, monthly_volume=10, index_dir=None)
    assert small["projection"]["method"] == "measured"
    assert small["projection"]["p95_ms"] == small["p95_ms"]

    scaled = run_probe(corpus, settings, monthly_volume=200, index_dir=None)  # 4,800 docs
    p = scaled["projection"]
    assert (p["method"], p["projected_docs"], p["scale_docs"]) == ("repeated_corpus", 4800, 4800)

    capped = run_probe(corpus, settings, monthly_volume=1000, index_dir=None)  # 24,000 docs
    p = capped["projection"]
    assert p["method"] == "repeated_corpus+extrapolated" and p["scale_docs"] == 6000
    b = growth_exponent(capped["index_size"], capped["p95_ms"], 6000, p["scale_p95_ms"])
    assert p["p95_exponent"] == pytest.approx(b, abs=1e-3)
    # The summary rounds milliseconds to 4 decimals and the exponent to 3: at sub-millisecond
    # latencies that rounding alone is worth ~1e-4 ms.
    assert p["p95_ms"] == pytest.approx(p["scale_p95_ms"] * 4**b, rel=1e-3, abs=2e-4)
    assert p["p95_ms"] >= p["scale_p95_ms"]
    assert capped["within_budget"] == (p["p95_ms"] <= 500)


def test_has_reply_comes_from_public_agent_messages(loaded, store) -> None:
    corpus = load_corpus(store, "canonical.tickets", "canonical.messages")
    expected = {
        t
        for (t,) in store.execute(
            "SELECT DISTINCT ticket_id FROM canonical.messages "
            "WHERE author_role = 'agent' AND is_public"
        ).fetchall()
    }
    got = set(corpus.frame.filter(pl.col("has_reply"))["ticket_id"])
    assert got == expected & set(corpus.frame["ticket_id"])


def test_an_in_memory_probe_never_writes_an_index(clean_history, monkeypatch) -> None:
    paths = []
    build = TicketIndex.build.__func__

    def spy(cls, docs, path=None, **kw):
        paths.append(path)
        return build(cls, docs, path, **kw)

    monkeypatch.setattr(TicketIndex, "build", classmethod(spy))
    settings = RetrievalSection(max_queries=20)
    summary = run_probe(_load(clean_history[1]), settings, monthly_volume=200, index_dir=None)
    assert summary["projection"]["method"] == "repeated_corpus"
    assert paths == [None, None]
    assert summary["index_bytes"] is None


def test_a_probe_is_kept_only_while_it_describes_the_history() -> None:
    from ticket_audit.retrieval.probe import reusable_probe

    last = {"corpus_tickets": 1_000_000, "settings": "s", "source_table": "t", "p95_ms": 9.0}
    assert (
        reusable_probe(last, 1_025_000, "s", "t", 0.10)["kept"]["corpus_tickets_now"] == 1_025_000
    )
    assert reusable_probe(last, 1_200_000, "s", "t", 0.10) is None  # grew 20 %: measure again
    assert reusable_probe(last, 850_000, "s", "t", 0.10) is None  # shrank 15 %
    assert reusable_probe(last, 1_000_000, "other", "t", 0.10) is None  # settings changed
    assert reusable_probe(last, 1_000_000, "s", "other", 0.10) is None  # another table
    assert reusable_probe(last, 1_000_000, "s", "t", 0.0) is None  # always re-measure
    assert reusable_probe(None, 10, "s", "t", 0.10) is None
