"""Zendesk source against a real HTTP server on 127.0.0.1 speaking the export's page format."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from connectors.errors import IngestError, SourceUnavailableError
from connectors.ingest import ingest_config
from tests.connectors.fake_helpdesk import FakeZendesk, Fault, iso
from tests.connectors.helpers import balanced, config, cursor, no_duplicates, query, tickets

EMAIL, TOKEN = "agent@example.com", "zd-secret-token"
T0 = 1_700_000_000
EXPORT = "/api/v2/incremental/tickets/cursor.json"


@pytest.fixture
def zendesk(monkeypatch):
    monkeypatch.setenv("ZENDESK_EMAIL", EMAIL)
    monkeypatch.setenv("ZENDESK_API_TOKEN", TOKEN)
    with FakeZendesk(EMAIL, TOKEN) as server:
        for i in range(1, 6):
            server.add_ticket(i, T0 + i * 60)
        yield server


def _cfg(tmp_path: Path, server: FakeZendesk, **source):
    src = {
        "name": "zd",
        "kind": "zendesk",
        "base_url": server.base_url,
        "per_page": 2,
        "backoff_s": 0.01,
        "max_retries": 2,
        "timeout_s": 5,
        "start_time": "2023-01-01T00:00:00Z",
        **source,
    }
    return config(tmp_path, src)


def _load(cfg, messages: list[str] | None = None):
    return ingest_config(
        cfg, progress=(messages.append if messages is not None else None) or (lambda _m: None)
    )


def test_export_maps_tickets_side_loads_and_comments(tmp_path: Path, zendesk: FakeZendesk) -> None:
    cfg = _cfg(tmp_path, zendesk)
    report = _load(cfg)
    assert report.totals() == {"rows_read": 5, "rows_loaded": 5, "rows_quarantined": 0}
    assert report.totals("messages") == {"rows_read": 10, "rows_loaded": 10, "rows_quarantined": 0}
    rows = tickets(cfg)
    assert [r["ticket_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    t1 = rows[0]
    assert t1["status"] == "open" and t1["channel"] == "email" and t1["priority"] == "normal"
    assert t1["team"] == "Billing"  # side-loaded groups
    assert t1["language"] == "de"  # side-loaded users (requester locale)
    assert t1["csat"] == 5 and t1["tags"] == ["billing", "t1"]
    assert t1["category"] == "question"
    assert str(t1["created_at"]) == "2023-11-14 21:14:20"
    assert str(t1["first_response_at"]) == "2023-11-14 21:44:20"  # first public agent comment
    assert t1["customer_id"] not in (None, "1001") and len(t1["customer_id"]) == 16
    assert t1["deleted_at"] is None and t1["origin"].endswith(EXPORT)
    msgs = query(
        cfg,
        "SELECT seq, author_role, body, is_public FROM canonical.messages "
        "WHERE ticket_id = '1' ORDER BY seq",
    )
    assert msgs == [(0, "customer", "Help with 1", True), (1, "agent", "Reply to 1", True)]
    raw = query(cfg, 'SELECT "custom_field_360001", "via_channel" FROM raw.zd WHERE id = \'1\'')
    assert raw == [("Refunds", "email")]
    # Three pages of two; each committed with the page's after_cursor.
    exports = zendesk.requests_to(EXPORT)
    assert len(exports) == 3 and "start_time" in exports[0] and "cursor" in exports[1]
    assert exports[0]["include"] == "users,groups,metric_sets"
    assert json.loads(cursor(cfg, "zd"))["after_cursor"]
    assert balanced(cfg) and no_duplicates(cfg)


def test_rerun_reads_only_changes_upserts_and_marks_deleted(
    tmp_path: Path, zendesk: FakeZendesk
) -> None:
    cfg = _cfg(tmp_path, zendesk)
    _load(cfg)
    stored = json.loads(cursor(cfg, "zd"))["after_cursor"]
    zendesk.log.clear()
    zendesk.update_ticket(2, T0 + 1000, subject="Changed subject", status="solved")
    zendesk.update_ticket(3, T0 + 1001, status="deleted")
    zendesk.add_ticket(6, T0 + 1002)
    report = _load(cfg)
    assert report.totals() == {"rows_read": 3, "rows_loaded": 3, "rows_quarantined": 0}
    assert zendesk.requests_to(EXPORT)[0].get("cursor") == stored  # resumed, not restarted
    rows = {r["ticket_id"]: r for r in tickets(cfg)}
    assert sorted(rows) == ["1", "2", "3", "4", "5", "6"]
    assert rows["2"]["subject"] == "Changed subject" and rows["2"]["status"] == "solved"
    assert str(rows["3"]["deleted_at"]) == iso(T0 + 1001).replace("T", " ").rstrip("Z")
    assert rows["3"]["status"] == "open"  # last lifecycle status kept; deleted_at marks it
    assert all(rows[t]["deleted_at"] is None for t in ("1", "2", "4", "5", "6"))
    # The deleted ticket's conversation stays (the API no longer serves it).
    assert query(cfg, "SELECT count(*) FROM canonical.messages WHERE ticket_id = '3'") == [(2,)]
    assert no_duplicates(cfg) and balanced(cfg)
    # Nothing changed: a third run reads nothing and keeps everything.
    assert _load(cfg).totals()["rows_read"] == 0
    assert len(tickets(cfg)) == 6


def test_rate_limit_and_server_errors_are_retried(tmp_path: Path, zendesk: FakeZendesk) -> None:
    zendesk.faults = [
        Fault(EXPORT, "status", 429, {"Retry-After": "1"}),
        Fault("/tickets/2/comments.json", "status", 503, times=2),
    ]
    cfg = _cfg(tmp_path, zendesk)
    start = time.monotonic()
    report = _load(cfg)
    assert time.monotonic() - start >= 1.0  # waited as Retry-After asked
    assert report.totals()["rows_loaded"] == 5
    assert len(zendesk.requests_to("/tickets/2/comments.json")) == 3
    assert all(f.times == 0 for f in zendesk.faults)


def test_malformed_page_stops_naming_the_source_and_resume_continues(
    tmp_path: Path, zendesk: FakeZendesk
) -> None:
    after_first_page = FakeZendesk._cursor(zendesk.tickets[2])
    zendesk.faults = [Fault(EXPORT, "malformed", query={"cursor": after_first_page})]
    cfg = _cfg(tmp_path, zendesk)
    with pytest.raises(IngestError, match=r"source 'zd': GET .*cursor\.json: .*not valid JSON"):
        _load(cfg)
    assert [t["ticket_id"] for t in tickets(cfg)] == ["1", "2"]  # page 1 was committed
    assert json.loads(cursor(cfg, "zd"))["after_cursor"] == after_first_page
    zendesk.log.clear()
    report = _load(cfg)
    assert zendesk.requests_to(EXPORT)[0]["cursor"] == after_first_page
    assert report.totals()["rows_read"] == 3  # pages 2 and 3 only: nothing read twice
    assert [t["ticket_id"] for t in tickets(cfg)] == ["1", "2", "3", "4", "5"]
    assert no_duplicates(cfg) and balanced(cfg)


def test_connection_dropped_mid_export_is_retried_then_reported(
    tmp_path: Path, zendesk: FakeZendesk
) -> None:
    after_first_page = FakeZendesk._cursor(zendesk.tickets[2])
    # Dropped once: the retry gets the page.
    zendesk.faults = [Fault(EXPORT, "drop", query={"cursor": after_first_page})]
    cfg = _cfg(tmp_path, zendesk)
    assert _load(cfg).totals()["rows_loaded"] == 5
    # Dropped every time: a clear error after max_retries, page 1 kept.
    cfg = _cfg(tmp_path / "again", zendesk)
    zendesk.faults = [Fault(EXPORT, "drop", query={"cursor": after_first_page}, times=-1)]
    with pytest.raises(SourceUnavailableError, match=r"source 'zd': GET .*after 3 attempts"):
        _load(cfg)
    assert len(tickets(cfg)) == 2


def test_server_that_stops_mid_export_resumes_on_the_next_run(
    tmp_path: Path, zendesk: FakeZendesk
) -> None:
    after_first_page = FakeZendesk._cursor(zendesk.tickets[2])
    zendesk.faults = [Fault(EXPORT, "shutdown", query={"cursor": after_first_page})]
    cfg = _cfg(tmp_path, zendesk)
    with pytest.raises(SourceUnavailableError, match="source 'zd'") as err:
        _load(cfg)
    assert "resumes" in str(err.value)
    assert len(tickets(cfg)) == 2
    # The server is back (another port): the next run continues from the committed cursor.
    with FakeZendesk(EMAIL, TOKEN) as again:
        again.tickets, again.users, again.comments = (
            zendesk.tickets,
            zendesk.users,
            zendesk.comments,
        )
        cfg = _cfg(tmp_path, again)
        report = _load(cfg)
        assert again.requests_to(EXPORT)[0]["cursor"] == after_first_page
    assert report.totals()["rows_read"] == 3
    assert len(tickets(cfg)) == 5 and no_duplicates(cfg)


def test_wrong_token_is_a_clear_error_that_never_shows_the_token(
    tmp_path: Path, zendesk: FakeZendesk, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong-token-value")
    cfg = _cfg(tmp_path, zendesk)
    messages: list[str] = []
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceUnavailableError) as err:
        _load(cfg, messages)
    text = str(err.value)
    assert "source 'zd'" in text and "HTTP 401" in text and "$ZENDESK_API_TOKEN" in text
    everything = text + "\n".join(messages) + caplog.text
    assert "wrong-token-value" not in everything and EMAIL not in everything
    assert tickets(cfg) == [] and cursor(cfg, "zd") is None


def test_missing_environment_variable_is_named(tmp_path: Path, zendesk, monkeypatch) -> None:
    monkeypatch.delenv("ZENDESK_API_TOKEN")
    with pytest.raises(SourceUnavailableError, match="ZENDESK_API_TOKEN .* is not set"):
        _load(_cfg(tmp_path, zendesk))


def test_slow_server_times_out(tmp_path: Path, zendesk: FakeZendesk) -> None:
    zendesk.faults = [Fault(EXPORT, "slow", seconds=2.0, times=-1)]
    cfg = _cfg(tmp_path, zendesk, timeout_s=0.3, max_retries=1)
    with pytest.raises(SourceUnavailableError, match=r"ReadTimeout.*after 2 attempts"):
        _load(cfg)


def test_retry_after_longer_than_allowed_stops_at_once(tmp_path: Path, zendesk) -> None:
    zendesk.faults = [Fault(EXPORT, "status", 429, {"Retry-After": "3600"})]
    cfg = _cfg(tmp_path, zendesk, max_wait_s=5)
    start = time.monotonic()
    with pytest.raises(SourceUnavailableError, match="wait 3600 s, more than max_wait_s"):
        _load(cfg)
    assert time.monotonic() - start < 5


def test_force_reads_everything_again_without_duplicates(tmp_path: Path, zendesk) -> None:
    cfg = _cfg(tmp_path, zendesk)
    _load(cfg)
    report = ingest_config(cfg, progress=lambda _m: None, force=True)
    assert report.totals()["rows_read"] == 5
    assert len(tickets(cfg)) == 5 and no_duplicates(cfg)
    assert query(cfg, "SELECT count(*) FROM raw.zd") == [(5,)]


def test_shipped_config_spells_out_the_default_mapping() -> None:
    from tests.conftest import REPO
    from ticket_audit.config import load_config
    from ticket_audit.config.mapping import Mapping
    from ticket_audit.config.vendors import ZENDESK_MAPPING

    source = load_config(REPO / "configs" / "zendesk.yaml").sources[0]
    assert source.kind == "zendesk" and source.subdomain == "acme"
    assert source.mapping == Mapping.model_validate(ZENDESK_MAPPING)


def test_dagster_ingest_asset_loads_a_zendesk_source(tmp_path: Path, zendesk) -> None:
    import dagster as dg
    import yaml

    from pipelines.defs.ingest import ingest
    from pipelines.defs.resources import AuditResource

    path = tmp_path / "audit.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "audit": {"duckdb_path": str(tmp_path / "a.duckdb")},
                "sources": [
                    {
                        "name": "zd",
                        "kind": "zendesk",
                        "base_url": zendesk.base_url,
                        "start_time": "2023-01-01T00:00:00Z",
                    }
                ],
            }
        )
    )
    result = dg.materialize(
        [ingest],
        resources={"audit": AuditResource(config_path=str(path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert all(checks.values()) and len(checks) == 2
    canonical = [
        m
        for m in result.asset_materializations_for_node("ingest")
        if m.asset_key.to_user_string() == "canonical_tickets"
    ][0]
    assert canonical.metadata["tickets_in_store"].value == 5
