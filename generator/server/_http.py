"""The HTTP side of `cpg load`: httpx, with bounded exponential backoff on transient failures.

Transient: HTTP 429, 502, 503, 504 and connection errors (refused, reset, dropped, timed out).
A `Retry-After` (seconds or HTTP date) is honoured, capped at `max_delay`. Retrying is left to the
caller through `Transient`: before a write is repeated, the loader looks again at what the server
already has (a dropped connection may have lost the answer, not the request).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from generator.diagnostics import Diagnostic, GeneratorError
from generator.jsonfmt import dump_compact

RETRY_STATUSES = frozenset({429, 502, 503, 504})
FHIR_JSON = "application/fhir+json"
T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's wish in seconds, if it said."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Backoff:
    """Bounded exponential backoff with jitter: base * 2^attempt, at most `max_delay`, `retries` times."""

    retries: int = 6
    base: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, requested: float | None) -> float:
        if requested is not None:
            return min(requested, self.max_delay)
        return min(self.base * 2 ** attempt, self.max_delay) * (0.5 + random.random() / 2)

    def run(self, action: Callable[[], T], what: str) -> T:
        """`action()` until it does not raise Transient, or SERVER010 after `retries` retries."""
        attempt = 0
        while True:
            try:
                return action()
            except Transient as exc:
                if attempt >= self.retries:
                    raise GeneratorError([Diagnostic("SERVER010", f"{what}: server still failing after "
                                                                  f"{self.retries} retries ({exc.reason})")],
                                         exit_code=2) from None
                self.sleep(self.delay(attempt, exc.retry_after))
                attempt += 1


class FhirClient:
    """A FHIR base URL with credentials; JSON in, (status, JSON) out; transient failures raise Transient."""

    def __init__(self, base: str, auth: httpx.Auth | None, timeout: float = 60.0):
        self.base = base.rstrip("/")
        self.requests = 0
        self._http = httpx.Client(auth=auth, timeout=timeout, headers={"Accept": FHIR_JSON},
                                  follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base}/{path.lstrip('/')}"

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request; (status, parsed JSON or None). 401/403 stop the load (SERVER012)."""
        content = dump_compact(body) if body is not None else None
        headers = {"Content-Type": FHIR_JSON} if content is not None else {}
        self.requests += 1
        try:
            response = self._http.request(method, self.url(path), content=content, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, dropped, timed out
            raise Transient(f"{type(exc).__name__}") from None
        if response.status_code in RETRY_STATUSES:
            raise Transient(f"HTTP {response.status_code}", retry_after(response))
        if response.status_code in (401, 403):
            raise GeneratorError([Diagnostic("SERVER012", f"{self.base} refused the request: HTTP "
                                                          f"{response.status_code} (missing or wrong credentials?)")],
                                 exit_code=2)
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        return response.status_code, parsed
