"""Freshdesk HTTP client: API-key auth from the environment, ticket pages, conversations."""

from __future__ import annotations

from typing import Any

from connectors.credentials import secret_from_env
from connectors.errors import IngestError
from connectors.freshdesk import settings
from connectors.http import HttpClient
from ticket_audit.config.sources import FreshdeskSource


def _objects(data: Any, where: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise IngestError(f"{where}: unexpected response: expected a JSON list of {what}")
    return data


class FreshdeskClient:
    def __init__(self, source: FreshdeskSource, label: str, sleep=None) -> None:
        self.label = label
        key = secret_from_env(label, source.api_key_env, "Freshdesk API key")
        assert key is not None
        self.base_url = (source.base_url or f"https://{source.domain}.freshdesk.com").rstrip("/")
        extra = {"sleep": sleep} if sleep is not None else {}
        self.http = HttpClient(
            self.base_url,
            label=label,
            # Freshdesk: the API key is the user name, any password ("X" by convention).
            auth=(key, "X"),
            timeout_s=source.timeout_s,
            max_retries=source.max_retries,
            backoff_s=source.backoff_s,
            max_wait_s=source.max_wait_s,
            max_requests=source.max_requests,
            auth_hint=f"check the API key in ${source.api_key_env}",
            **extra,
        )

    def close(self) -> None:
        self.http.close()

    def tickets_page(
        self,
        *,
        updated_since: str | None,
        page: int,
        per_page: int,
        include: list[str],
        deleted: bool = False,
    ) -> tuple[list[dict[str, Any]], bool]:
        """(tickets, whether the Link header announces a next page)."""
        params: dict[str, Any] = {"per_page": per_page, "page": page}
        if deleted:
            params["filter"] = settings.DELETED_FILTER
        else:
            params.update(updated_since=updated_since, order_by="updated_at", order_type="asc")
            if include:
                params["include"] = ",".join(include)
        data, resp = self.http.get_json(settings.TICKETS, params)
        tickets = _objects(data, f"{self.label}: GET {settings.TICKETS} page {page}", "tickets")
        return tickets, "next" in resp.links

    def conversations(self, ticket_id: Any) -> list[dict[str, Any]]:
        """Replies and notes of a ticket, oldest first; [] when the ticket is gone."""
        path = settings.CONVERSATIONS.format(ticket_id=ticket_id)
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"per_page": settings.CONVERSATIONS_PAGE_SIZE, "page": page}
            data, resp = self.http.get_json(path, params, allow=(404,))
            if resp.status_code == 404:
                return []
            out += _objects(data, f"{self.label}: GET {path}", "conversations")
            if "next" not in resp.links or not data:
                return out
            page += 1
