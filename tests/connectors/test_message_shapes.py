"""Message exports as they come: one row per utterance, reply-id threads, coded booleans,
helpdesk role names. Strict where a guess would mislead: a value that is not a boolean or a
role nobody mapped quarantines the message with its reason; rows read = loaded + quarantined.
Expected numbers are worked out here from the files with the csv module."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from connectors.ingest import ingest_config
from tests.conftest import write_config
from ticket_audit.config import ConfigError, load_config

TICKETS = [["id", "created", "subject"], ["T1", "2024-01-01 10:00:00", "Login"]]
TICKETS += [["T2", "2024-01-02 10:00:00", "Refund"]]
LINES = [
    ["ticket", "comment_id", "line_no", "who", "is_private", "text", "at"],
    ["T1", "c1", "2", "reporter", "0.0", "second line", "2024-01-01 10:00:00"],
    ["T1", "c1", "1", "reporter", "0.0", "first line", "2024-01-01 10:00:00"],
    ["T1", "c1", "10", "reporter", "0.0", "tenth line", "2024-01-01 10:00:00"],
    ["T1", "c2", "1", "assignee", "1.0", "internal note", "2024-01-01 11:00:00"],
    ["T1", "c3", "1", "assignee", "0.0", "Hello", "2024-01-01 12:00:00"],
    ["T1", "c3", "2", "assignee", "maybe", "Regards", "2024-01-01 12:00:00"],
    ["T2", "c4", "1", "bot", "0.0", "auto reply", "2024-01-02 10:00:00"],
    ["T2", "c5", "1", "", "0.0", "no role", "2024-01-02 11:00:00"],
    ["T2", "c6", "1", "reporter", "0.0", "thanks", "2024-01-02 12:00:00"],
    ["T9", "c7", "1", "reporter", "0.0", "orphan", "2024-01-02 12:00:00"],
]
ROLE_MAP = {"reporter": "customer", "assignee": "agent"}
PRIVATE = {"0.0": True, "1.0": False}  # is_public from an is_private column


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _db(cfg, sql: str) -> list[tuple]:
    con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _config(tmp_path: Path, messages: dict, tickets: str = "tickets.csv", fields=None) -> Path:
    return write_config(
        tmp_path,
        {
            "audit": {"duckdb_path": str(tmp_path / "a.duckdb")},
            "sources": [
                {
                    "name": "s",
                    "kind": "file",
                    "path": tickets,
                    "mapping": {
                        "fields": fields
                        or {"ticket_id": "id", "created_at": "created", "subject": "subject"},
                        "messages": {"file": messages},
                    },
                }
            ],
        },
    )


@pytest.fixture
def utterances(tmp_path: Path):
    _write(tmp_path / "tickets.csv", TICKETS)
    _write(tmp_path / "lines.csv", LINES)
    spec = {
        "path": "lines.csv",
        "fields": {
            "ticket_id": "ticket",
            "author_role": "who",
            "is_public": "is_private",
            "body": "text",
            "created_at": "at",
        },
        "group_rows_by": ["comment_id"],
        "order_by": "line_no",
        "value_maps": {"is_public": {"0.0": True, "1.0": False}},
        "role_map": ROLE_MAP,
    }
    cfg = load_config(_config(tmp_path, spec))
    return cfg, ingest_config(cfg, progress=lambda _m: None)


def _expected_groups() -> dict[str, dict]:
    """By hand: each comment's rows, whether every row is readable, its joined text."""
    rows = [dict(zip(LINES[0], r, strict=True)) for r in LINES[1:]]
    tickets = {t[0] for t in TICKETS[1:]}
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["comment_id"]].append(r)
    out = {}
    for cid, members in groups.items():
        ok = all(
            r["is_private"] in PRIVATE
            and (r["who"] in ROLE_MAP or r["who"] in ("customer", "agent", "system"))
            and r["ticket"] in tickets
            for r in members
        )
        ordered = sorted(members, key=lambda r: float(r["line_no"]))
        out[cid] = {
            "rows": len(members),
            "ok": ok,
            "body": "\n".join(r["text"] for r in ordered),
            "public": PRIVATE.get(members[0]["is_private"]),
        }
    return out


def test_utterances_become_messages_and_every_row_is_accounted(utterances) -> None:
    cfg, report = utterances
    expected = _expected_groups()
    totals = report.totals("messages")
    assert totals["rows_read"] == len(LINES) - 1
    assert totals["rows_loaded"] == sum(g["rows"] for g in expected.values() if g["ok"])
    assert totals["rows_quarantined"] == sum(g["rows"] for g in expected.values() if not g["ok"])
    loaded = _db(cfg, "SELECT body, is_public FROM canonical.messages ORDER BY ticket_id, seq")
    assert len(loaded) == sum(g["ok"] for g in expected.values())
    want = sorted((g["body"], g["public"]) for g in expected.values() if g["ok"])
    assert sorted(loaded) == want
    # Rows are ordered by number, not text: "10" comes after "2".
    assert ("first line\nsecond line\ntenth line", True) in loaded


def test_unreadable_booleans_and_unmapped_roles_quarantine_with_reasons(utterances) -> None:
    cfg, _ = utterances
    reasons = dict(_db(cfg, "SELECT row_number, reason FROM raw.quarantine"))
    assert reasons[6].startswith("is_public: not a boolean (column is_private")
    # Its message's other row goes with it, saying why.
    assert reasons[5].startswith("row 6: is_public: not a boolean")
    assert reasons[7].startswith("author_role: unknown role (column who")
    assert reasons[8] == "author_role: missing (column who)"
    assert reasons[10] == "ticket_id: no loaded ticket with this id"
    # Nothing defaulted: no message of the bot or the blank role became a customer's.
    assert _db(cfg, "SELECT count(*) FROM canonical.messages WHERE body LIKE '%auto reply%'") == [
        (0,)
    ]


