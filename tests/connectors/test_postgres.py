"""PostgreSQL source (ADBC) against the server on 127.0.0.1:5432, tables made per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceUnavailableError
from connectors.ingest import ingest_config
from tests.connectors.helpers import config, tickets
from tests.connectors.sql_cases import *  # noqa: F403 - the shared database cases
from tests.connectors.sql_tables import source, tables, ticket_rows

pytestmark = pytest.mark.services


@pytest.fixture
def kind() -> str:
    return "postgres"


def test_wrong_credentials_never_show_the_password(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("TA_TEST_PG_PASSWORD", "s3cret-pg-password")
    with tables("postgres") as t:
        cfg = config(
            tmp_path,
            source("postgres", t, user="no_such_role_ta", password_env="TA_TEST_PG_PASSWORD"),
        )
        messages: list[str] = []
        with pytest.raises(SourceUnavailableError) as err:
            ingest_config(cfg, progress=messages.append)
    text = str(err.value)
    assert "source 'helpdesk_db' (postgres 127.0.0.1:5432/test): cannot connect" in text
    assert 'role "no_such_role_ta" does not exist' in text
    assert "s3cret-pg-password" not in text + caplog.text + "".join(messages)


def test_timestamptz_is_read_as_utc_whatever_the_session_zone(tmp_path: Path) -> None:
    with tables("postgres") as t:
        t.insert(ticket_rows(3))
        cfg = config(tmp_path, source("postgres", t, options={"options": "-c TimeZone=Asia/Tokyo"}))
        ingest_config(cfg, progress=lambda _m: None)
    assert str(tickets(cfg)[0]["created_at"]) == "2024-03-01 09:00:00"


def test_null_keys_are_refused_rather_than_skipped(tmp_path: Path) -> None:
    with tables("postgres") as t:
        t.insert(ticket_rows(3))
        t.execute("ALTER TABLE {t} ADD COLUMN ext_id text")
        t.execute("UPDATE {t} SET ext_id = ticket_id WHERE ticket_id <> 'T0002'")
        cfg = config(tmp_path, source("postgres", t, key_column="ext_id"))
        from connectors.errors import IngestError

        with pytest.raises(IngestError, match="key column 'ext_id' has NULL values"):
            ingest_config(cfg, progress=lambda _m: None)


def test_key_column_other_than_the_ticket_id(tmp_path: Path) -> None:
    with tables("postgres") as t:
        t.insert(ticket_rows(12))
        t.execute("ALTER TABLE {t} ADD COLUMN ext_id bigserial")
        cfg = config(tmp_path, source("postgres", t, key_column="ext_id"), batch_rows=5)
        report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals()["rows_loaded"] == 12
    assert report.totals("messages") == {"rows_read": 24, "rows_loaded": 24, "rows_quarantined": 0}


def test_native_out_of_range_dates_and_numbers_are_quarantined(tmp_path: Path) -> None:
    """A timestamp column holding 9999-12-31 and a bigint csat beyond 32 bits come through
    the typed (native) path, which must quarantine them like the text path does."""
    from tests.connectors.helpers import balanced, query

    with tables("postgres") as t:
        t.insert(ticket_rows(4))
        t.execute("ALTER TABLE {t} ALTER COLUMN csat TYPE bigint")
        t.execute("ALTER TABLE {t} ADD COLUMN closed timestamp")
        t.execute("UPDATE {t} SET closed = '9999-12-31 23:59:59' WHERE ticket_id = 'T0002'")
        t.execute("UPDATE {t} SET csat = 99999999999 WHERE ticket_id = 'T0003'")
        src = source("postgres", t)
        src["mapping"] = {**src["mapping"], "fields": {**src["mapping"]["fields"]}}
        src["mapping"]["fields"]["resolved_at"] = "closed"
        cfg = config(tmp_path, src)
        report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 4, "rows_loaded": 2, "rows_quarantined": 2}
    assert balanced(cfg)
    reasons = sorted(
        r[0]
        for r in query(cfg, "SELECT reason FROM raw.quarantine")
        if r[0] != "ticket_id: no loaded ticket with this id"  # their messages
    )
    assert reasons == [
        "csat: number outside the 32-bit integer range (column csat)",
        "resolved_at: date outside the supported range 1677-09-22..2262-04-11 (column closed)",
    ]
