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
import tenacity

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


class _Retry(Exception):
    """An outcome to retry: why, the server's wait (None: back off), whether it is a fault,
    and the message to stop with when faults run out (`{faults}` filled in)."""

    def __init__(self, why: str, retry_after: float | None, give_up: str, fault: bool = True):
        super().__init__(why)
        self.why, self.retry_after, self.give_up, self.fault = why, retry_after, give_up, fault


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

    def _backoff(self, attempt: int) -> float:
        # Exponential with jitter, so parallel clients do not retry in lockstep.
        base = self.backoff_s * (2 ** (attempt - 1))
        return min(self.max_wait_s, base * (0.5 + random.random() / 2))

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, allow: tuple[int, ...] = ()
    ) -> httpx.Response:
        """GET with retries; returns the response (2xx, or a status listed in `allow`).

        The loop is tenacity's; the vendor rules are ours, in its three callbacks: a
        transport error, a 5xx or a 429 without Retry-After is a fault (at most
        `max_retries` of them, then the run stops with the cursor kept); a 429 with
        Retry-After waits as asked and is no fault; no single wait may exceed `max_wait_s`;
        `max_requests` bounds the whole run.
        """
        faults = 0

        def attempt() -> httpx.Response:
            nonlocal faults
            try:
                return self._attempt(path, params, allow)
            except _Retry as retry:
                faults += retry.fault
                raise

        def stop(state: tenacity.RetryCallState) -> bool:
            return faults > self.max_retries

        def wait(state: tenacity.RetryCallState) -> float:
            retry = state.outcome.exception()
            seconds = retry.retry_after
            if seconds is None:
                seconds = self._backoff(faults)
            if seconds > self.max_wait_s:
                raise SourceUnavailableError(
                    f"{self.label}: GET {path}: {retry.why}; the server asks to wait "
                    f"{seconds:.0f} s, more than max_wait_s ({self.max_wait_s:.0f} s). Nothing "
                    "after the last committed cursor was lost; run again later."
                )
            log.info("%s: GET %s: %s; waiting %.1f s", self.label, path, retry.why, seconds)
            self.waited_s += seconds
            return seconds

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=stop,
            wait=wait,
            # Looked up per call, so a test can stand in for the clock.
            sleep=lambda seconds: self.sleep(seconds),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retry as retry:  # max_retries faults: give up with the vendor's message
            raise SourceUnavailableError(retry.give_up.format(faults=faults)) from None

    def _attempt(
        self, path: str, params: dict[str, Any] | None, allow: tuple[int, ...]
    ) -> httpx.Response:
        """One request: the response, or `_Retry` saying how to retry, or an error."""
        self.requests += 1
        if self.requests > self.max_requests:
            raise IngestError(
                f"{self.label}: more than max_requests ({self.max_requests}) requests in "
                "one run; stopping (the committed cursor is kept, the next run resumes)"
            )
        try:
            resp = self._client.get(path, params=params)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            reason = scrub(f"{type(exc).__name__}: {exc}", *self._secrets)
            raise _Retry(
                reason,
                None,
                f"{self.label}: GET {path}: {reason} (after {{faults}} attempts). "
                "The committed cursor is kept; the next run resumes from it.",
            ) from None
        status = resp.status_code
        if status == 429:
            wait = retry_after_seconds(resp.headers.get("Retry-After"))
            raise _Retry(
                "rate limited (HTTP 429)",
                wait,
                f"{self.label}: GET {path}: HTTP 429 without Retry-After, {{faults}} times",
                fault=wait is None,
            )
        if status >= 500:
            raise _Retry(
                f"HTTP {status}",
                retry_after_seconds(resp.headers.get("Retry-After")),
                f"{self.label}: GET {path}: HTTP {status} (after {{faults}} attempts). "
                "The committed cursor is kept; the next run resumes from it.",
            )
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
