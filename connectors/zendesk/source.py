"""Zendesk tickets and comments as chunks: one export page = one chunk = one transaction.

The stored cursor is the page's `after_cursor`; the vendor documents it as the start of the
next export, so a later run continues exactly where the last committed page ended.
Deleted tickets arrive with status "deleted" and are marked (deleted_at), not dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb

from connectors.api_common import rows_table, run_api_source, text
from connectors.errors import IngestError
from connectors.incremental import DELETED, Chunk, read_cursor
from connectors.load_report import OriginReport, Progress
from connectors.zendesk import settings
from connectors.zendesk.client import ZendeskClient
from ticket_audit.config.sources import ZendeskSource
from ticket_audit.model import MESSAGE_COLUMNS

# Columns every flattened ticket has, whatever the page holds (derived from side-loads).
DERIVED = (
    "via_channel",
    "tags",
    "satisfaction_score",
    "satisfaction_csat",
    "group_name",
    "requester_locale",
    "requester_language",
    "solved_at",
    "first_response_at",
    DELETED,
)


def _role(author: Any, users: dict[Any, dict], requester: Any) -> str:
    user = users.get(author)
    role = settings.ROLE_MAP.get(user.get("role")) if user else None
    if role:
        return role
    if author is not None and author == requester:
        return "customer"
    return "system" if author in (None, -1) else "agent"


def message_rows(
    ticket: dict[str, Any], comments: list[dict[str, Any]], users: dict[Any, dict]
) -> list[dict[str, str | None]]:
    requester = ticket.get("requester_id")
    rows = []
    for seq, c in enumerate(comments):
        body = c.get("plain_body")
        rows.append(
            {
                "ticket_id": text(ticket.get("id")),
                "seq": str(seq),
                "author_role": _role(c.get("author_id"), users, requester),
                "author_id": text(c.get("author_id")),
                "created_at": text(c.get("created_at")),
                "body": body if body is not None else text(c.get("body")),
                "is_public": text(c.get("public", True)),
            }
        )
    return rows


def flatten_ticket(
    t: dict[str, Any],
    users: dict[Any, dict],
    groups: dict[Any, dict],
    metrics: dict[Any, dict],
    messages: list[dict[str, str | None]],
) -> dict[str, str | None]:
    """One ticket object as text columns (docs/connectors.md lists them)."""
    row = {k: text(t[k]) for k in settings.TICKET_KEYS if k in t}
    via = t.get("via") if isinstance(t.get("via"), dict) else {}
    row["via_channel"] = text(via.get("channel"))
    row["tags"] = json.dumps(t.get("tags") or [], ensure_ascii=False)
    rating = t.get("satisfaction_rating") if isinstance(t.get("satisfaction_rating"), dict) else {}
    row["satisfaction_score"] = text(rating.get("score"))
    row["satisfaction_csat"] = settings.SATISFACTION_CSAT.get(rating.get("score"))
    for field in t.get("custom_fields") or []:
        if isinstance(field, dict) and "id" in field:
            row[f"custom_field_{field['id']}"] = text(field.get("value"))
    group = groups.get(t.get("group_id"))
    row["group_name"] = text(group.get("name")) if group else None
    requester = users.get(t.get("requester_id"))
    locale = requester.get("locale") if requester else None
    row["requester_locale"] = text(locale)
    row["requester_language"] = locale.split("-")[0].lower() if isinstance(locale, str) else None
    metric = metrics.get(t.get("id"))
    row["solved_at"] = text(metric.get("solved_at")) if metric else None
    first_reply = next(
        (
            m["created_at"]
            for m in messages[1:]
            if m["author_role"] == "agent" and m["is_public"] == "true"
        ),
        None,
    )
    row["first_response_at"] = first_reply
    row[DELETED] = "true" if t.get("status") == settings.DELETED_STATUS else None
    return row


def _by_id(items: Any, key: str = "id") -> dict[Any, dict]:
    return {i.get(key): i for i in items or [] if isinstance(i, dict)}


def chunks(client: ZendeskClient, source: ZendeskSource, cursor: str | None) -> Iterator[Chunk]:
    origin = f"zendesk {client.base_url}{settings.INCREMENTAL_TICKETS}"
    msg_origin = f"zendesk {client.base_url}{settings.TICKET_COMMENTS.format(ticket_id='*')}"
    pages = client.export_pages(
        cursor=cursor,
        start_time=int(source.start_time.timestamp()),
        include=source.include,
        per_page=source.per_page,
    )
    for number, page in enumerate(pages, start=1):
        users = _by_id(page.get("users"))
        groups = _by_id(page.get("groups"))
        metrics = _by_id(page.get("metric_sets"), "ticket_id")
        rows, messages = [], []
        for t in page["tickets"]:
            if not isinstance(t, dict) or "id" not in t:
                raise IngestError(
                    f"source {source.name!r}: export page {number}: a ticket entry is not an "
                    "object with an `id`; nothing of this page was loaded"
                )
            conversation: list[dict[str, str | None]] = []
            if source.messages and t.get("status") != settings.DELETED_STATUS:
                comments, comment_users = client.comments(t["id"])
                conversation = message_rows(t, comments, {**users, **comment_users})
            rows.append(flatten_ticket(t, users, groups, metrics, conversation))
            messages += conversation
        yield Chunk(
            rows_table(rows, DERIVED),
            {"after_cursor": page["after_cursor"]},
            origin,
            messages=rows_table(messages, MESSAGE_COLUMNS) if source.messages else None,
            messages_origin=msg_origin,
        )


def ingest(
    con: duckdb.DuckDBPyConnection,
    cfg,
    source: ZendeskSource,
    progress: Progress,
    force: bool = False,
) -> list[OriginReport]:
    label = f"source {source.name!r}"
    stored = None if force else read_cursor(con, source.name)
    cursor = (stored or {}).get("after_cursor")
    progress(
        f"{label}: zendesk export "
        + ("resuming from the stored cursor" if cursor else f"from {source.start_time:%Y-%m-%d}")
    )
    client = ZendeskClient(source, label)
    try:
        return run_api_source(con, cfg, source, chunks(client, source, cursor), progress)
    finally:
        client.close()
