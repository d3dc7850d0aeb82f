"""The HTTP behaviour every collector shares: politeness, retries, and rate limits, written once.

A collector gets a `SourceHttp` wrapping the run's `httpx.AsyncClient` and calls `get` (or `post`
for OAuth token calls). `SourceHttp` sends a descriptive User-Agent, caps concurrent requests per
host, retries transient failures (timeouts, dropped connections, 429, 5xx) with exponential
backoff and full jitter, honours `Retry-After`, reads each API's rate-limit headers into one
`RateLimit`, and slows down before a host's budget runs out rather than after. Anything it cannot
recover from is raised as `SourceHttpError`, naming the source, the URL (secrets removed), the
status or exception, and the number of tries.

Stopping: given `should_stop`, it looks at it before every try and throughout every wait (pacing,
backoff), and raises `CollectionStoppedError` instead of going on; a request already in flight gets
`stop_grace` seconds to bring its page (which the runner then stores), then is cancelled. So a
source that keeps failing, or hangs, stops as promptly as one that yields pages.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from collectors.fields import utc_time, utcnow
from config import USER_AGENT as DEFAULT_USER_AGENT

__all__ = [
    "DEFAULT_USER_AGENT",
    "CollectionStoppedError",
    "HttpStats",
    "RateLimit",
    "SourceHttp",
    "SourceHttpError",
    "parse_rate_limit",
    "parse_retry_after",
    "rate_limit_pause",
    "redact_url",
]

log = logging.getLogger(__name__)


# Query parameters that carry credentials (YouTube and Fact Check `key`, OAuth `access_token`...).
SECRET_PARAMS = frozenset(
    {"access_token", "key", "api_key", "apikey", "token", "client_secret", "password"}
)

# Keep this share of a host's budget unspent; below LOW_SHARE, spread what is left until reset.
RESERVE_SHARE = 0.02
LOW_SHARE = 0.10

# A numeric reset this large is a unix time (X, Bluesky); smaller is seconds from now (Reddit,
# and the IETF RateLimit draft that Bluesky's header names come from).
_EPOCH_THRESHOLD = 1_000_000_000

# Header name prefixes, one per family: X, Bluesky (IETF draft), Mastodon and Reddit.
_RATE_LIMIT_PREFIXES = ("x-rate-limit-", "ratelimit-", "x-ratelimit-")

# A request in flight when the stop comes gets this long to answer; the stop is looked at so often.
STOP_GRACE_S = 5.0
STOP_POLL_S = 0.1

T = TypeVar("T")
Params = Mapping[str, str | int | float | bool | Sequence[str | int | float | bool | None] | None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RateLimit:
    """A host's request budget as its last response reported it.

    `limit` and `remaining` count requests in the current window; `reset_at` is when the window
    ends (aware, UTC). Any of the three is None when the API did not say. `raw` keeps the
    rate-limit headers as sent (lower-case names), e.g. Bluesky's `ratelimit-policy`.
    """

    limit: int | None
    remaining: int | None
    reset_at: datetime | None
    raw: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def reserve(self) -> int:
        """Requests to keep unspent before the reset: max(1, 2% of the limit)."""
        if self.limit is None:
            return 1
        return max(1, math.ceil(self.limit * RESERVE_SHARE))


@dataclass
class HttpStats:
    """Counters for the run report."""

    requests: int = 0
    retries: int = 0
    rate_limit_wait_s: float = 0.0
    backoff_wait_s: float = 0.0


class SourceHttpError(Exception):
    """A request that failed for good: a non-retryable status, or retries exhausted.

    `status` is the last HTTP status (None when no response came back), `tries` the number of
    requests sent, `url` the URL with secrets removed, `response` the last response if any,
    `reason` what went wrong, `unreachable` whether the host could not be reached at all (no
    connection: refused, no route, no name, a proxy that does not answer), as when offline.
    """

    def __init__(
        self,
        source: str,
        method: str,
        url: str,
        *,
        tries: int,
        status: int | None = None,
        reason: str = "",
        response: httpx.Response | None = None,
        unreachable: bool = False,
    ) -> None:
        self.source = source
        self.url = url
        self.tries = tries
        self.status = status
        self.response = response
        self.reason = reason
        self.unreachable = unreachable
        what = f"HTTP {status} {reason}".rstrip() if status is not None else reason
        plural = "try" if tries == 1 else "tries"
        super().__init__(f"{source}: {method} {url} failed after {tries} {plural}: {what}")


class CollectionStoppedError(Exception):
    """The run was asked to stop: raised instead of sending the next request or waiting on."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(f"{source}: stopped on request")


