"""Real HTTP servers on 127.0.0.1 that speak the documented page formats of Zendesk's
incremental ticket export and Freshdesk's ticket listing, with injectable faults.

Faults are rules matched against each request: an HTTP status (with headers such as
Retry-After), a body that is not JSON, a response cut off mid-body, or a slow answer.
Every request is logged (path, query), so tests can see where a resumed run started.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    path: str  # substring of the request path
    kind: str  # status | malformed | drop | slow | shutdown
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1  # how many matching requests it hits (-1: all)
    query: dict[str, str] = field(default_factory=dict)  # required query values
    seconds: float = 0.0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return (
            self.times != 0
            and self.path in path
            and all(query.get(k) == v for k, v in self.query.items())
        )


class FakeServer:
    """A ThreadingHTTPServer on a random port of 127.0.0.1, run in a daemon thread."""

    def __init__(self, user: str, password: str) -> None:
        self.expected_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.faults: list[Fault] = []
        self.log: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.stopped = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                outer._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, fragment: str) -> list[dict[str, str]]:
        return [q for p, q in self.log if fragment in p]

    # -- plumbing -------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.log.append((parts.path, query))
            fault = next((f for f in self.faults if f.matches(parts.path, query)), None)
            if fault is not None and fault.times > 0:
                fault.times -= 1
        if h.headers.get("Authorization") != self.expected_auth:
            return self._send(h, 401, {"error": "Couldn't authenticate you"})
        if fault is not None:
            if fault.kind == "status":
                return self._send(h, fault.status, {"error": "fault"}, fault.headers)
            if fault.kind == "malformed":
                return self._raw(h, 200, b'{"tickets": [{"id": 1, "subject": "cut')
            if fault.kind == "drop":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", "100000")
                h.end_headers()
                h.wfile.write(b'{"tickets": [')
                h.wfile.flush()
                h.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault.kind == "shutdown":
                # The server goes away mid-export: this request dies, later ones are refused.
                h.connection.shutdown(socket.SHUT_RDWR)
                threading.Thread(target=self.stop, daemon=True).start()
                return None
        try:
            status, body, headers = self.route(parts.path, query)
        except KeyError:
            status, body, headers = 404, {"error": "RecordNotFound"}, {}
        self._send(h, status, body, headers)

    def _send(self, h, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(h, status, json.dumps(body).encode(), headers)

    def _raw(self, h, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


class FakeZendesk(FakeServer):
    """GET /api/v2/incremental/tickets/cursor.json and /api/v2/tickets/{id}/comments.json."""

    def __init__(self, email: str = "agent@example.com", token: str = "zd-secret-token") -> None:
        super().__init__(f"{email}/token", token)
        self.tickets: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {
            1: {"id": 1, "name": "Agent Smith", "role": "agent", "locale": "en-US"},
        }
        self.groups = {10: {"id": 10, "name": "Billing"}}
        self.comments: dict[int, list[dict[str, Any]]] = {}

    def add_ticket(self, tid: int, updated: int, **fields: Any) -> dict[str, Any]:
        requester = 1000 + tid
        self.users[requester] = {
            "id": requester,
            "name": f"Customer {tid}",
            "role": "end-user",
            "locale": fields.pop("locale", "de-DE"),
        }
        ticket = {
            "id": tid,
            "url": f"{self.base_url}/api/v2/tickets/{tid}.json",
            "created_at": iso(updated - 3600),
            "updated_at": iso(updated),
            "generated_timestamp": updated,
            "type": "question",
            "subject": f"Subject {tid}",
            "description": f"Help with {tid}",
            "priority": "normal",
            "status": "open",
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": 1,
            "group_id": 10,
            "tags": ["billing", f"t{tid}"],
            "via": {"channel": "email", "source": {}},
            "satisfaction_rating": {"score": "good"},
            "custom_fields": [{"id": 360001, "value": "Refunds"}],
            **fields,
        }
        self.tickets[tid] = ticket
        self.comments[tid] = [
            {
                "id": tid * 10,
                "type": "Comment",
                "author_id": requester,
                "body": f"Help with {tid}",
                "plain_body": f"Help with {tid}",
                "public": True,
                "created_at": iso(updated - 3600),
            },
            {
                "id": tid * 10 + 1,
                "type": "Comment",
                "author_id": 1,
                "body": f"Reply to {tid}",
                "plain_body": f"Reply to {tid}",
                "public": True,
                "created_at": iso(updated - 1800),
            },
        ]
        return ticket

    def update_ticket(self, tid: int, updated: int, **fields: Any) -> None:
        self.tickets[tid].update(updated_at=iso(updated), generated_timestamp=updated, **fields)

    @staticmethod
    def _cursor(ticket: dict[str, Any]) -> str:
        raw = f"{ticket['generated_timestamp']}:{ticket['id']}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if path == "/api/v2/incremental/tickets/cursor.json":
            return self._export(query)
        if path.startswith("/api/v2/tickets/") and path.endswith("/comments.json"):
            return self._comments(int(path.split("/")[4]), query)
        raise KeyError(path)

    def _export(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        stream = sorted(self.tickets.values(), key=lambda t: (t["generated_timestamp"], t["id"]))
        if "cursor" in query:
            ts, tid = base64.urlsafe_b64decode(query["cursor"]).decode().split(":")
            after = (int(ts), int(tid))
            stream = [t for t in stream if (t["generated_timestamp"], t["id"]) > after]
            position = after
        else:
            start = int(query["start_time"])
            stream = [t for t in stream if t["generated_timestamp"] >= start]
            position = (start - 1, 0)
        per_page = int(query.get("per_page", 1000))
        page = stream[:per_page]
        last = page[-1] if page else None
        cursor = (
            self._cursor(last)
            if last
            else base64.urlsafe_b64encode(f"{position[0]}:{position[1]}".encode()).decode()
        )
        body: dict[str, Any] = {
            "tickets": [json.loads(json.dumps(t)) for t in page],
            "after_cursor": cursor,
            "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(stream) <= per_page,
        }
        include = set(query.get("include", "").split(","))
        if "users" in include:
            ids = {t["requester_id"] for t in page} | {t.get("assignee_id") for t in page}
            body["users"] = [u for i, u in self.users.items() if i in ids]
        if "groups" in include:
            body["groups"] = list(self.groups.values())
        if "metric_sets" in include:
            body["metric_sets"] = [
                {
                    "ticket_id": t["id"],
                    "solved_at": t["updated_at"] if t["status"] in ("solved", "closed") else None,
                }
                for t in page
            ]
        return 200, body, {}

    def _comments(self, tid: int, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        ticket = self.tickets[tid]
        if ticket["status"] == "deleted":
            raise KeyError(tid)
        comments = self.comments[tid]
        size = int(query.get("page[size]", 100))
        start = int(query.get("page[after]", "0"))
        page = comments[start : start + size]
        more = start + size < len(comments)
        authors = {c["author_id"] for c in page}
        return (
            200,
            {
                "comments": page,
                "users": [u for i, u in self.users.items() if i in authors],
                "meta": {"has_more": more, "after_cursor": str(start + size) if more else None},
                "links": {"next": None},
            },
            {},
        )


class FakeFreshdesk(FakeServer):
    """GET /api/v2/tickets (updated_since, order_by, page, filter) and conversations."""

    def __init__(self, api_key: str = "fd-secret-key") -> None:
        super().__init__(api_key, "X")
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}

    def add_ticket(self, tid: int, updated: int, **fields: Any) -> dict[str, Any]:
        ticket = {
            "id": tid,
            "subject": f"Subject {tid}",
            "description": f"<div>Help with {tid}</div>",
            "description_text": f"Help with {tid}",
            "status": 2,
            "priority": 1,
            "source": 1,
            "type": "Refund",
            "requester_id": 5000 + tid,
            "responder_id": 77,
            "group_id": 9,
            "company_id": None,
            "product_id": None,
            "tags": ["vip"],
            "custom_fields": {"cf_category": "Billing"},
            "created_at": iso(updated - 7200),
            "updated_at": iso(updated),
            "due_by": iso(updated + 86400),
            "fr_due_by": iso(updated + 3600),
            "is_escalated": False,
            "spam": False,
            "deleted": False,
            "stats": {
                "first_responded_at": iso(updated - 3600),
                "resolved_at": None,
                "closed_at": None,
                "agent_responded_at": iso(updated - 3600),
            },
            **fields,
        }
        self.tickets[tid] = ticket
        self.conversations[tid] = [
            {
                "id": tid * 10,
                "body": f"<p>Reply to {tid}</p>",
                "body_text": f"Reply to {tid}",
                "incoming": False,
                "private": False,
                "user_id": 77,
                "created_at": iso(updated - 3600),
                "source": 0,
            },
            {
                "id": tid * 10 + 1,
                "body_text": "internal note",
                "incoming": False,
                "private": True,
                "user_id": 78,
                "created_at": iso(updated - 3000),
                "source": 2,
            },
        ]
        return ticket

    def update_ticket(self, tid: int, updated: int, **fields: Any) -> None:
        self.tickets[tid].update(updated_at=iso(updated), **fields)

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if path == "/api/v2/tickets":
            return self._list(query)
        if path.startswith("/api/v2/tickets/") and path.endswith("/conversations"):
            return self._conversations(int(path.split("/")[4]), query)
        raise KeyError(path)

    def _page(self, items: list, query: dict[str, str], path: str, extra: dict[str, str]):
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        if page > 300:
            return 400, {"description": "Validation failed", "errors": [{"field": "page"}]}, {}
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            q = "&".join(f"{k}={v}" for k, v in {**extra, "per_page": per_page}.items())
            headers["Link"] = f'<{self.base_url}{path}?{q}&page={page + 1}>; rel="next"'
        return 200, chunk, headers

    def _list(self, query: dict[str, str]):
        if query.get("filter") == "deleted":
            items = [t for t in self.tickets.values() if t["deleted"]]
            items.sort(key=lambda t: t["id"])
            return self._page(items, query, "/api/v2/tickets", {"filter": "deleted"})
        since = query.get("updated_since")
        items = [
            t
            for t in self.tickets.values()
            if not t["deleted"] and (not since or t["updated_at"] >= since)
        ]
        assert query.get("order_by") == "updated_at" and query.get("order_type") == "asc"
        items.sort(key=lambda t: (t["updated_at"], t["id"]))
        include = set(query.get("include", "").split(","))
        out = []
        for t in items:
            t = json.loads(json.dumps(t))
            if "description" not in include:
                t.pop("description", None)
                t.pop("description_text", None)
            if "stats" not in include:
                t.pop("stats", None)
            out.append(t)
        return self._page(out, query, "/api/v2/tickets", {"updated_since": since or ""})

    def _conversations(self, tid: int, query: dict[str, str]):
        if self.tickets[tid]["deleted"]:
            raise KeyError(tid)
        return self._page(
            self.conversations[tid], query, f"/api/v2/tickets/{tid}/conversations", {}
        )
