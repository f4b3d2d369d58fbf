"""The shipped mapping loads the real-looking Kaggle export in ../shared/data completely."""

from __future__ import annotations

from pathlib import Path

from connectors.ingest import ingest_config
from tests.conftest import REPO, with_store
from ticket_audit.config import load_config
from ticket_audit.store import open_store


def test_kaggle_export_loads_all_rows(kaggle_csv: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TICKET_AUDIT_SHARED_DATA", str(kaggle_csv.parents[1]))
    cfg = with_store(load_config(REPO / "configs" / "kaggle.yaml"), tmp_path)
    report = ingest_config(cfg, progress=lambda _m: None)
    assert report.totals() == {"rows_read": 8469, "rows_loaded": 8469, "rows_quarantined": 0}
    with open_store(cfg.duckdb_path) as con:
        row = con.execute(
            """SELECT count(*), count(DISTINCT ticket_id),
                      count(*) FILTER (WHERE priority NOT IN ('low','normal','high','urgent')),
                      count(*) FILTER (WHERE channel NOT IN ('email','chat','phone','social')),
                      count(*) FILTER (WHERE resolved_at < first_response_at),
                      count(*) FILTER (WHERE status = 'closed'),
                      count(*) FILTER (WHERE customer_id LIKE '%@%')
               FROM canonical.tickets"""
        ).fetchone()
        agent = con.execute(
            "SELECT count(*) FROM canonical.messages WHERE author_role = 'agent'"
        ).fetchone()[0]
    total, distinct, bad_prio, bad_channel, inverted, closed, raw_emails = row
    assert (total, distinct, bad_prio, bad_channel) == (8469, 8469, 0, 0)
    assert inverted == 1365  # resolution before first response, as the export has it
    assert closed == agent == 2769  # only closed tickets carry a resolution text
    assert raw_emails == 0  # customer_id is pseudonymised at load
