"""GX and its SQL twin agree; results land in DuckDB per month; windows add up."""

from __future__ import annotations

import dataclasses
from datetime import date

import polars as pl
import pytest

from expectations.stage import run_checks
from expectations.suites import all_checks, check_descriptions
from ticket_audit.store import open_store


def test_gx_counts_equal_the_sql_flags(audited) -> None:
    outcome = audited.run.checks
    assert outcome.results, "no GX results"
    assert outcome.mismatches() == []
    assert audited.summary["gx"]["gx_sql_mismatches"] == 0


def test_results_rows_cover_every_month_and_suite(audited) -> None:
    with open_store(audited.cfg.duckdb_path) as con:
        rows = con.execute("""
            SELECT partition_month, suite, count(*), min(element_count), max(element_count)
            FROM audit.quality_check_results GROUP BY ALL""").fetchall()
        tickets = dict(
            con.execute(
                "SELECT partition_month, count(*) FROM (SELECT DISTINCT partition_month FROM "
                "audit.quality_check_results) m JOIN (SELECT greatest(least(created_month, "
                "(SELECT max(partition_month) FROM audit.quality_check_results)), "
                "(SELECT min(partition_month) FROM audit.quality_check_results)) AS pm "
                "FROM canonical.tickets) t ON t.pm = m.partition_month GROUP BY ALL"
            ).fetchall()
        )
    suites = {r[1] for r in rows}
    assert suites == {"tagging", "metadata", "timestamps", "text"}
    for month, _suite, _n, lo, hi in rows:
        assert lo == hi == tickets[month]


