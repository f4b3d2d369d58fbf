"""A re-audit sketches only new and changed tickets and finds the same groups as a full run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from connectors.ingest import ingest_config
from tests.conftest import with_store
from ticket_audit.config import load_config
from ticket_audit.generator import GeneratorSpec, generate_history
from ticket_audit.quality.duplicates import INPUT_COLUMNS, find_duplicates, run_duplicates
from ticket_audit.store import open_store

QUIET = lambda _m: None  # noqa: E731


def _full_run(cfg) -> pl.DataFrame:
    with open_store(cfg.duckdb_path) as con:
        tickets = con.sql(f"SELECT {', '.join(INPUT_COLUMNS)} FROM canonical.tickets").pl()
    return find_duplicates(tickets, cfg.quality).groups


def _stored(cfg) -> pl.DataFrame:
    with open_store(cfg.duckdb_path) as con:
        return con.sql("SELECT * FROM audit.duplicate_groups").pl()


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.sort("source", "ticket_id").equals(b.sort("source", "ticket_id"))


@pytest.fixture
def history(tmp_path: Path):
    spec = GeneratorSpec(
        tickets=1500,
        months=3,
        seed=41,
        rates={**GeneratorSpec().rates, "exact_duplicate": 0.08, "near_duplicate_conflict": 0.06},
    )
    hist = generate_history(spec, tmp_path / "data")
    cfg = with_store(load_config(hist.config_path), tmp_path)
    ingest_config(cfg, progress=QUIET)
    return hist, cfg


def test_reaudit_sketches_only_changed_tickets_and_equals_a_full_run(history) -> None:
    hist, cfg = history
    first = run_duplicates(cfg, QUIET)
    n = first.stats["tickets"]
    assert first.stats["sketched"] == n
    assert first.stats["exact_copies"] > 0 and first.stats["near_copies"] > 0
    assert _same(_stored(cfg), _full_run(cfg))

    again = run_duplicates(cfg, QUIET)
    assert again.stats["sketched"] == 0  # nothing changed: nothing read again
    assert _same(_stored(cfg), _full_run(cfg))

    # A later export: exact and near copies of old tickets (same customer), one old ticket's
    # text edited, one moved to another customer, one deleted.
    tickets = pl.read_csv(hist.tickets_path, infer_schema_length=0)
    originals = tickets.head(40)
    copies = pl.concat(
        [
            originals.head(20).with_columns(pl.col("ticket_id") + "-X"),
            originals.tail(20).with_columns(
                pl.col("ticket_id") + "-N",
                (pl.col("description") + " Thanks again for the quick help.").alias("description"),
            ),
        ]
    )
    ids = tickets["ticket_id"]
    edited, moved, deleted = ids[100], ids[101], ids[102]
    changed = tickets.with_columns(
        pl.when(pl.col("ticket_id") == edited)
        .then(pl.lit("A completely different question about invoices and refunds."))
        .otherwise(pl.col("description"))
        .alias("description"),
        pl.when(pl.col("ticket_id") == moved)
        .then(pl.lit("someone.else@example.com"))
        .otherwise(pl.col("customer_email"))
        .alias("customer_email"),
    ).filter(pl.col("ticket_id") != deleted)
    pl.concat([changed, copies]).write_csv(hist.tickets_path)
    ingest_config(cfg, progress=QUIET)

    third = run_duplicates(cfg, QUIET)
    assert third.stats["sketched"] == len(copies) + 2  # the copies, the edit, the move
    stored = _stored(cfg)
    assert _same(stored, _full_run(cfg))
    kinds = dict(zip(stored["ticket_id"], stored["kind"], strict=True))
    assert sum(kinds.get(t) == "exact" for t in copies["ticket_id"]) >= 20
    assert deleted not in kinds
    with open_store(cfg.duckdb_path) as con:
        sketches = con.execute("SELECT count(*) FROM audit.duplicate_sketch").fetchone()[0]
    assert sketches == third.stats["tickets"]  # one per ticket: none left for the deleted one


def test_other_settings_sketch_everything_again(history) -> None:
    _, cfg = history
    run_duplicates(cfg, QUIET)
    cfg.quality.shingle_words = 2
    redone = run_duplicates(cfg, QUIET)
    assert redone.stats["sketched"] == redone.stats["tickets"]
    assert _same(_stored(cfg), _full_run(cfg))


def test_other_polars_version_sketches_everything_again(history, monkeypatch) -> None:
    _, cfg = history
    run_duplicates(cfg, QUIET)
    # Kept sketches are Polars hashes, which another Polars version may compute differently.
    monkeypatch.setattr(pl, "__version__", "0.0.0-other")
    redone = run_duplicates(cfg, QUIET)
    assert redone.stats["sketched"] == redone.stats["tickets"]
    assert _same(_stored(cfg), _full_run(cfg))
