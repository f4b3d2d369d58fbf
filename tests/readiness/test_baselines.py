"""Business baselines against hand-made tickets and against the generator's own files."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl
import pytest

from ticket_audit.baselines import business_baselines
from ticket_audit.store import ensure_schema
from ticket_audit.tagging import tagged_labels

LOADED_AT = datetime(2026, 4, 15)


def _store(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """Tickets as (created, first_response, resolved, category, channel, csat)."""
    con = duckdb.connect()
    ensure_schema(con)
    for i, (created, first, resolved, category, channel, csat) in enumerate(rows):
        c = datetime.fromisoformat(created)
        con.execute(
            """INSERT INTO canonical.tickets (source, ticket_id, created_at, first_response_at,
                   resolved_at, category, channel, csat, created_month, loaded_at)
               VALUES ('s', ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                f"T{i}",
                c,
                first and datetime.fromisoformat(first),
                resolved and datetime.fromisoformat(resolved),
                category,
                channel,
                csat,
                c.date().replace(day=1),
                LOADED_AT,
            ],
        )
    return con


ROWS = [
    # January: 3 tickets
    ("2026-01-05 10:00", "2026-01-05 11:00", "2026-01-05 20:00", "Billing", "email", 5),
    ("2026-01-10 08:00", "2026-01-10 08:30", "2026-01-11 08:00", "Billing", "chat", 3),
    ("2026-01-20 00:00", "2026-01-20 02:00", "2026-01-19 00:00", "Account", "email", 1),
    # February: none. March: 1 ticket, unresolved, unrated
    ("2026-03-02 09:00", "2026-03-02 09:10", None, None, "web", None),
    # April is the month of the load: incomplete, left out of the monthly volume
    ("2026-04-01 09:00", None, None, "Account", None, 9),
    # after the load: a future-dated defect, left out of everything
    ("2026-07-01 09:00", None, None, "Billing", "email", 4),
]


def test_baselines_by_hand() -> None:
    b = business_baselines(_store(ROWS), labels=["Billing", "Account"])
    assert b["tickets"] == 5
    assert b["excluded"] == {
        "deleted": 0,
        "future_dated": 1,
        "resolved_before_created": 1,
        "first_response_before_created": 0,
    }
    assert [(m["month"], m["tickets"], m["tagged"], m["complete"]) for m in b["monthly"]] == [
        ("2026-01-01", 3, 3, True),
        ("2026-02-01", 0, 0, True),
        ("2026-03-01", 1, 0, True),
        ("2026-04-01", 1, 1, False),
    ]
    assert b["recent_months"] == 3 and b["monthly_volume"] == pytest.approx(4 / 3)
    # resolution: 10 h and 24 h (the third resolved before it was created)
    assert b["median_resolution_hours"] == pytest.approx(17.0)
    assert b["mean_resolution_hours"] == pytest.approx(17.0)
    # first response: 1 h, 0.5 h, 2 h, 10 min
    assert b["median_first_response_hours"] == pytest.approx(0.75)
    assert b["mean_first_response_hours"] == pytest.approx((1 + 0.5 + 2 + 1 / 6) / 4)
    assert b["csat_mean"] == pytest.approx(3.0)  # 9 is outside 1-5 and ignored
    assert b["csat_responses"] == 3 and b["resolved"] == 3
    assert b["csat_response_rate"] == pytest.approx(1.0)
    billing = b["by_category"]["Billing"]
    assert (billing["tickets"], billing["median_resolution_hours"], billing["csat_mean"]) == (
        2,
        pytest.approx(17.0),
        pytest.approx(4.0),
    )
    assert billing["monthly_volume"] == pytest.approx(2 / 3)
    assert b["by_category"]["(untagged)"]["tickets"] == 1
    assert set(b["by_channel"]) == {"email", "chat", "web", "(none)"}


def test_an_empty_store_gives_empty_baselines() -> None:
    b = business_baselines(_store([]))
    assert b["tickets"] == 0 and b["monthly"] == [] and b["monthly_volume"] == 0.0
    assert b["median_resolution_hours"] is None and b["by_category"] == {}


def _hours(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_seconds() / 3600


def test_baselines_match_the_generated_files(loaded, store) -> None:
    history, cfg = loaded
    b = business_baselines(store, labels=tagged_labels(cfg.taxonomy))
    # Independent computation from the generator's tickets.csv with polars.
    loaded_at = store.execute("SELECT max(loaded_at) FROM canonical.tickets").fetchall()[0][0]
    ts = {
        c: pl.col(c).str.to_datetime(strict=False, time_zone=None)
        for c in ("created_at", "first_response_at", "resolved_at")
    }
    raw = (
        pl.read_csv(history.tickets_path, infer_schema=False)
        .with_columns(
            **{
                c: pl.coalesce(e, pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", strict=False))
                for c, e in ts.items()
            },
            csat=pl.col("csat").cast(pl.Int64),
        )
        .filter(pl.col("created_at").is_not_null() & (pl.col("created_at") <= loaded_at))
    )
    assert b["tickets"] == raw.height

    res = raw.select(_hours(pl.col("resolved_at"), pl.col("created_at")).alias("h")).filter(
        pl.col("h") >= 0
    )["h"]
    frt = raw.select(_hours(pl.col("first_response_at"), pl.col("created_at")).alias("h")).filter(
        pl.col("h") >= 0
    )["h"]
    assert b["median_resolution_hours"] == pytest.approx(res.median(), rel=1e-9)
    assert b["mean_resolution_hours"] == pytest.approx(res.mean(), rel=1e-9)
    assert b["median_first_response_hours"] == pytest.approx(frt.median(), rel=1e-9)
    assert b["csat_mean"] == pytest.approx(raw["csat"].drop_nulls().mean(), rel=1e-9)

    # Which months are complete depends on the load time (the code's clock), never on today's
    # date: future-dated defects created before the load make later months count.
    by_month = raw.group_by(pl.col("created_at").dt.truncate("1mo").dt.date().alias("m")).len()
    span = pl.date_range(by_month["m"].min(), by_month["m"].max(), "1mo", eager=True).alias("m")
    months = pl.DataFrame(span).join(by_month, on="m", how="left").fill_null(0)
    complete = months.filter(pl.col("m").dt.offset_by("1mo") <= loaded_at.date()).tail(12)
    assert b["recent_months"] == complete.height
    assert b["monthly_volume"] == pytest.approx(complete["len"].sum() / complete.height)
    label = (
        pl.when(pl.col("category") != "").then(pl.col("category")).otherwise(pl.lit("(untagged)"))
    )
    by_cat = raw.group_by(label.alias("category")).len()
    assert {r["category"]: r["len"] for r in by_cat.iter_rows(named=True)} == {
        k: v["tickets"] for k, v in b["by_category"].items()
    }
