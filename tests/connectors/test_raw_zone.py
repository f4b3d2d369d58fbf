"""The raw zone of file sources: kept copies read through `raw.<source>`, in step with canonical."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.ingest import ingest_config
from tests.connectors.test_files import GOOD, HEADER, _config, _write_csv
from ticket_audit.config import load_config
from ticket_audit.store import open_store


def _quiet(cfg, **kw):
    return ingest_config(cfg, progress=lambda _m: None, **kw)


def _kept_files(cfg) -> list[Path]:
    db = Path(cfg.duckdb_path).resolve()
    return sorted(p for p in db.with_name(db.name + ".raw").rglob("*") if p.is_file())


def test_raw_rows_match_canonical_rows_around_bad_lines(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", [[*r, ""] for r in GOOD], [*HEADER, "note"])
    with path.open("ab") as fh:
        # a bad byte in a column the mapping does not read, a malformed line, then a good row
        fh.write(b"T4,2024-01-01,,Billing,P1,s,b,,,\r\n")
        fh.write("T5,2024-01-01,,Billing,P1,s,b,,,caf\xe9\r\n".encode("latin-1"))
        fh.write(b"T6,2024-01-01,,a,b,c,d,e,f,g,h,i\r\n")
        fh.write(b"T7,2024-01-02,,Billing,P1,s,b,,,\r\n")
    cfg = load_config(_config(tmp_path, "t.csv"))
    report = _quiet(cfg)
    totals = report.totals()
    assert totals["rows_read"] == totals["rows_loaded"] + totals["rows_quarantined"]
    with open_store(cfg.duckdb_path) as con:
        pairs = con.execute(
            """SELECT r._row_number, r.id, c.ticket_id FROM raw.desk r
            LEFT JOIN canonical.tickets c ON c.row_number = r._row_number
            ORDER BY r._row_number"""
        ).fetchall()
        quarantined = con.execute("SELECT row_number FROM raw.quarantine").fetchall()
    # every raw row that loaded is the canonical row with its number
    assert all(c is None or rid == c for _, rid, c in pairs)
    loaded = [rid for _, rid, c in pairs if c is not None]
    assert loaded == ["T1", "T2", "T3", "T4", "T7"]
    assert len(quarantined) == totals["rows_quarantined"] >= 2


def test_raw_zone_outlives_the_export_and_a_reload_replaces_its_copy(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", GOOD)
    cfg = load_config(_config(tmp_path, "t.csv"))
    _quiet(cfg)
    first = _kept_files(cfg)
    assert len(first) == 1 and first[0].read_bytes() == path.read_bytes()

    path.unlink()  # the export is gone: the raw zone still answers
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM raw.desk").fetchone()[0] == 3

    _write_csv(path, GOOD[:2])
    _quiet(cfg)
    second = _kept_files(cfg)
    assert len(second) == 1 and second != first  # the replaced copy is pruned
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM raw.desk").fetchone()[0] == 2
        lineage = con.execute("SELECT DISTINCT _source, _origin, _load_id FROM raw.desk").fetchall()
        (load_id,) = con.execute(
            "SELECT load_id FROM audit.load_log ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    assert lineage == [("desk", str(path), load_id)]


def test_two_exports_of_one_source_union_by_column_name(tmp_path: Path) -> None:
    _write_csv(tmp_path / "in" / "a.csv", GOOD[:1])
    header = ["id", "opened", "closed", "queue", "prio", "title", "body", "labels", "score", "new"]
    _write_csv(tmp_path / "in" / "b.csv", [[*GOOD[1], "extra"]], header)
    cfg = load_config(_config(tmp_path, "in/*.csv"))
    _quiet(cfg)
    with open_store(cfg.duckdb_path) as con:
        rows = con.execute("SELECT id, new FROM raw.desk ORDER BY id").fetchall()
    assert rows == [("T1", None), ("T2", "extra")]  # schema drift: a new column reads NULL


def test_a_load_that_fails_after_the_copy_keeps_no_copy(tmp_path: Path, monkeypatch) -> None:
    path = _write_csv(tmp_path / "t.csv", GOOD)
    cfg = load_config(_config(tmp_path, "t.csv"))
    _quiet(cfg)
    before = _kept_files(cfg)
    _write_csv(path, GOOD[:1])

    def crash(*_a, **_k):
        raise RuntimeError("disk went away")

    monkeypatch.setattr("connectors.file_loader._column_messages", crash)
    with pytest.raises(RuntimeError, match="disk went away"):
        _quiet(cfg)
    assert _kept_files(cfg) == before  # the new copy is gone, the committed one stays
    with open_store(cfg.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM raw.desk").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM canonical.tickets").fetchone()[0] == 3
