"""File sources: every row is loaded or quarantined with a reason; re-runs never duplicate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from connectors.errors import IngestError, SourceUnavailableError
from connectors.ingest import ingest_config
from tests.conftest import write_config
from ticket_audit.config import load_config
from ticket_audit.store import open_store

HEADER = ["id", "opened", "closed", "queue", "prio", "title", "body", "labels", "score"]
GOOD = [
    [
        "T1",
        "2024-01-05 10:00:00",
        "2024-01-05 12:00:00",
        "Billing",
        "P1",
        "Refund",
        "Money back please",
        "a;b",
        "5",
    ],
    ["T2", "2024-02-10T08:30:00Z", "", "Account", "P3", "Login", "Cannot log in", "", ""],
    ["T3", "2024-02-11", "2024-02-12 09:00:00", "", "P2", "Other", "Something", "x", "3.0"],
]


def _config(tmp_path: Path, path: str, fmt: str | None = None, **source) -> Path:
    mapping = {
        "fields": {
            "ticket_id": "id",
            "created_at": "opened",
            "resolved_at": "closed",
            "category": "queue",
            "priority": "prio",
            "subject": "title",
            "description": "body",
            "tags": "labels",
            "csat": "score",
        },
        "value_maps": {"priority": {"P1": "urgent", "P2": "high", "P3": "normal"}},
        "tags_separator": ";",
        "messages": {
            "from_columns": [
                {"column": "body", "author_role": "customer", "created_at": "created_at"}
            ]
        },
    }
    src = {"name": "desk", "kind": "file", "path": path, "mapping": mapping, **source}
    if fmt:
        src["format"] = fmt
    data = {
        "audit": {"duckdb_path": "audit.duckdb", "output_dir": "out"},
        "ingest": {"max_text_bytes": 1_048_576},
        "sources": [src],
    }
    return write_config(tmp_path, data)


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _tickets(cfg) -> pl.DataFrame:
    with open_store(cfg.duckdb_path) as con:
        return con.sql("SELECT * FROM canonical.tickets ORDER BY ticket_id").pl()


def _quarantine(cfg) -> list[tuple]:
    with open_store(cfg.duckdb_path) as con:
        return con.execute(
            "SELECT row_number, field, reason FROM raw.quarantine ORDER BY row_number"
        ).fetchall()


def _load(tmp_path: Path, rows: list[list[str]], **kw):
    _write_csv(tmp_path / "t.csv", rows)
    cfg = load_config(_config(tmp_path, "t.csv", **kw))
    return cfg, ingest_config(cfg, progress=lambda _m: None)


def test_clean_csv_maps_every_field(tmp_path: Path) -> None:
    cfg, report = _load(tmp_path, GOOD)
    assert report.totals() == {"rows_read": 3, "rows_loaded": 3, "rows_quarantined": 0}
    df = _tickets(cfg)
    t1, t2, t3 = df.to_dicts()
    assert t1["priority"] == "urgent" and t2["priority"] == "normal"
    assert t1["tags"] == ["a", "b"] and t2["tags"] == []
    assert t1["csat"] == 5 and t3["csat"] == 3 and t2["csat"] is None
    assert str(t2["created_at"]) == "2024-02-10 08:30:00"
    assert t3["category"] is None  # empty strings become NULL
    assert str(t1["created_month"]) == "2024-01-01"
    assert [t["row_number"] for t in (t1, t2, t3)] == [1, 2, 3]
    assert t1["origin"].endswith("t.csv") and t1["source"] == "desk"
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM canonical.messages").fetchone()[0] == 3
        raw = con.execute(
            'SELECT "body", _row_number FROM raw.desk ORDER BY _row_number'
        ).fetchall()
    assert raw[0] == ("Money back please", 1)


def test_unparseable_timestamp_and_bad_integer_are_quarantined(tmp_path: Path) -> None:
    rows = [
        *GOOD,
        ["T4", "31/13/2024 25:61", "", "Billing", "P1", "s", "b", "", ""],
        ["T5", "2024-03-01", "not a date", "Billing", "P1", "s", "b", "", ""],
        ["T6", "2024-03-01", "", "Billing", "P1", "s", "b", "", "excellent"],
    ]
    cfg, report = _load(tmp_path, rows)
    assert report.totals() == {"rows_read": 6, "rows_loaded": 3, "rows_quarantined": 3}
    q = _quarantine(cfg)
    assert [(r[0], r[1]) for r in q] == [(4, "created_at"), (5, "resolved_at"), (6, "csat")]
    assert "cannot parse the value as timestamp (column opened)" in q[0][2]
    assert "31/13" not in q[0][2]  # reasons name the field, not the value


def test_missing_ticket_id_and_duplicate_ids(tmp_path: Path) -> None:
    rows = [
        *GOOD,
        ["", "2024-03-01", "", "", "", "", "", "", ""],
        ["T1", "2024-03-02", "", "", "", "", "", "", ""],
    ]
    cfg, report = _load(tmp_path, rows)
    assert report.totals()["rows_quarantined"] == 2
    reasons = [r[2] for r in _quarantine(cfg)]
    assert reasons == [
        "ticket_id: missing",
        "ticket_id: duplicate of an earlier row in the same origin",
    ]


def test_malformed_csv_line_is_quarantined_with_line_number(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", GOOD)
    with path.open("a") as fh:
        fh.write("T9,2024-01-01,,x,P1,too,many,columns,here,extra,more\r\n")
        fh.write("T10,2024-01-01,,Billing,P1,ok,fine,,\r\n")
    cfg = load_config(_config(tmp_path, "t.csv"))
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 5, "rows_loaded": 4, "rows_quarantined": 1}
    (row,) = _quarantine(cfg)
    assert row[0] == 5 and "malformed CSV" in row[2] and "line 5" in row[2]


def test_non_utf8_lines_are_quarantined_and_encoding_option_reads_them(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", GOOD)
    with path.open("ab") as fh:
        fh.write("T7,2024-01-01,,Billing,P1,Caf\xe9,cr\xe8me br\xfbl\xe9e,,\r\n".encode("latin-1"))
    cfg = load_config(_config(tmp_path, "t.csv"))
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 4, "rows_loaded": 3, "rows_quarantined": 1}
    assert "invalid encoding" in _quarantine(cfg)[0][2]

    cfg = load_config(_config(tmp_path / "latin", str(path), encoding="latin-1"))
    ingest_config(cfg, progress=lambda _m: None)
    assert "crème brûlée" in _tickets(cfg).filter(pl.col("ticket_id") == "T7")["description"][0]


def test_two_megabyte_body_is_quarantined_naming_the_field(tmp_path: Path) -> None:
    huge = "x" * (2 * 1024 * 1024)
    cfg, report = _load(tmp_path, [*GOOD, ["T8", "2024-01-01", "", "", "", "s", huge, "", ""]])
    assert report.totals() == {"rows_read": 4, "rows_loaded": 3, "rows_quarantined": 1}
    (row,) = _quarantine(cfg)
    assert row[1] == "description" and "2097152 bytes, over ingest.max_text_bytes" in row[2]
    with open_store(cfg.duckdb_path) as con:  # loses nothing: the raw zone keeps it
        (kept,) = con.execute("SELECT strlen(record) FROM raw.quarantine").fetchone()
    assert kept > 2 * 1024 * 1024


def test_missing_mapped_column_stops_with_file_and_column(tmp_path: Path) -> None:
    _write_csv(tmp_path / "t.csv", [r[:-1] for r in GOOD], HEADER[:-1])
    cfg = load_config(_config(tmp_path, "t.csv"))
    with pytest.raises(
        IngestError, match=r"t\.csv: mapped column\(s\) \['score'\] not in the file"
    ):
        ingest_config(cfg, progress=lambda _m: None)


def test_empty_and_absent_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("")
    cfg = load_config(_config(tmp_path, "t.csv"))
    with pytest.raises(IngestError, match=r"t\.csv: file is empty"):
        ingest_config(cfg, progress=lambda _m: None)
    cfg = load_config(_config(tmp_path, "absent.csv"))
    with pytest.raises(SourceUnavailableError, match="source 'desk': no file found"):
        ingest_config(cfg, progress=lambda _m: None)


def test_header_only_file_loads_nothing(tmp_path: Path) -> None:
    cfg, report = _load(tmp_path, [])
    assert report.totals() == {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}


def test_rerun_is_idempotent_and_changed_file_replaces_its_rows(tmp_path: Path) -> None:
    cfg, _ = _load(tmp_path, GOOD)
    before = _tickets(cfg).drop("loaded_at", "load_id")
    skipped = ingest_config(cfg, progress=lambda _m: None)
    assert skipped.origins[0].skipped_unchanged
    ingest_config(cfg, progress=lambda _m: None, force=True)
    assert _tickets(cfg).drop("loaded_at", "load_id").equals(before)
    _write_csv(tmp_path / "t.csv", GOOD[:2])  # T3 removed from the export
    ingest_config(cfg, progress=lambda _m: None)
    assert _tickets(cfg)["ticket_id"].to_list() == ["T1", "T2"]
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM raw.desk").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM canonical.messages").fetchone()[0] == 2


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_jsonl_and_parquet_load_like_csv(tmp_path: Path, fmt: str) -> None:
    df = pl.DataFrame([dict(zip(HEADER, r, strict=True)) for r in GOOD])
    path = tmp_path / f"t.{fmt}"
    df.write_ndjson(path) if fmt == "jsonl" else df.write_parquet(path)
    cfg = load_config(_config(tmp_path, path.name))
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals()["rows_loaded"] == 3
    csv_cfg, _ = _load(tmp_path / "csv", GOOD)
    cols = ["ticket_id", "created_at", "resolved_at", "priority", "tags", "csat", "description"]
    assert _tickets(cfg).select(cols).equals(_tickets(csv_cfg).select(cols))


def test_malformed_jsonl_line_is_quarantined(tmp_path: Path) -> None:
    lines = [json.dumps(dict(zip(HEADER, r, strict=True))) for r in GOOD]
    lines.insert(1, '{"id": "T9", "opened": ')
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    cfg = load_config(_config(tmp_path, "t.jsonl"))
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 4, "rows_loaded": 3, "rows_quarantined": 1}
    assert _quarantine(cfg)[0][:1] == (2,) and "not a JSON object" in _quarantine(cfg)[0][2]


def test_generated_history_accounts_for_every_row(history_config, small_history) -> None:
    report = ingest_config(history_config, progress=lambda _m: None)
    manifest = small_history.manifest()
    t, m = report.totals("tickets"), report.totals("messages")
    assert t["rows_read"] == manifest["tickets_written"]
    assert t["rows_quarantined"] == manifest["expected_quarantined"]
    assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"]
    assert (
        m["rows_read"] == manifest["messages_written"] == m["rows_loaded"] + m["rows_quarantined"]
    )
    with open_store(history_config.duckdb_path) as con:
        orphans = con.execute(
            "SELECT count(*) FROM raw.quarantine WHERE reason LIKE 'ticket_id: no loaded ticket%'"
        ).fetchone()[0]
        loaded_ids = {
            r[0] for r in con.execute("SELECT ticket_id FROM canonical.tickets").fetchall()
        }
    truth = small_history.truth()
    bad_ids = set(truth.filter(pl.col("invalid_timestamp") == 1)["ticket_id"])
    assert loaded_ids.isdisjoint(bad_ids) and len(loaded_ids) == len(truth) - len(bad_ids)
    assert orphans > 0  # the quarantined tickets' messages are quarantined too, not dropped
