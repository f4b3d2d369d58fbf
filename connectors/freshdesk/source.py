"""Freshdesk tickets and conversations as chunks: one listing page = one chunk.

Freshdesk lists tickets by page number, ordered by `updated_at`. Page numbers shift when a
ticket is updated during the export (it moves to the end) and stop at page 300, so the
position is (updated_since, page): after each page the reader restarts from the newest
`updated_at` it has seen (less a second: the filter's bound is taken as inclusive-or-not
safely), and only walks to the next page number while a whole page shares one timestamp.
Re-read tickets are upserted, never duplicated. Deleted tickets come from a second listing
(`filter=deleted`, read whole each run: it takes no `updated_since`) and are marked deleted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from connectors.api_common import rows_table, run_api_source, text
from connectors.errors import IngestError
from connectors.freshdesk import settings
from connectors.freshdesk.client import FreshdeskClient
from connectors.incremental import DELETED, Chunk, read_cursor
from connectors.load_report import OriginReport, Progress
from ticket_audit.config.sources import FreshdeskSource
from ticket_audit.model import MESSAGE_COLUMNS

DERIVED = ("tags", *settings.STATS_KEYS, DELETED)
PHASES = ("tickets", "deleted")


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str, where: str) -> datetime:
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise IngestError(f"{where}: a ticket has an unreadable updated_at") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def flatten_ticket(t: dict[str, Any], deleted: bool) -> dict[str, str | None]:
    row = {k: text(t[k]) for k in settings.TICKET_KEYS if k in t}
    row["tags"] = json.dumps(t.get("tags") or [], ensure_ascii=False)
    stats = t.get("stats") if isinstance(t.get("stats"), dict) else {}
    for key in settings.STATS_KEYS:
        row[key] = text(stats.get(key))
    custom = t.get("custom_fields") if isinstance(t.get("custom_fields"), dict) else {}
    for name, value in custom.items():
        row[name if name.startswith("cf_") else f"cf_{name}"] = text(value)
    row[DELETED] = "true" if deleted or t.get("deleted") is True else None
    return row


def message_rows(
    t: dict[str, Any], conversations: list[dict[str, Any]]
) -> list[dict[str, str | None]]:
    """The description as message 0 (the customer's first words), then every conversation."""
    tid, requester = text(t.get("id")), t.get("requester_id")
    rows: list[dict[str, str | None]] = []
    if t.get("description_text"):
        rows.append(
            {
                "ticket_id": tid,
                "seq": "0",
                "author_role": "customer",
                "author_id": text(requester),
                "created_at": text(t.get("created_at")),
                "body": t.get("description_text"),
                "is_public": "true",
            }
        )
    ordered = sorted(conversations, key=lambda c: (str(c.get("created_at")), str(c.get("id"))))
    for c in ordered:
        incoming = c.get("incoming") is True or (
            c.get("user_id") is not None and c.get("user_id") == requester
        )
        rows.append(
            {
                "ticket_id": tid,
                "seq": str(len(rows)),
                "author_role": "customer" if incoming else "agent",
                "author_id": text(c.get("user_id")),
                "created_at": text(c.get("created_at")),
                "body": c.get("body_text")
                if c.get("body_text") is not None
                else text(c.get("body")),
                "is_public": "false" if c.get("private") is True else "true",
            }
        )
    return rows


def initial_state(source: FreshdeskSource) -> dict[str, Any]:
    return {
        "phase": "tickets",
        "tickets": [_iso(source.updated_since), 1, {}],
        "deleted": [None, 1, {}],
    }


def _next_position(
    since: str,
    page: int,
    seen: dict[str, str],
    page_tickets: list[dict[str, Any]],
    done: bool,
    where: str,
) -> list[Any]:
    """Where the next page starts, and which tickets in that window were loaded already."""
    newest = max((_parse(t["updated_at"], where) for t in page_tickets), default=None)
    restart = _iso(newest - timedelta(seconds=1)) if newest else since
    if done or restart > since:
        since_next = max(restart, since)
        # Tickets of this window already loaded at this very version: skipped on re-read.
        versions = {str(t["id"]): _iso(_parse(t["updated_at"], where)) for t in page_tickets}
        window = {k: v for k, v in versions.items() if v >= since_next}
        keep = {k: v for k, v in seen.items() if v >= since_next}
        return [since_next, 1, {**keep, **window}]
    if page + 1 > settings.MAX_PAGE:
        raise IngestError(
            f"{where}: more than {settings.MAX_PAGE} pages of tickets share the updated_at "
            f"second {since}; Freshdesk serves no further pages"
        )
    versions = {str(t["id"]): _iso(_parse(t["updated_at"], where)) for t in page_tickets}
    return [since, page + 1, {**seen, **versions}]


def chunks(
    client: FreshdeskClient, source: FreshdeskSource, state: dict[str, Any]
) -> Iterator[Chunk]:
    origin = f"freshdesk {client.base_url}{settings.TICKETS}"
    msg_origin = f"freshdesk {client.base_url}{settings.CONVERSATIONS.format(ticket_id='*')}"
    phases = [p for p in PHASES if p == "tickets" or source.deleted]
    state = copy.deepcopy(state)
    start = phases.index(state["phase"]) if state.get("phase") in phases else 0
    for i, phase in enumerate(phases[start:], start=start):
        deleted = phase == "deleted"
        while True:
            since, page, seen = state[phase]
            where = f"source {source.name!r}: GET {settings.TICKETS} ({phase}, page {page})"
            listed, has_next = client.tickets_page(
                updated_since=since,
                page=page,
                per_page=source.per_page,
                include=source.include,
                deleted=deleted,
            )
            for t in listed:
                if "id" not in t or not isinstance(t.get("updated_at"), str):
                    raise IngestError(f"{where}: a ticket has no `id` or `updated_at`")
            rows, messages = [], []
            for t in listed:
                version = _iso(_parse(t["updated_at"], where))
                if not deleted and seen.get(str(t["id"])) == version:
                    continue  # this version was loaded from the previous page
                conversation: list[dict[str, str | None]] = []
                if source.messages and not deleted:
                    conversation = message_rows(t, client.conversations(t["id"]))
                rows.append(flatten_ticket(t, deleted))
                messages += conversation
            done = not has_next or not listed
            if deleted:
                # The deleted listing is read whole each run (it has no updated_since).
                state[phase] = [None, 1 if done else page + 1, {}]
            else:
                state[phase] = _next_position(since, page, seen, listed, done, where)
            if done:
                # The last phase done: the next run starts over with the first, from here.
                state["phase"] = phases[i + 1] if i + 1 < len(phases) else phases[0]
            yield Chunk(
                rows_table(rows, DERIVED),
                copy.deepcopy(state),
                origin,
                messages=rows_table(messages, MESSAGE_COLUMNS) if source.messages else None,
                messages_origin=msg_origin,
            )
            if done:
                break


def ingest(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source: FreshdeskSource,
    progress: Progress,
    force: bool = False,
) -> list[OriginReport]:
    label = f"source {source.name!r}"
    stored = None if force else read_cursor(con, source.name)
    state = stored if stored and "phase" in stored else initial_state(source)
    progress(
        f"{label}: freshdesk tickets updated since {state['tickets'][0]} "
        f"(phase {state['phase']}, page {state[state['phase']][1]})"
    )
    client = FreshdeskClient(source, label)
    try:
        return run_api_source(con, cfg, source, chunks(client, source, state), progress)
    finally:
        client.close()