def test_monthly_windows_add_up_to_the_whole(default_audit, tmp_path) -> None:
    cfg = default_audit.cfg
    with open_store(cfg.duckdb_path) as con:
        before = con.execute(
            "SELECT check_name, sum(unexpected_count) FROM audit.quality_check_results "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
        months = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT partition_month FROM audit.quality_check_results ORDER BY 1"
            ).fetchall()
        ]
    bounds = (months[0], months[-1])
    middle = months[len(months) // 2]
    # Two range runs (as Dagster backfills would do) replace the rows of their months only.
    run_checks(
        cfg,
        months=(date(2000, 1, 1), middle),
        bounds=bounds,
        docs_dir=tmp_path / "docs",
        progress=lambda _m: None,
    )
    run_checks(
        cfg,
        months=(middle, date(2100, 1, 1)),
        bounds=bounds,
        docs_dir=tmp_path / "docs",
        progress=lambda _m: None,
    )
    with open_store(cfg.duckdb_path) as con:
        after = con.execute(
            "SELECT check_name, sum(unexpected_count) FROM audit.quality_check_results "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert after == before


def test_a_disagreeing_twin_is_reported(default_audit, tmp_path) -> None:
    cfg = default_audit.cfg
    checks = [
        dataclasses.replace(c, unexpected_sql="TRUE") if c.name == "category_present" else c
        for c in all_checks(cfg)
    ]
    with open_store(cfg.duckdb_path) as con:
        last = con.execute(
            "SELECT max(partition_month) FROM audit.quality_check_results"
        ).fetchall()[0][0]
    try:
        outcome = run_checks(
            cfg,
            months=(last, date(2100, 1, 1)),
            checks=checks,
            docs_dir=tmp_path / "docs",
            progress=lambda _m: None,
        )
        assert any(m["check"] == "category_present" for m in outcome.mismatches())
    finally:
        run_checks(
            cfg,
            months=(last, date(2100, 1, 1)),
            docs_dir=tmp_path / "docs",
            progress=lambda _m: None,
        )


@pytest.mark.parametrize("pattern", [r"\bfoo", r"(?=x)", r"x$", r"\d+"])
def test_non_portable_patterns_are_rejected(pattern) -> None:
    from ticket_audit.config.quality import QualitySection

    with pytest.raises(ValueError):
        QualitySection(template_token_patterns=[pattern])


def test_months_not_yet_validated_are_not_counted_usable(tmp_path) -> None:
    from connectors.ingest import ingest_config
    from tests.conftest import with_store
    from ticket_audit.config import load_config
    from ticket_audit.generator import GeneratorSpec, generate_history
    from ticket_audit.quality.duplicates import run_duplicates
    from ticket_audit.quality.label_consistency import run_label_consistency
    from ticket_audit.quality.summary import run_quality_summary
    from ticket_audit.quality.variability import run_reply_variability

    history = generate_history(GeneratorSpec(tickets=600, months=4, seed=9), tmp_path / "d")
    cfg = with_store(load_config(history.config_path), tmp_path)
    quiet = lambda _m: None  # noqa: E731
    ingest_config(cfg, progress=quiet)
    first = date(2026, 7, 1)  # the history covers 2026-07 .. 2026-10
    run_checks(cfg, months=(first, date(2026, 9, 1)), docs_dir=tmp_path / "docs", progress=quiet)
    run_duplicates(cfg, quiet)
    run_label_consistency(cfg, quiet)
    run_reply_variability(cfg, quiet)
    summary = run_quality_summary(cfg, check_descriptions(cfg), quiet)
    with open_store(cfg.duckdb_path) as con:
        in_window = con.execute(
            "SELECT count(*) FROM canonical.tickets WHERE created_month < DATE '2026-09-01'"
        ).fetchall()[0][0]
    steps = {f["key"]: f["remaining"] for f in summary["funnel"]}
    assert steps["validated"] == summary["tickets_validated"] == in_window
    assert summary["usable_labeled_tickets"] <= in_window


def test_reply_variability_relabels_only_new_replies_and_equals_a_fresh_run(
    tmp_path, monkeypatch
) -> None:
    from connectors.ingest import ingest_config
    from tests.conftest import with_store
    from ticket_audit.config import load_config
    from ticket_audit.generator import GeneratorSpec, generate_history
    from ticket_audit.quality.variability import run_reply_variability

    history = generate_history(GeneratorSpec(tickets=500, months=3, seed=17), tmp_path / "d")
    cfg = with_store(load_config(history.config_path), tmp_path)
    cfg.quality.language_sample = 1000  # the smallest sample: about every reply is sampled
    logs: list[str] = []
    ingest_config(cfg, progress=lambda _m: None)
    first = run_reply_variability(cfg, logs.append)
    with open_store(cfg.duckdb_path) as con:
        agent = "author_role = 'agent' AND coalesce(is_public, true) AND body IS NOT NULL"
        replies = con.execute(f"SELECT count(*) FROM canonical.messages WHERE {agent}").fetchone()[
            0
        ]
        assert con.execute("SELECT count(*) FROM audit.reply_labels").fetchone()[0] == replies
        # An edited reply, a deleted one, a new one (a macro copied to another ticket) and
        # a category change that moves replies between categories.
        (t1, s1), (t2, s2), (t3, s3) = con.execute(
            f"SELECT ticket_id, seq FROM canonical.messages WHERE {agent} "
            "ORDER BY ticket_id, seq LIMIT 3"
        ).fetchall()
        con.execute(
            "UPDATE canonical.messages SET body = 'Dear customer,\n\nFixed!\n\nCheers' "
            "WHERE ticket_id = ? AND seq = ?",
            [t1, s1],
        )
        con.execute("DELETE FROM canonical.messages WHERE ticket_id = ? AND seq = ?", [t2, s2])
        con.execute(
            "INSERT INTO canonical.messages SELECT * REPLACE (seq + 100 AS seq) "
            "FROM canonical.messages WHERE ticket_id = ? AND seq = ?",
            [t3, s3],
        )
        con.execute("UPDATE canonical.tickets SET category = 'Moved' WHERE ticket_id = ?", [t3])
    logs.clear()
    again = run_reply_variability(cfg, logs.append)
    assert "(2 new or edited labelled" in logs[-1]
    assert again.filter(pl.col("category") == "Moved")["replies"].to_list() != []
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM audit.reply_labels").fetchone()[0] == replies
        con.execute("DELETE FROM audit.reply_labels")
    fresh = run_reply_variability(cfg, logs.append)
    assert f"({replies:,} new or edited labelled" in logs[-1]
    assert again.equals(fresh)
    assert not again.equals(first)
    # Kept core hashes come from Polars, which may hash differently in another version.
    monkeypatch.setattr(pl, "__version__", "0.0.0-other")
    upgraded = run_reply_variability(cfg, logs.append)
    assert f"({replies:,} new or edited labelled" in logs[-1]
    assert upgraded.equals(fresh)
