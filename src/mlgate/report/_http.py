"""A small JSON-over-HTTPS client for the CI publishers (GitHub, GitLab): standard library only.

It retries with exponential back-off on 5xx, on rate limits (429, or 403 with
``x-ratelimit-remaining: 0`` or ``retry-after``) and on connection errors, within a bounded
number of attempts and a bounded total sleep. The sleep is injectable, so tests are fast.
Secrets (tokens) given to the client are never part of a message: every error text is scrubbed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "mlgate-publisher (+https://github.com/mlgate/mlgate)"
MAX_ATTEMPTS = 5
MAX_SLEEP_TOTAL = 60.0  # seconds of back-off, all retries together
BACKOFF_BASE = 1.0  # 1, 2, 4, 8 … seconds
TIMEOUT = 15.0  # seconds per request
MAX_PAGES = 50  # of 100 items: 5000 comments or notes at most


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class HttpError(Exception):
    """A request failed for good (after retries when the failure was transient).

    ``status`` is the HTTP status, or ``None`` for a connection error. The message names the
    method and the path (never the token) and the server's own words, cut short."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "",
                 path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.path = path

    def __reduce__(self):
        return (_rebuild_http_error, (str(self), self.status, self.method, self.path))


def _rebuild_http_error(message, status, method, path) -> HttpError:
    return HttpError(message, status=status, method=method, path=path)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    data: Any


@dataclass
class Client:
    """JSON requests against ``base_url`` (e.g. ``https://api.github.com`` or
    ``https://ghe.example.com/api/v3``) with ``headers`` on every request."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    sleep: Callable[[float], None] | None = None
    max_attempts: int = MAX_ATTEMPTS
    max_sleep_total: float = MAX_SLEEP_TOTAL
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.sleep is None:
            self.sleep = _sleep  # looked up now, so a test can replace the module's _sleep
        self.secrets = tuple(s for s in self.secrets if s)

    def __repr__(self) -> str:  # never the headers: they hold the token
        return f"Client({self.base_url!r})"

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def request(self, method: str, path: str, body: Any = None,
                params: dict[str, Any] | None = None) -> Response:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                    raw = resp.read()
                    return Response(resp.status, _lower(resp.headers.items()), _json(raw))
            except urllib.error.HTTPError as exc:
                with exc:
                    raw = exc.read()
                    status, resp_headers = exc.code, _lower(exc.headers.items())
                wait = self._retry_wait(status, resp_headers, attempt)
                problem = f"HTTP {status}: {_server_words(raw)}"
            except (urllib.error.URLError, OSError) as exc:
                status, resp_headers = None, {}
                reason = getattr(exc, "reason", exc)
                wait = BACKOFF_BASE * 2 ** (attempt - 1)
                problem = f"connection failed: {reason}"
            if wait is not None and attempt < self.max_attempts \
                    and slept + wait <= self.max_sleep_total:
                self.sleep(wait)
                slept += wait
                continue
            tries = f" (after {attempt} attempts)" if attempt > 1 else ""
            if wait is not None and attempt < self.max_attempts:
                tries = f" (a retry in {wait:g} s would pass the {self.max_sleep_total:g} s budget)"
            raise HttpError(self.scrub(f"{method} {path}: {problem}{tries}"),
                            status=status, method=method, path=path)

    def _retry_wait(self, status: int, headers: dict[str, str], attempt: int) -> float | None:
        """Seconds to wait before the next try, or ``None`` when the failure is not transient."""
        backoff = BACKOFF_BASE * 2 ** (attempt - 1)
        retry_after = _seconds(headers.get("retry-after"))
        rate_limited = status == 429 or (status == 403 and (
            headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers))
        if rate_limited:
            if retry_after is not None:
                return max(retry_after, 0.0)
            reset = _seconds(headers.get("x-ratelimit-reset"))
            if reset is not None and headers.get("x-ratelimit-remaining") == "0":
                return max(reset - time.time(), 0.0) if reset > 1e9 else reset
            return backoff
        if status >= 500:
            return retry_after if retry_after is not None else backoff
        return None

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paginated list (``per_page=100&page=N``, as GitHub and GitLab both
        take), up to :data:`MAX_PAGES` pages."""
        for page in range(1, MAX_PAGES + 1):
            items = self.request("GET", path, params={**(params or {}), "per_page": 100,
                                                      "page": page}).data
            if not isinstance(items, list):
                raise HttpError(f"GET {path}: expected a list, got {type(items).__name__}",
                                method="GET", path=path)
            yield from items
            if len(items) < 100:
                return


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items}


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _server_words(raw: bytes, limit: int = 300) -> str:
    data = _json(raw)
    if isinstance(data, dict) and "message" in data:
        text = str(data["message"])
    elif data is None:
        text = "(no body)"
    else:
        text = data if isinstance(data, str) else json.dumps(data)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: fall back to the back-off


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, with ``…`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
