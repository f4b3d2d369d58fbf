"""The mapping forms of DESIGN.md "Mapping real exports" on small hand-made files.

Constants, generated ids, several columns into one list, one-hot labels (multi-label tickets
kept, never given a wrong single label), spreadsheets and per-file mappings. Expected counts
are made here from the same files with the csv module or polars, not copied from a run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl
import pytest

from connectors.ingest import ingest_config
from tests.conftest import write_config
from ticket_audit.config import ConfigError, load_config

ROWS = [
    # subject, tag_1, tag_2, tag_3, billing, shipping, login, solved_at, closed_at
    ["Invoice", "vip", "", "refund", "1", "0", "0", "2024-06-03 10:00:00", ""],
    ["Parcel", "", "", "", "0", "1.0", "1", "", "2024-06-05 09:00:00"],
    ["Password", "web", "web", "", "0", "0", "1", "", ""],
    ["Unknown", "", "", "", "0", "maybe", "0", "", ""],
    ["Nothing", "", "x", "", "", "", "", "", ""],
    ["Card", "", "", "app", "yes", "", "", "2024-06-02", ""],
]
HEADER = ["subject", "tag_1", "tag_2", "tag_3", "billing", "shipping", "login"]
HEADER += ["solved_at", "closed_at"]


def _mapping() -> dict:
    return {
        "fields": {
            "ticket_id": {"row_number": True},
            "created_at": {"value": "2024-06-01"},
            "channel": {"value": "social"},
            "subject": "subject",
            "tags": {"columns": ["tag_1", "tag_2", "tag_3"]},
            "category": {"one_hot": ["billing", "shipping", "login"]},
            "resolved_at": ["solved_at", "closed_at"],
        }
    }


def _write_csv(path: Path) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(ROWS)
    return path


def _tickets(cfg) -> pl.DataFrame:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        return con.sql("SELECT * FROM canonical.tickets ORDER BY row_number").pl()
    finally:
        con.close()


def _quarantine(cfg) -> list[tuple[int, str]]:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        return con.execute("SELECT row_number, reason FROM raw.quarantine ORDER BY 1").fetchall()
    finally:
        con.close()


def _config(tmp_path: Path, sources: list[dict], **extra) -> Path:
    return write_config(
        tmp_path,
        {
            "audit": {"duckdb_path": str(tmp_path / "a.duckdb"), "output_dir": str(tmp_path / "o")},
            "sources": sources,
            **extra,
        },
    )


@pytest.fixture
def loaded(tmp_path: Path):
    data = _write_csv(tmp_path / "export.csv")
    cfg = load_config(
        _config(tmp_path, [{"name": "s", "kind": "file", "path": str(data), "mapping": _mapping()}])
    )
    report = ingest_config(cfg, progress=lambda _m: None)
    return cfg, report, data


def _one_hot_counts(path: Path) -> dict[str, int]:
    """By hand: which rows set one label, several, none, or hold a value that is not 0/1."""
    out = {"single": 0, "multi": 0, "none": 0, "bad": 0}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            cells = [row[c].strip().lower() for c in ("billing", "shipping", "login")]
            if any(c not in ("", "0", "1", "1.0", "0.0", "yes", "no") for c in cells):
                out["bad"] += 1
                continue
            n = sum(c in ("1", "1.0", "yes") for c in cells)
            out["single" if n == 1 else "multi" if n > 1 else "none"] += 1
    return out


def test_constants_row_ids_and_rows_accounted(loaded) -> None:
    cfg, report, data = loaded
    t = _tickets(cfg)
    with data.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    counts = _one_hot_counts(data)
    totals = report.totals()
    assert totals["rows_read"] == len(rows)
    assert totals["rows_loaded"] + totals["rows_quarantined"] == len(rows)
    assert totals["rows_quarantined"] == counts["bad"]
    # Every loaded ticket carries the constants.
    assert t["channel"].to_list() == ["social"] * t.height
    assert {str(v) for v in t["created_at"].to_list()} == {"2024-06-01 00:00:00"}
    # Ids: <source>-<file>-<row number>, unique, the row number of the data row.
    assert t["ticket_id"].to_list() == [f"s-{data.name}-{n}" for n in t["row_number"].to_list()]
    assert t["ticket_id"].n_unique() == t.height


def test_several_columns_become_one_list_without_empty_cells(loaded) -> None:
    cfg, _, data = loaded
    t = _tickets(cfg)
    with data.open(newline="") as fh:
        by_row = {
            i: [r[c].strip() for c in ("tag_1", "tag_2", "tag_3") if r[c].strip()]
            for i, r in enumerate(csv.DictReader(fh), start=1)
        }
    got = dict(zip(t["row_number"].to_list(), t["tags"].to_list(), strict=True))
    assert got == {n: by_row[n] for n in got}
    assert sum(len(v) for v in got.values()) == sum(len(by_row[n]) for n in got)


def test_one_hot_labels_keep_multi_label_tickets_without_a_wrong_label(loaded) -> None:
    cfg, _, data = loaded
    t = _tickets(cfg)
    counts = _one_hot_counts(data)
    n_labels = t["labels"].list.len()
    assert (n_labels == 1).sum() == counts["single"]
    assert (n_labels > 1).sum() == counts["multi"]
    assert (n_labels == 0).sum() == counts["none"]
    # One label: that label is the category. Several: kept, flagged by `labels`, no category.
    single = t.filter(n_labels == 1)
    assert single["category"].to_list() == single["labels"].list.first().to_list()
    assert t.filter(n_labels != 1)["category"].null_count() == counts["multi"] + counts["none"]
    multi = t.filter(n_labels > 1).row(0, named=True)
    assert multi["labels"] == ["shipping", "login"]
    (reason,) = [r for _, r in _quarantine(cfg)]
    assert reason.startswith("category: one-hot column shipping holds maybe")


def test_plain_list_still_means_first_non_empty(loaded) -> None:
    cfg, _, data = loaded
    t = _tickets(cfg)
    with data.open(newline="") as fh:
        expected = {
            i: (r["solved_at"] or r["closed_at"] or None)
            for i, r in enumerate(csv.DictReader(fh), start=1)
        }
    for n, got in zip(t["row_number"].to_list(), t["resolved_at"].to_list(), strict=True):
        want = expected[n]
        assert (got is None) == (want is None)
        if want:
            assert str(got).startswith(want[:10])


def test_spreadsheet_and_per_file_mappings(tmp_path: Path) -> None:
    """Two spreadsheets of one export whose label columns differ, each with its own mapping."""
    a = pl.DataFrame(
        {"id": ["a1", "a2", "a3"], "when": ["2024-01-02"] * 3, "text": ["x", "y", "z"]}
        | {"Refund": ["1", "0", "1"], "Delivery": ["0", "1", "1"]}
    )
    b = pl.DataFrame(
        {"key": ["b1", "b2"], "text": ["p", "q"], "iPhone": [1, 0], "iCloud": [0, 0]}
    )  # numbers, as spreadsheets hold them
    a.write_excel(tmp_path / "amazon.xlsx", worksheet="tickets")
    b.write_excel(tmp_path / "apple.xlsx")
    fields_a = {
        "ticket_id": "id",
        "created_at": "when",
        "team": {"value": "AmazonHelp"},
        "description": "text",
        "category": {"one_hot": ["Refund", "Delivery"]},
    }
    fields_b = {
        "ticket_id": "key",
        "created_at": {"value": "2024-02-01"},
        "team": {"value": "AppleSupport"},
        "description": "text",
        "category": {"one_hot": ["iPhone", "iCloud"]},
    }
    cfg = load_config(
        _config(
            tmp_path,
            [
                {
                    "name": "brands",
                    "kind": "file",
                    "files": [
                        {
                            "path": "amazon.xlsx",
                            "sheet": "tickets",
                            "mapping": {"fields": fields_a},
                        },
                        {"path": "apple.xlsx", "mapping": {"fields": fields_b}},
                    ],
                }
            ],
        )
    )
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 5, "rows_loaded": 5, "rows_quarantined": 0}
    t = _tickets(cfg).sort("ticket_id")
    assert t["ticket_id"].to_list() == ["a1", "a2", "a3", "b1", "b2"]
    assert t["category"].to_list() == ["Refund", "Delivery", None, "iPhone", None]
    assert t["labels"].to_list() == [
        ["Refund"],
        ["Delivery"],
        ["Refund", "Delivery"],
        ["iPhone"],
        [],
    ]
    assert t["team"].to_list() == ["AmazonHelp"] * 3 + ["AppleSupport"] * 2
    # A sheet that is not there is named, with the sheets that are.
    cfg.sources[0].files[0].sheet = "nope"
    with pytest.raises(Exception, match=r"no sheet named 'nope'; sheets present: \['tickets'\]"):
        ingest_config(cfg, progress=lambda _m: None, force=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ticket_id": {"value": "x"}}, "fields.ticket_id.value: a constant id"),
        ({"ticket_id": "id", "created_at": {"value": "June"}}, "fields.created_at.value: 'June'"),
        ({"ticket_id": {"row_number": False}}, "fields.ticket_id.row_number: must be true"),
        ({"ticket_id": "id", "team": {"row_number": True}}, "fields.team.row_number: only"),
        ({"ticket_id": "id", "category": {"columns": ["a", "b"]}}, "fields.category.columns:"),
        ({"ticket_id": "id", "tags": {"columns": []}}, "fields.tags.columns"),
        ({"ticket_id": "id", "created_at": {"one_hot": ["a"]}}, "fields.created_at.one_hot:"),
        ({"ticket_id": "id", "category": {"one_hot": "a"}}, "fields.category.one_hot:"),
        ({"ticket_id": "id", "category": {"onehot": ["a"]}}, "fields.category: ['onehot']"),
        ({"ticket_id": "id", "category": {"value": "a", "columns": ["b"]}}, "fields.category:"),
        ({"ticket_id": "id", "csat": {"value": "great"}}, "fields.csat.value: 'great'"),
        ({"ticket_id": "id", "tags": 5}, "fields.tags: give a column name"),
    ],
)
def test_misused_forms_are_config_errors_naming_the_key(tmp_path, fields, message) -> None:
    fields = {"created_at": "c", **fields}
    path = _config(
        tmp_path, [{"name": "s", "kind": "file", "path": "x.csv", "mapping": {"fields": fields}}]
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    # Reported as "sources[0].mapping.fields: <key>..." or "sources[0].mapping: fields.<key>...".
    text = str(err.value).replace("mapping.fields: ", "mapping: fields.")
    assert f"sources[0].mapping: {message}" in text


def test_row_numbers_are_for_file_sources_only(tmp_path) -> None:
    path = _config(
        tmp_path,
        [
            {
                "name": "db",
                "kind": "postgres",
                "database": "d",
                "table": "t",
                "mapping": {"fields": {"ticket_id": {"row_number": True}, "created_at": "c"}},
            }
        ],
    )
    with pytest.raises(ConfigError, match=r"ticket_id: \{row_number: true\} is for file sources"):
        load_config(path)


def test_files_and_path_are_exclusive(tmp_path) -> None:
    m = {"fields": {"ticket_id": "id", "created_at": "c"}}
    path = _config(
        tmp_path,
        [
            {
                "name": "s",
                "kind": "file",
                "path": "a.csv",
                "files": [{"path": "b.csv"}],
                "mapping": m,
            }
        ],
    )
    with pytest.raises(ConfigError, match="give exactly one of `path` or `files`"):
        load_config(path)