def test_reply_chains_become_threads_of_their_first_message(tmp_path: Path) -> None:
    _write(
        tmp_path / "roots.csv",
        [["tweet_id", "created_at", "text"], ["1", "2017-10-31 10:00:00", "late order"]]
        + [["5", "2017-10-31 11:00:00", "app crashes"]],
    )
    tweets = [
        ["tweet_id", "in_response_to_tweet_id", "inbound", "created_at", "text"],
        ["1", "", "True", "2017-10-31 10:00:00", "late order"],
        ["2", "1", "False", "2017-10-31 10:05:00", "sorry ^AB"],
        ["4", "3", "False", "2017-10-31 10:12:00", "welcome /CD"],
        ["3", "2", "True", "2017-10-31 10:10:00", "thanks"],
        ["5", "", "True", "2017-10-31 11:00:00", "app crashes"],
        ["6", "5", "False", "2017-10-31 11:05:00", "which version?"],
        ["7", "99", "True", "2017-10-31 12:00:00", "reply to a tweet not exported"],
    ]
    _write(tmp_path / "tweets.csv", tweets)
    spec = {
        "path": "tweets.csv",
        "fields": {"author_role": "inbound", "body": "text", "created_at": "created_at"},
        "thread_by": {"id": "tweet_id", "in_reply_to": "in_response_to_tweet_id"},
        "role_map": {"True": "customer", "False": "agent"},
    }
    fields = {"ticket_id": "tweet_id", "created_at": "created_at", "description": "text"}
    cfg = load_config(_config(tmp_path, spec, "roots.csv", fields))
    report = ingest_config(cfg, progress=lambda _m: None)
    # By hand: follow each tweet's reply id up to a tweet that replies to nothing here.
    parent = {r[0]: r[1] for r in tweets[1:]}

    def root(t: str) -> str:
        while parent.get(t):
            if parent[t] not in parent:
                return t
            t = parent[t]
        return t

    roots = {"1", "5"}
    expected = sorted((root(r[0]), r[4]) for r in tweets[1:] if root(r[0]) in roots)
    got = _db(cfg, "SELECT ticket_id, body FROM canonical.messages")
    assert sorted(got) == expected
    assert report.totals("messages") == {
        "rows_read": 7,
        "rows_loaded": len(expected),
        "rows_quarantined": 7 - len(expected),
    }
    # Numbered by time within the thread, whatever the file order.
    seqs = _db(cfg, "SELECT body FROM canonical.messages WHERE ticket_id = '1' ORDER BY seq")
    assert [b for (b,) in seqs] == ["late order", "sorry ^AB", "thanks", "welcome /CD"]


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ({"fields": {"body": "b"}}, "missing required message field 'ticket_id'"),
        (
            {
                "fields": {"ticket_id": "t", "body": "b"},
                "thread_by": {"id": "i", "in_reply_to": "r"},
            },
            "thread_by: the ticket of a threaded message",
        ),
        (
            {"fields": {"ticket_id": "t", "body": "b"}, "value_maps": {"is_public": {"x": True}}},
            "value_maps: field(s) ['is_public'] not mapped",
        ),
        (
            {
                "fields": {"ticket_id": "t", "body": "b", "is_public": "p"},
                "value_maps": {"is_public": {"x": "perhaps"}},
            },
            "value_maps.is_public: {'x': 'perhaps'} are not true/false",
        ),
        (
            {"fields": {"ticket_id": "t", "body": "b"}, "role_map": {"reporter": "client"}},
            "roles must be one of",
        ),
        ({"fields": {"ticket_id": "t", "body": "b"}, "group_rows_by": []}, "group_rows_by"),
    ],
)
def test_misused_message_keys_are_config_errors_naming_them(tmp_path, messages, message) -> None:
    path = _config(tmp_path, {"path": "m.csv", **messages})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "sources[0].mapping.messages" in str(err.value)
    assert message in str(err.value)


def test_utterances_from_a_spreadsheet_sheet(tmp_path: Path) -> None:
    """The DESIGN example: comments in a sheet of a workbook, one row per utterance."""
    import polars as pl

    _write(tmp_path / "tickets.csv", TICKETS)
    header, *body = LINES
    frame = pl.DataFrame([dict(zip(header, r, strict=True)) for r in body])
    frame.write_excel(tmp_path / "comments.xlsx", worksheet="comments")
    spec = {
        "path": "comments.xlsx",
        "sheet": "comments",
        "fields": {
            "ticket_id": "ticket",
            "author_role": "who",
            "body": "text",
            "is_public": "is_private",
        },
        "group_rows_by": ["comment_id"],
        "order_by": "line_no",
        "value_maps": {"is_public": {"0.0": True, "1.0": False}},
        "role_map": ROLE_MAP,
    }
    cfg = load_config(_config(tmp_path, spec))
    report = ingest_config(cfg, progress=lambda _m: None)
    expected = _expected_groups()
    totals = report.totals("messages")
    assert totals["rows_read"] == len(body)
    assert totals["rows_loaded"] == sum(g["rows"] for g in expected.values() if g["ok"])
    loaded = _db(cfg, "SELECT body FROM canonical.messages ORDER BY ticket_id, seq")
    assert sorted(b for (b,) in loaded) == sorted(g["body"] for g in expected.values() if g["ok"])