def redact_url(url: httpx.URL | str) -> str:
    """The URL without user info or credential query parameters, safe for logs and errors."""
    url = httpx.URL(url)
    kept = [(k, v) for k, v in url.params.multi_items() if k.lower() not in SECRET_PARAMS]
    return str(url.copy_with(params=kept, userinfo=b""))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta seconds or an HTTP date), else None."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _number(value: str | None) -> int | None:
    # Reddit sends counts as floats ("997.0").
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _reset_at(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return utc_time(value)
    if seconds >= _EPOCH_THRESHOLD:
        return datetime.fromtimestamp(seconds, UTC)
    return now + timedelta(seconds=seconds)


def parse_rate_limit(headers: httpx.Headers, now: datetime) -> RateLimit | None:
    """Read the rate-limit headers of Mastodon, Reddit, Bluesky or X; None if there are none.

    `now` (aware) anchors resets given as seconds from now (Reddit's `x-ratelimit-reset`).
    Reddit sends no limit, so it is `used + remaining`.
    """
    for prefix in _RATE_LIMIT_PREFIXES:
        raw = {k.lower(): v for k, v in headers.items() if k.lower().startswith(prefix)}
        if prefix + "remaining" not in raw:
            continue
        remaining = _number(raw[prefix + "remaining"])
        limit = _number(raw.get(prefix + "limit"))
        used = _number(raw.get(prefix + "used"))
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining
        reset_at = _reset_at(raw.get(prefix + "reset"), now)
        return RateLimit(limit=limit, remaining=remaining, reset_at=reset_at, raw=raw)
    return None


def rate_limit_pause(budget: RateLimit | None, now: datetime) -> tuple[float, float]:
    """(seconds to hold off until the reset, spacing between requests) for a host's budget.

    At or below the reserve: hold off until the reset. Low but above it: spread the requests
    left (less the reserve) evenly over the time to the reset. Otherwise: no pause.
    """
    if budget is None or budget.remaining is None or budget.reset_at is None:
        return 0.0, 0.0
    left = (budget.reset_at - now).total_seconds()
    if left <= 0:
        return 0.0, 0.0
    if budget.remaining <= budget.reserve:
        return left, 0.0
    if budget.limit is not None and budget.remaining <= budget.limit * LOW_SHARE:
        return 0.0, left / (budget.remaining - budget.reserve)
    return 0.0, 0.0


def _worth_retrying(response: httpx.Response | None, error: httpx.TransportError | None) -> bool:
    """429 and 5xx are; other statuses are not. Timeouts, refused or reset connections and
    servers hanging up are; a bad scheme, a proxy misconfiguration or a malformed request is not.
    """
    if response is not None:
        return response.status_code == 429 or response.status_code >= 500
    return isinstance(
        error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
    )


def _no_connection(error: httpx.TransportError | None) -> bool:
    """No connection could be made: the host (or the proxy) is out of reach."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError)


class SourceHttp:
    """One source's polite HTTP client over an injected `httpx.AsyncClient`.

    `sleep`, `clock` (monotonic seconds), `now` (aware UTC wall clock) and `rng` are injectable
    so tests run instantly and deterministically.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        source: str,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        max_concurrency: int = 2,
        max_retries: int = 4,
        base_backoff: float = 1.0,
        max_backoff: float = 60.0,
        min_interval: float = 0.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        should_stop: Callable[[], bool] | None = None,
        stop_grace: float = STOP_GRACE_S,
    ) -> None:
        self.client = client
        self.source = source
        self.user_agent = user_agent
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.min_interval = min_interval
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._rng = rng or random.Random()
        self._should_stop = should_stop
        self._stop_grace = stop_grace
        self.stats = HttpStats()
        self.rate_limits: dict[str, RateLimit] = {}
        self.last_rate_limit: RateLimit | None = None
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._last_start: dict[str, float] = {}

    async def get(
        self,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET `url`: the response if its status is below 400, else raise `SourceHttpError`."""
        return await self.request("GET", url, params=params, headers=headers)

    async def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | httpx.Auth | None = None,
    ) -> httpx.Response:
        """POST a form (`data`) or `json` body, e.g. an OAuth token or session call."""
        return await self.request("POST", url, data=data, json=json, headers=headers, auth=auth)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        auth: tuple[str, str] | httpx.Auth | None = None,
    ) -> httpx.Response:
        """Send with pacing, per-host concurrency and retries; see the module docstring."""
        all_headers = {"User-Agent": self.user_agent, **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            self._check_stop()
            request = self.client.build_request(
                method, url, params=params, headers=all_headers, data=data, json=json
            )
            response, error = await self._send(request, auth)
            if response is not None and response.status_code < 400:
                return response
            if attempt > self.max_retries or not _worth_retrying(response, error):
                raise self._error(request, attempt, response=response, error=error) from error
            await self._back_off(request, attempt, response, error)

    async def _send(
        self, request: httpx.Request, auth: tuple[str, str] | httpx.Auth | None
    ) -> tuple[httpx.Response | None, httpx.TransportError | None]:
        """One try: wait for the host's turn and a free slot, send, and note its rate limit."""
        host = request.url.host
        await self._pace(host)
        async with self._semaphore(host):
            self.stats.requests += 1
            try:
                sending = self.client.send(request, auth=auth)
                response = await self._unless_stopped(sending, self._stop_grace)
            except httpx.TransportError as exc:
                return None, exc
        self._note_rate_limit(host, response.headers)
        return response, None

    def _semaphore(self, host: str) -> asyncio.Semaphore:
        if host not in self._semaphores:
            self._semaphores[host] = asyncio.Semaphore(self.max_concurrency)
        return self._semaphores[host]

    async def _pace(self, host: str) -> None:
        """Wait before a request: the host's minimum interval and its rate-limit budget."""
        hold, spacing = rate_limit_pause(self.rate_limits.get(host), self._now())
        hold, spacing = min(hold, self.max_backoff), min(spacing, self.max_backoff)
        now = self._clock()
        start = now + hold
        if host in self._last_start:
            start = max(start, self._last_start[host] + max(self.min_interval, spacing))
        # Book the start time before sleeping, so concurrent callers queue behind it.
        self._last_start[host] = start
        if start > now:
            self.stats.rate_limit_wait_s += start - now
            await self._wait(start - now)

    def _note_rate_limit(self, host: str, headers: httpx.Headers) -> None:
        budget = parse_rate_limit(headers, self._now())
        if budget is not None:
            self.rate_limits[host] = budget
            self.last_rate_limit = budget

    async def _back_off(
        self,
        request: httpx.Request,
        attempt: int,
        response: httpx.Response | None,
        error: httpx.TransportError | None,
    ) -> None:
        """Sleep before the next try: `Retry-After` if given, else full-jitter exponential."""
        retry_after = None
        if response is not None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._now())
        if retry_after is not None:
            delay = min(retry_after, self.max_backoff)
        else:
            ceiling = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
            delay = self._rng.uniform(0, ceiling)
        if response is not None and response.status_code == 429:
            self.stats.rate_limit_wait_s += delay
        else:
            self.stats.backoff_wait_s += delay
        self.stats.retries += 1
        cause = f"HTTP {response.status_code}" if response is not None else repr(error)
        log.info(
            "%s: %s %s got %s; try %d again in %.1f s",
            self.source,
            request.method,
            redact_url(request.url),
            cause,
            attempt + 1,
            delay,
        )
        await self._wait(delay)

    def _check_stop(self) -> None:
        if self._should_stop is not None and self._should_stop():
            raise CollectionStoppedError(self.source)

    async def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, cut short by `CollectionStoppedError` when the run is asked to stop."""
        await self._unless_stopped(self._sleep(seconds), grace=0.0)

    async def _unless_stopped(self, work: Awaitable[T], grace: float) -> T:
        """`work`'s result; once the stop is asked for, `work` gets `grace` more seconds, then
        it is cancelled and `CollectionStoppedError` raised."""
        if self._should_stop is None:
            return await work
        task = asyncio.ensure_future(work)
        while not task.done():
            await asyncio.wait({task}, timeout=STOP_POLL_S)
            if not task.done() and self._should_stop():
                await asyncio.wait({task}, timeout=grace)
                if not task.done():
                    task.cancel()
                    await asyncio.wait({task})
                    if not task.cancelled():
                        task.exception()  # retrieved: what it ended with is moot now
                    raise CollectionStoppedError(self.source)
        return task.result()

    def _error(
        self,
        request: httpx.Request,
        tries: int,
        *,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ) -> SourceHttpError:
        return SourceHttpError(
            self.source,
            request.method,
            redact_url(request.url),
            tries=tries,
            status=response.status_code if response is not None else None,
            reason=response.reason_phrase if response is not None else repr(error),
            response=response,
            unreachable=response is None and _no_connection(error),
        )
