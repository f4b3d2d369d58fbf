"""How a database or API chunk reaches the store: mapped straight from its Arrow columns into
the canonical table, kept as one raw Parquet file, upserted by ticket id.

These drive `IncrementalLoader` with hand-made chunks, so every case is exact and needs no
server; the PostgreSQL and MariaDB paths end to end are in sql_cases.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import raw_zone
from connectors.incremental import Chunk, IncrementalLoader
from tests.connectors.helpers import config
from ticket_audit.config.mapping import Mapping
from ticket_audit.store import open_store

SOURCE = "helpdesk_db"
ORIGIN = "postgres 127.0.0.1:5432/test/tickets"
MAPPING = Mapping.model_validate(
    {
        "fields": {
            "ticket_id": "id",
            "created_at": "created",
            "status": "state",
            "tags": "labels",
            "csat": "score",
            "subject": "subject",
        }
    }
)
BERLIN = timezone(timedelta(hours=1))


def _chunk(rows: list[dict], **types: pa.DataType) -> Chunk:
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("created", types.get("created", pa.timestamp("us", tz="UTC"))),
            ("state", pa.string()),
            ("labels", pa.list_(pa.string())),
            ("score", pa.int16()),
            ("subject", types.get("subject", pa.string())),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    return Chunk(table, {"key": rows[-1]["id"]}, ORIGIN)


def _row(tid: str, state: str = "open", **extra) -> dict:
    return {
        "id": tid,
        "created": datetime(2024, 3, 1, 12, tzinfo=UTC),
        "state": state,
        "labels": ["billing"],
        "score": 4,
        "subject": f"Subject {tid}",
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path):
    cfg = config(
        tmp_path,
        {
            "name": SOURCE,
            "kind": "postgres",
            "database": "test",
            "table": "tickets",
            "mapping": MAPPING.model_dump(exclude_defaults=True),
        },
    )
    with open_store(cfg.duckdb_path) as con:
        yield cfg, con


def _loader(store) -> IncrementalLoader:
    cfg, con = store
    return IncrementalLoader(con, cfg, source=SOURCE, mapping=MAPPING)


def _raw_files(con) -> list[Path]:
    folder = raw_zone.raw_dir(con) / SOURCE
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_ticket_read_twice_in_its_first_run_is_upserted_not_duplicated(store) -> None:
    _, con = store
    loader = _loader(store)
    loader.load(_chunk([_row("T1"), _row("T2")]))
    # Updated in the source while the run was reading: the keyset read meets it again.
    loader.load(_chunk([_row("T3"), _row("T1", "solved")]))
    rows = con.execute(
        "SELECT ticket_id, status FROM canonical.tickets ORDER BY ticket_id"
    ).fetchall()
    assert rows == [("T1", "solved"), ("T2", "open"), ("T3", "open")]
    # Two chunk files; the raw view shows each ticket's latest version.
    assert len(_raw_files(con)) == 2
    raw = con.execute(f"SELECT id, state FROM raw.{SOURCE} ORDER BY id").fetchall()
    assert raw == [("T1", "solved"), ("T2", "open"), ("T3", "open")]
    lineage = con.execute(f"SELECT DISTINCT _source, _origin FROM raw.{SOURCE}").fetchall()
    assert lineage == [(SOURCE, ORIGIN)]
    read, loaded, quarantined = con.execute(
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM audit.load_log"
    ).fetchone()
    assert (read, loaded, quarantined) == (4, 4, 0)


def test_native_types_map_without_a_text_round_trip(store) -> None:
    _, con = store
    # The session zone must not leak into the stored UTC values.
    con.execute("SET TimeZone = 'America/New_York'")
    chunk = _chunk(
        [
            _row("T1", created=datetime(2024, 3, 1, 13, 30, tzinfo=BERLIN), labels=[" a ", ""]),
            _row("T2", created=None),
        ]
    )
    _loader(store).load(chunk)
    loaded = con.execute(
        "SELECT ticket_id, CAST(created_at AS VARCHAR), tags, csat FROM canonical.tickets"
    ).fetchall()
    assert loaded == [("T1", "2024-03-01 12:30:00", ["a"], 4)]
    (reason,) = con.execute("SELECT reason FROM raw.quarantine").fetchone()
    assert reason == "created_at: missing (column created)"


def test_values_that_arrive_as_text_are_still_parsed_and_checked(store) -> None:
    _, con = store
    chunk = _chunk(
        [_row("T1", created="2024-03-01 12:00:00"), _row("T2", created="yesterday")],
        created=pa.string(),
    )
    _loader(store).load(chunk)
    assert con.execute("SELECT ticket_id FROM canonical.tickets").fetchall() == [("T1",)]
    (field, reason) = con.execute("SELECT field, reason FROM raw.quarantine").fetchone()
    assert field == "created_at" and "cannot parse the value as timestamp" in reason


def test_nested_values_are_kept_as_text_in_the_raw_copy(store) -> None:
    _, con = store
    subject = pa.struct([("text", pa.string())])
    rows = [_row("T1", subject={"text": "Hello"})]
    _loader(store).load(_chunk(rows, subject=subject))
    (raw,) = con.execute(f"SELECT subject FROM raw.{SOURCE}").fetchone()
    assert raw == '{"text":"Hello"}'


def test_a_raw_table_of_an_older_store_becomes_its_first_file(store) -> None:
    _, con = store
    con.execute(
        f"""CREATE TABLE raw.{SOURCE} AS SELECT '{SOURCE}' AS _source, '{ORIGIN}' AS _origin,
        1::BIGINT AS _row_number, 'old' AS _load_id, TIMESTAMP '2024-01-01' AS _loaded_at,
        id, 'open' AS state FROM (VALUES ('T1'), ('T9')) v(id)"""
    )
    _loader(store).load(_chunk([_row("T1", "solved")]))
    raw = con.execute(f"SELECT id, state, _load_id FROM raw.{SOURCE} ORDER BY id").fetchall()
    assert [(r[0], r[1]) for r in raw] == [("T1", "solved"), ("T9", "open")]
    assert raw[1][2] == "old"
    assert [p.name for p in _raw_files(con)][-1] == "legacy-table.parquet"


def test_a_chunk_that_fails_after_its_raw_copy_leaves_nothing(store, monkeypatch) -> None:
    _, con = store
    loader = _loader(store)
    loader.load(_chunk([_row("T1")]))

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(raw_zone, "register_chunk", broken)
    with pytest.raises(OSError, match="disk full"):
        loader.load(_chunk([_row("T2"), _row("T1", "solved")]))
    raw_zone.prune(con)
    assert len(_raw_files(con)) == 1
    rows = con.execute("SELECT ticket_id, status FROM canonical.tickets").fetchall()
    assert rows == [("T1", "open")]
