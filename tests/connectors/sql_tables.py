"""Uniquely named ticket tables on this machine's PostgreSQL and MariaDB, dropped afterwards.

Both hold the same data: `tickets` (typed columns, a soft-delete flag, a tags column) and
`messages` (one row per message, joined by ticket id).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

PG = dict(host="127.0.0.1", port=5432, user="postgres", dbname="test")
MY = dict(host="127.0.0.1", port=3306, user="root", password="", database="test")
BASE = datetime(2024, 3, 1, 8, 0, 0, tzinfo=UTC)


def ticket_rows(n: int, start: int = 1) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(start, start + n):
        created = BASE + timedelta(hours=i)
        rows.append(
            (
                f"T{i:04d}",
                created,
                created + timedelta(minutes=30),
                ["Billing", "Account", "Shipping"][i % 3],
                ["P1", "P2", "P3"][i % 3],
                f"Subject {i}",
                f"Body of ticket {i}",
                ["vip", f"t{i}"],
                i % 5 + 1,
                False,
                f"cust{i}@example.com",
            )
        )
    return rows


def message_rows(ids: list[str]) -> list[tuple[Any, ...]]:
    out = []
    for tid in ids:
        n = int(tid[1:])
        sent = BASE + timedelta(hours=n, minutes=1)
        out.append((tid, 0, "end-user", f"Body of ticket {n}", sent))
        out.append((tid, 1, "agent", f"Reply {n}", sent + timedelta(minutes=20)))
    return out


MAPPING = {
    "fields": {
        "ticket_id": "ticket_id",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "category": "category",
        "priority": "prio",
        "subject": "subject",
        "description": "body",
        "tags": "tags",
        "csat": "csat",
        "customer_id": "email",
    },
    "value_maps": {"priority": {"P1": "urgent", "P2": "high", "P3": "normal"}},
    "tags_separator": ";",
}
MESSAGES = {
    "fields": {
        "ticket_id": "ticket_id",
        "seq": "position",
        "author_role": "role",
        "body": "text",
        "created_at": "sent_at",
    },
    "role_map": {"end-user": "customer", "agent": "agent"},
}


class PgTables:
    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(**PG, autocommit=True)
        suffix = uuid.uuid4().hex[:8]
        self.tickets, self.messages = f"ta_t_{suffix}", f"ta_m_{suffix}"
        self.conn.execute(
            f"""CREATE TABLE {self.tickets} (
                ticket_id text PRIMARY KEY, created_at timestamptz, updated_at timestamptz,
                category text, prio text, subject text, body text, tags text[], csat smallint,
                is_deleted boolean NOT NULL DEFAULT false, email text)"""
        )
        self.conn.execute(f"CREATE INDEX ON {self.tickets} (updated_at, ticket_id)")
        self.conn.execute(
            f"""CREATE TABLE {self.messages} (ticket_id text, position int, role text,
                text text, sent_at timestamptz)"""
        )

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.tickets} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
            cur.executemany(
                f"INSERT INTO {self.messages} VALUES (%s, %s, %s, %s, %s)",
                message_rows([r[0] for r in rows]),
            )

    def execute(self, sql: str, params: list | None = None) -> None:
        self.conn.execute(sql.format(t=self.tickets, m=self.messages), params or [])

    def drop(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.tickets}")
        self.conn.execute(f"DROP TABLE IF EXISTS {self.messages}")
        self.conn.close()


class MyTables:
    def __init__(self) -> None:
        import pymysql

        self.conn = pymysql.connect(**MY, autocommit=True, charset="utf8mb4")
        suffix = uuid.uuid4().hex[:8]
        self.tickets, self.messages = f"ta_t_{suffix}", f"ta_m_{suffix}"
        self.execute(
            """CREATE TABLE {t} (
                ticket_id VARCHAR(20) PRIMARY KEY, created_at DATETIME(6),
                updated_at DATETIME(6), category TEXT, prio TEXT, subject TEXT, body TEXT,
                tags TEXT, csat SMALLINT, is_deleted TINYINT NOT NULL DEFAULT 0, email TEXT,
                KEY cursor_idx (updated_at, ticket_id)) CHARACTER SET utf8mb4"""
        )
        self.execute(
            """CREATE TABLE {m} (ticket_id VARCHAR(20), position INT, role TEXT, text TEXT,
                sent_at DATETIME(6)) CHARACTER SET utf8mb4"""
        )

    @staticmethod
    def _naive(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None)
        if isinstance(v, list):
            return ";".join(v)
        return v

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.tickets} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [tuple(self._naive(v) for v in r) for r in rows],
            )
            cur.executemany(
                f"INSERT INTO {self.messages} VALUES (%s, %s, %s, %s, %s)",
                [tuple(self._naive(v) for v in r) for r in message_rows([r[0] for r in rows])],
            )

    def execute(self, sql: str, params: list | None = None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql.format(t=self.tickets, m=self.messages), params or None)

    def drop(self) -> None:
        self.execute("DROP TABLE IF EXISTS {t}")
        self.execute("DROP TABLE IF EXISTS {m}")
        self.conn.close()


@contextmanager
def tables(kind: str) -> Iterator[PgTables | MyTables]:
    try:
        t = PgTables() if kind == "postgres" else MyTables()
    except Exception as exc:  # the service is not running on this machine
        pytest.skip(f"{kind} on 127.0.0.1 not available: {type(exc).__name__}")
    try:
        yield t
    finally:
        t.drop()


def source(kind: str, t: PgTables | MyTables, **extra: Any) -> dict[str, Any]:
    src: dict[str, Any] = {
        "name": "helpdesk_db",
        "kind": kind,
        "database": "test",
        "table": t.tickets,
        "cursor_column": "updated_at",
        "deleted_condition": "is_deleted = true" if kind == "postgres" else "is_deleted = 1",
        "messages": {"table": t.messages, **MESSAGES},
        "mapping": MAPPING,
        "connect_timeout_s": 5,
    }
    src.update(extra)
    return src
