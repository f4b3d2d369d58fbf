"""Freshdesk source against a real HTTP server on 127.0.0.1 speaking the v2 listing format."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from connectors.errors import IngestError, SourceUnavailableError
from connectors.ingest import ingest_config
from tests.connectors.fake_helpdesk import FakeFreshdesk, Fault, iso
from tests.connectors.helpers import balanced, config, cursor, no_duplicates, query, tickets

KEY = "fd-secret-key"
T0 = 1_700_000_000
LIST = "/api/v2/tickets"


@pytest.fixture
def freshdesk(monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", KEY)
    with FakeFreshdesk(KEY) as server:
        for i in range(1, 6):
            server.add_ticket(i, T0 + i * 60)
        yield server


def _cfg(tmp_path: Path, server: FakeFreshdesk, **source):
    src = {
        "name": "fd",
        "kind": "freshdesk",
        "base_url": server.base_url,
        "per_page": 2,
        "backoff_s": 0.01,
        "max_retries": 2,
        "timeout_s": 5,
        "updated_since": "2023-01-01T00:00:00Z",
        **source,
    }
    return config(tmp_path, src)


def _load(cfg, messages: list[str] | None = None, force: bool = False):
    progress = messages.append if messages is not None else (lambda _m: None)
    return ingest_config(cfg, progress=progress, force=force)


def _listing(server: FakeFreshdesk) -> list[dict[str, str]]:
    return [q for p, q in server.log if p == LIST]


def test_listing_maps_tickets_stats_and_conversations(tmp_path: Path, freshdesk) -> None:
    cfg = _cfg(tmp_path, freshdesk)
    report = _load(cfg)
    assert report.totals() == {"rows_read": 5, "rows_loaded": 5, "rows_quarantined": 0}
    # Description + public reply + private note per ticket.
    assert report.totals("messages")["rows_loaded"] == 15
    t1 = tickets(cfg)[0]
    assert (t1["ticket_id"], t1["status"], t1["priority"], t1["channel"]) == (
        "1",
        "open",
        "low",
        "email",
    )
    assert t1["category"] == "Refund" and t1["tags"] == ["vip"] and t1["team"] == "9"
    assert t1["description"] == "Help with 1" and t1["subject"] == "Subject 1"
    assert str(t1["first_response_at"]) == iso(T0 + 60 - 3600).replace("T", " ").rstrip("Z")
    assert t1["customer_id"] != "5001" and t1["deleted_at"] is None
    msgs = query(
        cfg,
        "SELECT seq, author_role, body, is_public FROM canonical.messages "
        "WHERE ticket_id = '1' ORDER BY seq",
    )
    assert msgs == [
        (0, "customer", "Help with 1", True),
        (1, "agent", "Reply to 1", True),
        (2, "agent", "internal note", False),
    ]
    assert query(cfg, "SELECT cf_category FROM raw.fd WHERE id = '1'") == [("Billing",)]
    first = _listing(freshdesk)[0]
    assert first["include"] == "requester,stats,description"
    assert first["order_by"] == "updated_at" and first["updated_since"] == "2023-01-01T00:00:00Z"
    # After each page the listing restarts from the newest updated_at (less a second).
    assert [q["page"] for q in _listing(freshdesk) if "filter" not in q] == ["1"] * 4
    state = json.loads(cursor(cfg, "fd"))
    assert state["phase"] == "tickets" and state["tickets"][:2] == [iso(T0 + 299), 1]
    assert state["tickets"][2] == {"5": iso(T0 + 300)}  # loaded; skipped when re-listed
    assert balanced(cfg) and no_duplicates(cfg)


def test_rerun_upserts_updates_and_marks_deleted(tmp_path: Path, freshdesk) -> None:
    cfg = _cfg(tmp_path, freshdesk)
    _load(cfg)
    freshdesk.log.clear()
    freshdesk.update_ticket(2, T0 + 1000, subject="Changed", status=4)
    freshdesk.update_ticket(4, T0 + 1001, deleted=True)
    freshdesk.add_ticket(6, T0 + 1002)
    report = _load(cfg)
    first = _listing(freshdesk)[0]
    assert first["updated_since"] == iso(T0 + 299)  # resumed from the stored position
    rows = {r["ticket_id"]: r for r in tickets(cfg)}
    assert sorted(rows) == ["1", "2", "3", "4", "5", "6"]
    assert rows["2"]["subject"] == "Changed" and rows["2"]["status"] == "solved"
    assert rows["4"]["deleted_at"] is not None and rows["4"]["status"] == "open"
    assert all(rows[t]["deleted_at"] is None for t in ("1", "2", "3", "5", "6"))
    # Ticket 5 is listed again (within the restart second) but not loaded twice.
    assert report.totals()["rows_read"] == 3
    assert no_duplicates(cfg) and balanced(cfg)


def test_many_tickets_in_one_second_walk_page_numbers(tmp_path: Path, freshdesk) -> None:
    for i in range(10, 17):
        freshdesk.add_ticket(i, T0 + 5000)  # seven tickets share one updated_at
    cfg = _cfg(tmp_path, freshdesk)
    _load(cfg)
    pages = [(q["updated_since"], q["page"]) for q in _listing(freshdesk) if "filter" not in q]
    assert (iso(T0 + 4999), "2") in pages and (iso(T0 + 4999), "3") in pages
    assert len(tickets(cfg)) == 12 and no_duplicates(cfg)


def test_rate_limit_with_retry_after_and_5xx_are_retried(tmp_path: Path, freshdesk) -> None:
    freshdesk.faults = [
        Fault(LIST, "status", 429, {"Retry-After": "1"}),
        Fault("/conversations", "status", 502, times=2),
    ]
    cfg = _cfg(tmp_path, freshdesk)
    start = time.monotonic()
    assert _load(cfg).totals()["rows_loaded"] == 5
    assert time.monotonic() - start >= 1.0
    assert all(f.times == 0 for f in freshdesk.faults)


def test_malformed_page_and_resume(tmp_path: Path, freshdesk) -> None:
    freshdesk.faults = [Fault(LIST, "malformed", query={"updated_since": iso(T0 + 119)})]
    cfg = _cfg(tmp_path, freshdesk)
    with pytest.raises(IngestError, match=r"source 'fd': GET /api/v2/tickets: .*not valid JSON"):
        _load(cfg)
    assert [t["ticket_id"] for t in tickets(cfg)] == ["1", "2"]
    freshdesk.log.clear()
    _load(cfg)
    assert _listing(freshdesk)[0]["updated_since"] == iso(T0 + 119)
    assert len(tickets(cfg)) == 5 and no_duplicates(cfg) and balanced(cfg)


def test_server_stopping_mid_export_keeps_committed_pages(tmp_path: Path, freshdesk) -> None:
    freshdesk.faults = [Fault(LIST, "shutdown", query={"updated_since": iso(T0 + 119)})]
    cfg = _cfg(tmp_path, freshdesk)
    with pytest.raises(SourceUnavailableError, match="source 'fd'"):
        _load(cfg)
    assert len(tickets(cfg)) == 2
    assert json.loads(cursor(cfg, "fd"))["tickets"][:2] == [iso(T0 + 119), 1]


def test_wrong_api_key_never_appears_in_errors_or_logs(
    tmp_path: Path, freshdesk, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("FRESHDESK_API_KEY", "not-the-right-key")
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    with pytest.raises(SourceUnavailableError) as err:
        _load(_cfg(tmp_path, freshdesk), messages)
    assert "HTTP 401" in str(err.value) and "$FRESHDESK_API_KEY" in str(err.value)
    assert "not-the-right-key" not in str(err.value) + caplog.text + "".join(messages)


def test_deleted_listing_can_be_switched_off(tmp_path: Path, freshdesk) -> None:
    freshdesk.update_ticket(3, T0 + 900, deleted=True)
    cfg = _cfg(tmp_path, freshdesk, deleted=False)
    _load(cfg)
    assert not [q for q in _listing(freshdesk) if q.get("filter") == "deleted"]
    assert len(tickets(cfg)) == 4


def test_shipped_config_spells_out_the_default_mapping() -> None:
    from tests.conftest import REPO
    from ticket_audit.config import load_config
    from ticket_audit.config.mapping import Mapping
    from ticket_audit.config.vendors import FRESHDESK_MAPPING

    source = load_config(REPO / "configs" / "freshdesk.yaml").sources[0]
    assert source.kind == "freshdesk" and source.domain == "acme"
    assert source.mapping == Mapping.model_validate(FRESHDESK_MAPPING)
