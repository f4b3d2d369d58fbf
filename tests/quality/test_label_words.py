"""Label consistency keeps each ticket's word ids: a re-audit tokenises only new and reloaded
tickets, and its findings equal a run that tokenised everything."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from connectors.ingest import ingest_config
from tests.conftest import with_store
from ticket_audit.config import load_config
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.quality.duplicates import run_duplicates
from ticket_audit.quality.label_consistency import run_label_consistency
from ticket_audit.quality.tables import load_stage_stats
from ticket_audit.quality.text_features import word_hashes
from ticket_audit.quality.word_store import read_ticket_words, ticket_text
from ticket_audit.store import open_store

QUIET = lambda _m: None  # noqa: E731


def _issues(cfg) -> pl.DataFrame:
    with open_store(cfg.duckdb_path) as con:
        return con.sql("SELECT * FROM audit.label_issues ORDER BY ALL").pl()


def _stats(cfg) -> dict:
    with open_store(cfg.duckdb_path) as con:
        stats = load_stage_stats(con)["label_consistency"]
    return {k: v for k, v in stats.items() if k not in ("timings", "tokenised")}


def _stored_lists(cfg) -> int:
    with open_store(cfg.duckdb_path) as con:
        return con.execute("SELECT count(*) FROM canonical.ticket_word_ids").fetchall()[0][0]


def _loaded(cfg) -> list[str]:
    """Ids of the tickets that loaded (the generator plants some that go to quarantine)."""
    with open_store(cfg.duckdb_path) as con:
        return [r[0] for r in con.execute("SELECT ticket_id FROM canonical.tickets").fetchall()]


def _from_scratch(cfg) -> tuple[pl.DataFrame, dict]:
    """The findings of a run that keeps nothing: the kept lists are dropped first."""
    with open_store(cfg.duckdb_path) as con:
        con.execute("DROP TABLE canonical.ticket_word_ids")
    found = run_label_consistency(cfg, QUIET)
    assert found.stats["tokenised"] == found.stats["tickets"]
    return _issues(cfg), _stats(cfg)


@pytest.fixture
def exports(tmp_path: Path):
    spec = GeneratorSpec(tickets=1500, months=3, seed=23)
    hist = generate_history(spec, tmp_path / "data")
    folder = tmp_path / "exports"
    folder.mkdir()
    first = folder / "tickets_0001.csv"
    hist.tickets_path.rename(first)
    cfg = load_config(hist.config_path)
    cfg.sources[0].path = str(folder / "tickets_*.csv")
    cfg = with_store(cfg, tmp_path)
    ingest_config(cfg, progress=QUIET)
    run_duplicates(cfg, QUIET)
    return cfg, first


def test_kept_word_ids_equal_tokenising_the_text(exports) -> None:
    cfg, _ = exports
    run_label_consistency(cfg, QUIET)
    with open_store(cfg.duckdb_path) as con:
        kept = read_ticket_words(con)
        texts = con.sql("SELECT subject, description FROM canonical.tickets ORDER BY rowid").pl()
    assert len(kept.fresh) == 0 and kept.tickets.height == texts.height == len(_loaded(cfg))
    fresh = word_hashes(
        texts.select(ticket_text(pl.col("subject"), pl.col("description"))).to_series()
    ).ids()
    assert np.array_equal(kept.words.offsets, fresh.offsets)
    assert np.array_equal(kept.words.low, fresh.low)


def test_reaudit_tokenises_only_new_tickets_and_equals_a_fresh_run(exports) -> None:
    cfg, first = exports
    n = len(_loaded(cfg))
    done = run_label_consistency(cfg, QUIET)
    assert done.stats["tokenised"] == done.stats["tickets"] == n
    issues, stats = _issues(cfg), _stats(cfg)
    assert stats["implausible_labels"] > 0  # the comparison below is not of empty results

    again = run_label_consistency(cfg, QUIET)
    assert again.stats["tokenised"] == 0
    assert _issues(cfg).equals(issues) and _stats(cfg) == stats

    # A week's export: copies of 200 old tickets under new ids, their categories shuffled so
    # the findings move.
    old = pl.read_csv(first, infer_schema=False)
    week = old.filter(pl.col("ticket_id").is_in(_loaded(cfg))).head(200)
    week = week.with_columns(pl.col("ticket_id") + "-W", pl.col("category").shuffle(seed=5))
    week.write_csv(first.with_name("tickets_0002.csv"))
    ingest_config(cfg, progress=QUIET)
    run_duplicates(cfg, QUIET)
    third = run_label_consistency(cfg, QUIET)
    assert third.stats["tokenised"] == 200 and third.stats["tickets"] == n + 200
    issues3, stats3 = _issues(cfg), _stats(cfg)
    assert not issues3.equals(issues)
    scratch_issues, scratch_stats = _from_scratch(cfg)
    assert scratch_issues.equals(issues3) and scratch_stats == stats3
    assert _stored_lists(cfg) == n + 200


def test_reloaded_and_deleted_tickets(exports) -> None:
    cfg, first = exports
    run_label_consistency(cfg, QUIET)
    # The first export again, one ticket edited and one gone: the file loads anew.
    old = pl.read_csv(first, infer_schema=False)
    loaded = _loaded(cfg)
    gone, edited = loaded[7], loaded[8]
    changed = old.filter(pl.col("ticket_id") != gone).with_columns(
        pl.when(pl.col("ticket_id") == edited)
        .then(pl.lit("Invoice charged twice, please refund the second payment."))
        .otherwise(pl.col("description"))
        .alias("description")
    )
    changed.write_csv(first)
    ingest_config(cfg, progress=QUIET)
    run_duplicates(cfg, QUIET)
    redone = run_label_consistency(cfg, QUIET)
    assert redone.stats["tokenised"] == redone.stats["tickets"] == len(loaded) - 1
    assert _stored_lists(cfg) == len(loaded) - 1  # none left for the deleted ticket
    issues, stats = _issues(cfg), _stats(cfg)
    scratch_issues, scratch_stats = _from_scratch(cfg)
    assert scratch_issues.equals(issues) and scratch_stats == stats


def test_other_polars_version_tokenises_everything_again(exports, monkeypatch) -> None:
    cfg, _ = exports
    run_label_consistency(cfg, QUIET)
    issues = _issues(cfg)
    # Polars may hash differently in another version: kept ids are not comparable then.
    monkeypatch.setattr(pl, "__version__", "0.0.0-other")
    redone = run_label_consistency(cfg, QUIET)
    assert redone.stats["tokenised"] == redone.stats["tickets"]
    assert _stored_lists(cfg) == redone.stats["tickets"]  # the other version's lists are gone
    assert _issues(cfg).equals(issues)
