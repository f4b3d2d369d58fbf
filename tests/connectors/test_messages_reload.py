"""A separate messages export is read again after the tickets changed only when it matters."""

from __future__ import annotations

import csv
from pathlib import Path

from connectors.ingest import ingest_config
from tests.conftest import write_config
from tests.connectors.test_files import GOOD, HEADER, _write_csv
from ticket_audit.config import load_config
from ticket_audit.store import open_store


def _config(tmp_path: Path) -> Path:
    mapping = {
        "fields": {"ticket_id": "id", "created_at": "opened", "subject": "title"},
        "messages": {
            "file": {
                "path": "messages.csv",
                "fields": {"ticket_id": "ticket", "seq": "n", "body": "text"},
            }
        },
    }
    src = {"name": "desk", "kind": "file", "path": "tickets-*.csv", "mapping": mapping}
    return write_config(
        tmp_path, {"audit": {"duckdb_path": "audit.duckdb", "output_dir": "out"}, "sources": [src]}
    )


def _messages(path: Path, rows: list[tuple[str, int, str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket", "n", "text"])
        w.writerows(rows)


def _ingest(cfg) -> dict[str, bool]:
    report = ingest_config(cfg, progress=lambda _m: None)
    return {Path(o.origin).name: o.skipped_unchanged for o in report.origins}


def _loaded(cfg) -> list[tuple[str, int]]:
    with open_store(cfg.duckdb_path) as con:
        return con.execute("SELECT ticket_id, seq FROM canonical.messages ORDER BY ALL").fetchall()


def test_messages_are_reread_only_when_the_ticket_change_can_matter(tmp_path: Path) -> None:
    _write_csv(tmp_path / "tickets-1.csv", GOOD[:2])
    # T99's message waits for a ticket that never comes: that must not force re-reads
    rows = [("T1", 1, "hi"), ("T2", 1, "yo"), ("T3", 1, "later"), ("T99", 1, "never")]
    _messages(tmp_path / "messages.csv", rows)
    cfg = load_config(_config(tmp_path))
    _ingest(cfg)
    assert _loaded(cfg) == [("T1", 1), ("T2", 1)]  # T3's message waits in quarantine

    # T3 arrives in a new export: the waiting message loads
    _write_csv(tmp_path / "tickets-2.csv", GOOD[2:])
    skipped = _ingest(cfg)
    assert skipped["messages.csv"] is False
    assert _loaded(cfg) == [("T1", 1), ("T2", 1), ("T3", 1)]

    # an export of unrelated new tickets: years of messages are not read again
    _write_csv(tmp_path / "tickets-3.csv", [["T4", *GOOD[0][1:]]], HEADER)
    skipped = _ingest(cfg)
    assert skipped["tickets-3.csv"] is False and skipped["messages.csv"] is True
    assert _loaded(cfg) == [("T1", 1), ("T2", 1), ("T3", 1)]

    # T2 disappears from its export: its message is quarantined, not left orphaned
    _write_csv(tmp_path / "tickets-1.csv", GOOD[:1])
    skipped = _ingest(cfg)
    assert skipped["messages.csv"] is False
    assert _loaded(cfg) == [("T1", 1), ("T3", 1)]
    with open_store(cfg.duckdb_path) as con:
        (waiting,) = con.execute(
            "SELECT count(*) FROM raw.quarantine WHERE reason LIKE 'ticket_id: no loaded ticket%'"
        ).fetchone()
    assert waiting == 2  # T2's and T99's
