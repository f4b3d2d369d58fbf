"""Values a real export holds that no stage may crash on: numbers beyond the canonical INTEGER,
NaN and infinities, dates outside what the later stages' nanosecond timestamps hold. Each is
a quarantined row with a reason naming the field, never an exception carrying the value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.connectors.helpers import balanced, config, query

INTEGER_RANGE = "csat: number outside the 32-bit integer range, NaN or infinite"
DATE_RANGE = "date outside the supported range 1677-09-22..2262-04-11"
OUT_OF_RANGE_NUMBERS = ["1e10", "NaN", "inf", "-inf", "2147483648", "-2147483649", "4915112345678"]
OUT_OF_RANGE_DATES = ["9999-12-31 23:59:59", "2300-01-01", "1600-01-01", "0001-01-01"]
MAPPING = {
    "fields": {
        "ticket_id": "id",
        "created_at": "opened",
        "resolved_at": "closed",
        "csat": "score",
        "description": "body",
    }
}


def _source(path: str) -> dict:
    return {"name": "desk", "kind": "file", "path": path, "mapping": MAPPING}


def _rows() -> list[dict[str, str]]:
    rows = [{"id": "OK1", "opened": "2024-01-05", "closed": "", "score": "5", "body": "fine"}]
    for i, value in enumerate(OUT_OF_RANGE_NUMBERS):
        rows.append(
            {"id": f"N{i}", "opened": "2024-01-05", "closed": "", "score": value, "body": "b"}
        )
    for i, value in enumerate(OUT_OF_RANGE_DATES):
        rows.append({"id": f"C{i}", "opened": value, "closed": "", "score": "", "body": "b"})
        rows.append(
            {"id": f"R{i}", "opened": "2024-01-05", "closed": value, "score": "", "body": "b"}
        )
    rows.append({"id": "OK2", "opened": "2262-04-10", "closed": "", "score": "-3", "body": "b"})
    rows.append({"id": "OK3", "opened": "1677-09-23", "closed": "", "score": "2.0", "body": "b"})
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    if path.suffix == ".csv":
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_out_of_range_numbers_and_dates_are_quarantined_with_their_field(
    tmp_path: Path, suffix: str
) -> None:
    rows = _rows()
    _write(tmp_path / f"t{suffix}", rows)
    cfg = config(tmp_path, _source(f"t{suffix}"))
    report = ingest_config(cfg, progress=lambda _m: None)  # no exception, whatever the values
    bad = len(OUT_OF_RANGE_NUMBERS) + 2 * len(OUT_OF_RANGE_DATES)
    assert report.totals() == {
        "rows_read": len(rows),
        "rows_loaded": len(rows) - bad,
        "rows_quarantined": bad,
    }
    assert balanced(cfg)
    reasons = dict(query(cfg, "SELECT row_number, reason FROM raw.quarantine"))
    for n, row in enumerate(rows, start=1):
        if row["id"].startswith("N"):
            assert reasons[n].startswith(INTEGER_RANGE), reasons[n]
        elif row["id"].startswith("C"):
            assert reasons[n] == f"created_at: {DATE_RANGE} (column opened)"
        elif row["id"].startswith("R"):
            assert reasons[n] == f"resolved_at: {DATE_RANGE} (column closed)"
        else:
            assert n not in reasons
    for reason in reasons.values():  # the reason names the field, never the value
        assert not any(v in reason for v in ["1e10", "2147483648", "4915112345678", "9999-12"])
    loaded = dict(query(cfg, "SELECT ticket_id, csat FROM canonical.tickets"))
    assert loaded == {"OK1": 5, "OK2": -3, "OK3": 2}
    (span,) = query(
        cfg,
        "SELECT min(least(created_at, coalesce(resolved_at, created_at))), "
        "max(greatest(created_at, coalesce(resolved_at, created_at))) FROM canonical.tickets",
    )
    # Every loaded timestamp converts to the nanoseconds later stages (pandas, GX) use.
    import pandas as pd

    assert pd.Timestamp(span[0]) <= pd.Timestamp(span[1])


def test_out_of_range_message_dates_are_quarantined(tmp_path: Path) -> None:
    _write(tmp_path / "t.csv", _rows()[:1])
    msgs = [
        {"ticket": "OK1", "n": "0", "role": "customer", "at": "2024-01-05", "text": "hi"},
        {"ticket": "OK1", "n": "1", "role": "agent", "at": "9999-12-31 23:59:59", "text": "x"},
        {"ticket": "OK1", "n": "99999999999", "role": "agent", "at": "2024-01-06", "text": "y"},
    ]
    _write(tmp_path / "m.csv", msgs)
    source = _source("t.csv")
    source["mapping"] = {
        **MAPPING,
        "messages": {
            "file": {
                "path": "m.csv",
                "fields": {
                    "ticket_id": "ticket",
                    "seq": "n",
                    "author_role": "role",
                    "created_at": "at",
                    "body": "text",
                },
            }
        },
    }
    cfg = config(tmp_path, source)
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals("messages") == {"rows_read": 3, "rows_loaded": 1, "rows_quarantined": 2}
    reasons = dict(query(cfg, "SELECT row_number, reason FROM raw.quarantine"))
    assert reasons[2] == f"created_at: {DATE_RANGE} (column at)"
    assert reasons[3].startswith("seq: ")


def test_a_duckdb_error_in_a_load_leaves_without_the_value() -> None:
    import duckdb

    from connectors.errors import LoadFailed, values_withheld

    canary = "jane.canary@example.org"
    with pytest.raises(LoadFailed) as info, values_withheld("source 'desk', t.csv"):
        duckdb.sql(f"SELECT CAST('{canary}' AS INTEGER)").fetchall()
    err = info.value
    assert "source 'desk', t.csv" in str(err) and "ConversionException" in str(err)
    assert canary not in str(err)
    assert err.__cause__ is None and err.__suppress_context__  # no chained DuckDB message
