"""Zendesk HTTP client: API-token auth from the environment, export pages, ticket comments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.credentials import secret_from_env
from connectors.errors import IngestError
from connectors.http import HttpClient
from connectors.zendesk import settings
from ticket_audit.config.sources import ZendeskSource


class ZendeskClient:
    def __init__(self, source: ZendeskSource, label: str, sleep=None) -> None:
        self.label = label
        email = secret_from_env(label, source.email_env, "Zendesk agent email")
        token = secret_from_env(label, source.token_env, "Zendesk API token")
        assert email is not None and token is not None
        self.base_url = (source.base_url or f"https://{source.subdomain}.zendesk.com").rstrip("/")
        extra = {"sleep": sleep} if sleep is not None else {}
        self.http = HttpClient(
            self.base_url,
            label=label,
            auth=(f"{email}/token", token),
            timeout_s=source.timeout_s,
            max_retries=source.max_retries,
            backoff_s=source.backoff_s,
            max_wait_s=source.max_wait_s,
            max_requests=source.max_requests,
            auth_hint=(
                f"check the agent email in ${source.email_env} and the API token in "
                f"${source.token_env}"
            ),
            **extra,
        )

    def close(self) -> None:
        self.http.close()

    def export_pages(
        self, *, cursor: str | None, start_time: int, include: list[str], per_page: int
    ) -> Iterator[dict[str, Any]]:
        """Pages of the incremental ticket export, until `end_of_stream`.

        Follows `after_cursor` on our own base URL rather than `after_url`, so the
        credentials never travel to a host the configuration did not name.
        """
        base: dict[str, Any] = {"per_page": per_page}
        if include:
            base["include"] = ",".join(include)
        params = {**base, **({"cursor": cursor} if cursor else {"start_time": start_time})}
        while True:
            page, _ = self.http.get_json(settings.INCREMENTAL_TICKETS, params)
            where = f"{self.label}: GET {settings.INCREMENTAL_TICKETS}"
            if not isinstance(page, dict) or not isinstance(page.get("tickets"), list):
                raise IngestError(f"{where}: unexpected response: no `tickets` list")
            if not isinstance(page.get("end_of_stream"), bool):
                raise IngestError(f"{where}: unexpected response: no `end_of_stream` flag")
            if not page.get("after_cursor"):
                raise IngestError(f"{where}: unexpected response: no `after_cursor`")
            yield page
            if page["end_of_stream"]:
                return
            params = {**base, "cursor": page["after_cursor"]}

    def comments(self, ticket_id: Any) -> tuple[list[dict[str, Any]], dict[Any, dict]]:
        """All comments of a ticket and the side-loaded users; ([], {}) if the ticket is gone."""
        path = settings.TICKET_COMMENTS.format(ticket_id=ticket_id)
        params: dict[str, Any] = {"page[size]": settings.COMMENTS_PAGE_SIZE, "include": "users"}
        comments: list[dict[str, Any]] = []
        users: dict[Any, dict] = {}
        while True:
            data, resp = self.http.get_json(path, params, allow=(404,))
            if resp.status_code == 404:
                return [], {}
            if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
                raise IngestError(f"{self.label}: GET {path}: unexpected response: no `comments`")
            comments += data["comments"]
            users.update({u.get("id"): u for u in data.get("users") or [] if isinstance(u, dict)})
            meta = data.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return comments, users
            params = {
                "page[size]": settings.COMMENTS_PAGE_SIZE,
                "page[after]": meta["after_cursor"],
                "include": "users",
            }
