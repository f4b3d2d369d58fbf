"""HTTP for helpdesk APIs: timeouts, retries with backoff, 429 + Retry-After, bounded loops.

Every request is bounded (timeout), every retry loop is bounded (max_retries for faults,
max_wait_s for a single wait, max_requests for the whole run), and no message ever carries a
credential: authentication lives in a header that httpx never prints, and anything that
could echo a secret is scrubbed.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.credentials import scrub
from connectors.errors import IngestError, SourceUnavailableError

log = logging.getLogger(__name__)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_ts = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - now_ts)


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        auth: tuple[str, str],
        timeout_s: float,
        max_retries: int,
        backoff_s: float,
        max_wait_s: float,
        max_requests: int,
        auth_hint: str,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.max_requests = max_requests
        self.auth_hint = auth_hint
        # Looked up per call when not given, so a test can stand in for the clock.
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        self.requests = 0
        self.waited_s = 0.0
        self._secrets = [auth[0], auth[1]]
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(*auth),
            timeout=httpx.Timeout(timeout_s),
            headers={"Accept": "application/json", "User-Agent": "ticket-audit"},
            # A redirect could carry the Authorization header to another host.
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, seconds: float, why: str, path: str) -> None:
        if seconds > self.max_wait_s:
            raise SourceUnavailableError(
                f"{self.label}: GET {path}: {why}; the server asks to wait {seconds:.0f} s, "
                f"more than max_wait_s ({self.max_wait_s:.0f} s). Nothing after the last "
                "committed cursor was lost; run again later."
            )
        log.info("%s: GET %s: %s; waiting %.1f s", self.label, path, why, seconds)
        self.waited_s += seconds
        self.sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        # Exponential with jitter, so parallel clients do not retry in lockstep.
        base = self.backoff_s * (2 ** (attempt - 1))
        return min(self.max_wait_s, base * (0.5 + random.random() / 2))

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, allow: tuple[int, ...] = ()
    ) -> httpx.Response:
        """GET with retries; returns the response (2xx, or a status listed in `allow`)."""
        faults = 0
        while True:
            self.requests += 1
            if self.requests > self.max_requests:
                raise IngestError(
                    f"{self.label}: more than max_requests ({self.max_requests}) requests in "
                    "one run; stopping (the committed cursor is kept, the next run resumes)"
                )
            try:
                resp = self._client.get(path, params=params)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                faults += 1
                reason = scrub(f"{type(exc).__name__}: {exc}", *self._secrets)
                if faults > self.max_retries:
                    raise SourceUnavailableError(
                        f"{self.label}: GET {path}: {reason} (after {faults} attempts). "
                        "The committed cursor is kept; the next run resumes from it."
                    ) from None
                self._wait(self._backoff(faults), reason, path)
                continue
            status = resp.status_code
            if status == 429:
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                if wait is None:
                    faults += 1
                    if faults > self.max_retries:
                        raise SourceUnavailableError(
                            f"{self.label}: GET {path}: HTTP 429 without Retry-After, "
                            f"{faults} times"
                        )
                    wait = self._backoff(faults)
                self._wait(wait, "rate limited (HTTP 429)", path)
                continue
            if status >= 500:
                faults += 1
                if faults > self.max_retries:
                    raise SourceUnavailableError(
                        f"{self.label}: GET {path}: HTTP {status} (after {faults} attempts). "
                        "The committed cursor is kept; the next run resumes from it."
                    )
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                self._wait(
                    wait if wait is not None else self._backoff(faults), f"HTTP {status}", path
                )
                continue
            if status in allow:
                return resp
            if status in (401, 403):
                raise SourceUnavailableError(
                    f"{self.label}: GET {path}: HTTP {status} "
                    f"({'unauthorized' if status == 401 else 'forbidden'}): {self.auth_hint}"
                )
            if status >= 300:
                body = scrub(resp.text[:200].replace("\n", " "), *self._secrets)
                raise IngestError(f"{self.label}: GET {path}: HTTP {status}: {body}")
            return resp

    def get_json(
        self, path: str, params: dict[str, Any] | None = None, *, allow: tuple[int, ...] = ()
    ) -> tuple[Any, httpx.Response]:
        resp = self.get(path, params, allow=allow)
        if resp.status_code in allow:
            return None, resp
        try:
            return resp.json(), resp
        except ValueError as exc:
            raise IngestError(
                f"{self.label}: GET {path}: the response is not valid JSON ({exc}). "
                "Nothing of this page was loaded; the next run resumes from the last "
                "committed cursor."
            ) from None
