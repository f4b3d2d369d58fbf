"""Behaviour every database source shares; test_postgres.py and test_mysql.py run these
against the real servers of this machine (each module provides the `kind` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.errors import IngestError, SourceUnavailableError
from connectors.ingest import ingest_config
from tests.connectors.helpers import balanced, config, cursor, no_duplicates, query, tickets
from tests.connectors.sql_tables import source, tables, ticket_rows

pytestmark = pytest.mark.services


@pytest.fixture
def db(kind: str):
    with tables(kind) as t:
        t.insert(ticket_rows(25))
        yield t


def _load(cfg, force: bool = False):
    return ingest_config(cfg, progress=lambda _m: None, force=force)


def test_table_loads_in_chunks_with_typed_values(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db), batch_rows=10)
    report = _load(cfg)
    assert report.totals() == {"rows_read": 25, "rows_loaded": 25, "rows_quarantined": 0}
    assert report.totals("messages") == {"rows_read": 50, "rows_loaded": 50, "rows_quarantined": 0}
    # Three chunks of at most ten rows, each its own transaction and load-log row.
    assert query(cfg, "SELECT rows_read FROM audit.load_log WHERE kind = 'tickets'") == [
        (10,),
        (10,),
        (5,),
    ]
    t1 = tickets(cfg)[0]
    assert t1["ticket_id"] == "T0001" and str(t1["created_at"]) == "2024-03-01 09:00:00"
    assert str(t1["updated_at"]) == "2024-03-01 09:30:00"
    assert t1["priority"] == "high" and t1["tags"] == ["vip", "t1"] and t1["csat"] == 2
    assert t1["customer_id"] != "cust1@example.com" and len(t1["customer_id"]) == 16
    assert t1["origin"].endswith(f"/test/{db.tickets}") and t1["deleted_at"] is None
    msgs = query(
        cfg,
        "SELECT seq, author_role, body FROM canonical.messages WHERE ticket_id = 'T0001' "
        "ORDER BY seq",
    )
    assert msgs == [(0, "customer", "Body of ticket 1"), (1, "agent", "Reply 1")]
    stored = json.loads(cursor(cfg, kind_source := "helpdesk_db"))
    assert (
        stored["key"] == "T0025"
        and stored["complete"]
        and stored["cursor"].startswith("2024-03-02 09:30:00")
    )
    assert kind_source and balanced(cfg) and no_duplicates(cfg)


def test_rerun_reads_changes_only_and_upserts(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db), batch_rows=10)
    _load(cfg)
    later = "2024-06-01 12:00:00"
    db.execute(
        "UPDATE {t} SET subject = 'Changed', updated_at = %s WHERE ticket_id IN ('T0003', 'T0007')",
        [later],
    )
    db.execute(
        "UPDATE {t} SET is_deleted = true, updated_at = %s WHERE ticket_id = 'T0005'", [later]
    )
    db.execute("UPDATE {m} SET text = 'Edited reply' WHERE ticket_id = 'T0003' AND position = 1")
    db.insert(ticket_rows(1, start=26))
    db.execute("UPDATE {t} SET updated_at = %s WHERE ticket_id = 'T0026'", [later])
    report = _load(cfg)
    assert report.totals()["rows_read"] == 4  # three changed + one new, nothing else
    rows = {r["ticket_id"]: r for r in tickets(cfg)}
    assert len(rows) == 26
    assert rows["T0003"]["subject"] == rows["T0007"]["subject"] == "Changed"
    assert rows["T0005"]["deleted_at"] is not None and rows["T0005"]["subject"] == "Subject 5"
    assert query(
        cfg, "SELECT body FROM canonical.messages WHERE ticket_id = 'T0003' AND seq = 1"
    ) == [("Edited reply",)]
    assert no_duplicates(cfg) and balanced(cfg)
    assert _load(cfg).totals()["rows_read"] == 0


def test_query_source_and_force_reload(tmp_path: Path, kind: str, db) -> None:
    src = source(
        kind,
        db,
        table=None,
        query=f"SELECT * FROM {db.tickets} WHERE category <> 'Shipping'",
        messages=None,
    )
    cfg = config(tmp_path, src, batch_rows=7)
    assert _load(cfg).totals()["rows_loaded"] == 17
    assert tickets(cfg)[0]["origin"].endswith("(query)")
    assert _load(cfg, force=True).totals()["rows_read"] == 17
    assert len(tickets(cfg)) == 17 and no_duplicates(cfg)


def test_hard_deletes_are_marked_after_a_complete_scan(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db, detect_hard_deletes=True), batch_rows=10)
    _load(cfg)
    db.execute("DELETE FROM {t} WHERE ticket_id IN ('T0002', 'T0011')")
    _load(cfg)
    deleted = [r["ticket_id"] for r in tickets(cfg) if r["deleted_at"] is not None]
    assert deleted == ["T0002", "T0011"] and len(tickets(cfg)) == 25


def test_without_cursor_column_every_run_reads_everything(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db, cursor_column=None), batch_rows=10)
    assert _load(cfg).totals()["rows_read"] == 25
    assert _load(cfg).totals()["rows_read"] == 25
    assert len(tickets(cfg)) == 25 and no_duplicates(cfg)


def test_renamed_column_is_a_clear_error_and_resume_works(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db), batch_rows=10)
    _load(cfg)
    before = cursor(cfg, "helpdesk_db")
    db.execute("ALTER TABLE {t} RENAME COLUMN subject TO title")
    with pytest.raises(IngestError) as err:
        _load(cfg)
    message = str(err.value)
    assert "source 'helpdesk_db'" in message and "['subject']" in message
    assert "renamed or dropped" in message and "title" in message
    assert cursor(cfg, "helpdesk_db") == before
    db.execute("ALTER TABLE {t} RENAME COLUMN title TO subject")
    assert _load(cfg).totals()["rows_read"] == 0


def test_unparseable_values_are_quarantined_with_reason(tmp_path: Path, kind: str, db) -> None:
    db.execute("UPDATE {t} SET created_at = NULL WHERE ticket_id = 'T0004'")
    cfg = config(tmp_path, source(kind, db), batch_rows=10)
    report = _load(cfg)
    assert report.totals() == {"rows_read": 25, "rows_loaded": 24, "rows_quarantined": 1}
    (reason,) = query(
        cfg,
        "SELECT reason FROM raw.quarantine WHERE source = 'helpdesk_db' AND field = 'created_at'",
    )
    assert reason[0].startswith("created_at: missing")
    # The orphaned conversation of the quarantined ticket is quarantined too, never dropped.
    assert report.totals("messages") == {"rows_read": 50, "rows_loaded": 48, "rows_quarantined": 2}


def test_unreachable_server_names_the_source(tmp_path: Path, kind: str, db) -> None:
    cfg = config(tmp_path, source(kind, db, port=1))
    with pytest.raises(
        SourceUnavailableError, match=r"source 'helpdesk_db' \(.*:1/test\): cannot connect"
    ):
        _load(cfg)


def test_missing_password_variable_is_named(tmp_path: Path, kind: str, db, monkeypatch) -> None:
    monkeypatch.delenv("TA_TEST_DB_PASSWORD", raising=False)
    cfg = config(tmp_path, source(kind, db, password_env="TA_TEST_DB_PASSWORD"))
    with pytest.raises(SourceUnavailableError, match="TA_TEST_DB_PASSWORD .* is not set"):
        _load(cfg)
