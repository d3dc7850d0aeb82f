"""SourceHttp: User-Agent, retries and backoff, errors, rate-limit headers, pacing, concurrency.

Every test goes through `httpx.MockTransport`; time is fake (`FakeTime`), so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from collectors.http import (
    DEFAULT_USER_AGENT,
    RateLimit,
    SourceHttp,
    SourceHttpError,
    parse_rate_limit,
    redact_url,
)

T0 = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


class FakeTime:
    """A clock that only moves when slept on; records every sleep."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def clock(self) -> float:
        return self.t

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)


def run(
    handler: Handler | AsyncHandler,
    call: Callable[[SourceHttp], Awaitable[object]],
    time: FakeTime | None = None,
    source: str = "reddit",
    **options: Any,
) -> object:
    """Build a SourceHttp over `handler` on fake time and run `call(http)` to completion."""
    time = time or FakeTime()

    async def main() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            http = SourceHttp(
                client,
                source,
                sleep=time.sleep,
                clock=time.clock,
                now=time.now,
                rng=random.Random(0),
                **options,
            )
            return await call(http)

    return asyncio.run(main())


def replies(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with `responses` in order (raising the exceptions); and its log."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = responses[len(seen) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return handler, seen


def get(
    url: str = "https://www.reddit.com/search.json",
) -> Callable[[SourceHttp], Awaitable[object]]:
    return lambda http: http.get(url)


def test_sends_the_user_agent() -> None:
    handler, seen = replies(httpx.Response(200))
    run(handler, get())
    assert seen[0].headers["User-Agent"] == DEFAULT_USER_AGENT == "claimwatch/0.1"


def test_429_waits_retry_after_seconds_then_succeeds() -> None:
    time = FakeTime()
    handler, seen = replies(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    response = run(handler, get(), time)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(seen) == 2
    assert time.sleeps == [7]


def test_retry_after_as_an_http_date() -> None:
    time = FakeTime()
    later = "Wed, 28 Jan 2026 12:00:30 GMT"  # T0 + 30 s
    handler, _ = replies(httpx.Response(503, headers={"Retry-After": later}), httpx.Response(200))
    run(handler, get(), time)
    assert time.sleeps == [30]


def test_retry_after_is_capped_at_max_backoff() -> None:
    time = FakeTime()
    handler, _ = replies(httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200))
    run(handler, get(), time, max_backoff=60)
    assert time.sleeps == [60]


def test_5xx_retries_with_exponential_full_jitter_backoff() -> None:
    time = FakeTime()
    handler, seen = replies(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    response = run(handler, get(), time, base_backoff=1)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert len(seen) == 3
    first, second = time.sleeps
    assert 0 <= first <= 1  # base * 2**0
    assert 0 <= second <= 2  # base * 2**1


def test_timeouts_are_retried() -> None:
    time = FakeTime()
    timeout = httpx.ReadTimeout("slow")
    handler, seen = replies(timeout, timeout, httpx.Response(200, json={"ok": True}))
    response = run(handler, get(), time)
    assert isinstance(response, httpx.Response) and response.json() == {"ok": True}
    assert len(seen) == 3
    assert len(time.sleeps) == 2


def test_404_is_not_retried() -> None:
    time = FakeTime()
    handler, seen = replies(httpx.Response(404))
    with pytest.raises(SourceHttpError) as caught:
        run(handler, get(), time)
    assert (caught.value.status, caught.value.tries) == (404, 1)
    assert len(seen) == 1
    assert time.sleeps == []


def test_persistent_500_gives_up_with_a_clear_error_without_the_key() -> None:
    url = "https://factchecktools.googleapis.com/v1alpha1/claims:search?query=vaccine&key=SECRET"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    with pytest.raises(SourceHttpError) as caught:
        run(handler, get(url), source="factcheck", max_retries=4)
    error = caught.value
    assert (error.status, error.tries) == (500, 5)
    assert str(error) == (
        "factcheck: GET https://factchecktools.googleapis.com/v1alpha1/claims:search?query=vaccine"
        " failed after 5 tries: HTTP 500 Internal Server Error"
    )


def test_connection_refused_to_the_end_names_the_exception() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(SourceHttpError) as caught:
        run(
            handler,
            get("https://api.x.com/2/tweets/search/recent?token=T"),
            source="x",
            max_retries=1,
        )
    assert (caught.value.status, caught.value.tries) == (None, 2)
    assert str(caught.value) == (
        "x: GET https://api.x.com/2/tweets/search/recent failed after 2 tries:"
        " ConnectError('connection refused')"
    )


def test_a_bad_scheme_is_not_retried() -> None:
    handler, seen = replies(httpx.UnsupportedProtocol("no transport for this scheme"))
    with pytest.raises(SourceHttpError) as caught:
        run(handler, get())
    assert (caught.value.status, caught.value.tries, len(seen)) == (None, 1, 1)


def test_redact_url_drops_user_info_and_secret_params() -> None:
    url = "https://me:pw@www.googleapis.com/youtube/v3/search?q=flu&API_KEY=S&access_token=T&key=K"
    assert redact_url(url) == "https://www.googleapis.com/youtube/v3/search?q=flu"


def test_reddit_headers() -> None:
    # Copied from /work/shared/fixtures/recorded/reddit_listing.headers.json
    headers = httpx.Headers(
        {"x-ratelimit-remaining": "997.0", "x-ratelimit-reset": "15", "x-ratelimit-used": "3"}
    )
    assert parse_rate_limit(headers, T0) == RateLimit(
        limit=1000,
        remaining=997,
        reset_at=datetime(2026, 1, 28, 12, 0, 15, tzinfo=UTC),
        raw={"x-ratelimit-remaining": "997.0", "x-ratelimit-reset": "15", "x-ratelimit-used": "3"},
    )


def test_mastodon_search_headers() -> None:
    # Copied from /work/shared/fixtures/recorded/mastodon_search_v2.headers.json
    headers = httpx.Headers(
        {
            "content-type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": "257",
            "x-ratelimit-reset": "2026-04-11T23:15:00.905404Z",
        }
    )
    limit = parse_rate_limit(headers, T0)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (300, 257)
    assert limit.reset_at == datetime(2026, 4, 11, 23, 15, 0, 905404, tzinfo=UTC)
    assert "content-type" not in limit.raw


def test_mastodon_tag_timeline_headers() -> None:
    # Copied from /work/shared/fixtures/recorded/mastodon_tag_timeline_localhost.headers.json
    headers = httpx.Headers(
        {
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": "299",
            "x-ratelimit-reset": "2026-08-01T13:55:00.976542Z",
        }
    )
    limit = parse_rate_limit(headers, T0)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (300, 299)
    assert limit.reset_at == datetime(2026, 8, 1, 13, 55, 0, 976542, tzinfo=UTC)


def test_bluesky_headers() -> None:
    # No recording: the shape from SOURCES.md (reset is unix seconds; PDS 3000 req / 5 min).
    headers = httpx.Headers(
        {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "2999",
            "ratelimit-reset": "1769601900",
            "ratelimit-policy": "3000;w=300",
        }
    )
    limit = parse_rate_limit(headers, T0)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (3000, 2999)
    assert limit.reset_at == datetime(2026, 1, 28, 12, 5, tzinfo=UTC)
    assert limit.raw["ratelimit-policy"] == "3000;w=300"


def test_x_headers() -> None:
    # No recording: the shape from SOURCES.md (reset is unix seconds).
    headers = httpx.Headers(
        {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": "1769601900",
        }
    )
    assert parse_rate_limit(headers, T0) == RateLimit(
        limit=450,
        remaining=449,
        reset_at=datetime(2026, 1, 28, 12, 5, tzinfo=UTC),
        raw=dict(headers),
    )


def test_no_rate_limit_headers() -> None:
    assert parse_rate_limit(httpx.Headers({"content-type": "text/html"}), T0) is None


def test_latest_rate_limit_is_kept_per_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        remaining = "299" if request.url.host == "mastodon.social" else "41"
        return httpx.Response(200, headers={"x-ratelimit-remaining": remaining})

    async def call(http: SourceHttp) -> SourceHttp:
        await http.get("https://mastodon.social/api/v2/search")
        await http.get("https://fosstodon.org/api/v2/search")
        return http

    http = run(handler, call)
    assert isinstance(http, SourceHttp)
    assert {host: limit.remaining for host, limit in http.rate_limits.items()} == {
        "mastodon.social": 299,
        "fosstodon.org": 41,
    }
    assert http.last_rate_limit is not None and http.last_rate_limit.remaining == 41


def test_at_the_reserve_the_next_request_waits_until_reset() -> None:
    time = FakeTime()
    # 300 a window, reserve max(1, 2% of 300) = 6, reset 30 s after T0.
    low = {
        "x-ratelimit-limit": "300",
        "x-ratelimit-remaining": "6",
        "x-ratelimit-reset": "2026-01-28T12:00:30Z",
    }
    handler, seen = replies(httpx.Response(200, headers=low), httpx.Response(200))

    async def twice(http: SourceHttp) -> None:
        await http.get("https://mastodon.social/api/v1/timelines/tag/vaccines")
        await http.get("https://mastodon.social/api/v1/timelines/tag/vaccines")

    run(handler, twice, time)
    assert len(seen) == 2
    assert time.sleeps == [30]


def test_low_budget_spreads_requests_until_reset() -> None:
    time = FakeTime()

    # 300 a window, reserve max(1, 2% of 300) = 6, reset 40 s after T0. With 26 left (under 10%)
    # 20 requests may go in 40 s: one every 2 s; then 25 left at 38 s: 19 in 38 s, still 2 s.
    def handler(request: httpx.Request) -> httpx.Response:
        remaining = str(26 - len(time.sleeps))
        reset = "2026-01-28T12:00:40Z"
        limit = {"x-ratelimit-limit": "300", "x-ratelimit-remaining": remaining}
        return httpx.Response(200, headers={**limit, "x-ratelimit-reset": reset})

    async def three(http: SourceHttp) -> None:
        for _ in range(3):
            await http.get("https://mastodon.social/api/v1/timelines/tag/vaccines")

    run(handler, three, time)
    assert time.sleeps == [2, 2]


def test_min_interval_spaces_requests() -> None:
    time = FakeTime()
    handler, seen = replies(*[httpx.Response(200)] * 3)
    url = "https://api.gdeltproject.org/api/v2/doc/doc"

    async def three(http: SourceHttp) -> None:
        await http.get(url)
        time.t += 2  # the collector spends 2 s on the first page
        await http.get(url)
        await http.get(url)

    run(handler, three, time, min_interval=5)
    assert len(seen) == 3
    assert time.sleeps == [3, 5]


def test_per_host_concurrency_never_exceeds_the_limit() -> None:
    in_flight = {"a.example": 0, "b.example": 0}
    most = {"a.example": 0, "b.example": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] += 1
        most[host] = max(most[host], in_flight[host])
        for _ in range(3):
            await asyncio.sleep(0)  # let the other tasks run while this request is "in flight"
        in_flight[host] -= 1
        return httpx.Response(200)

    async def many(http: SourceHttp) -> None:
        urls = [f"https://{host}/{n}" for host in in_flight for n in range(6)]
        await asyncio.gather(*(http.get(url) for url in urls))

    run(handler, many, max_concurrency=2)
    assert most == {"a.example": 2, "b.example": 2}


def test_counters_for_the_run_report() -> None:
    handler, _ = replies(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), httpx.Response(200)
    )

    async def call(http: SourceHttp) -> SourceHttp:
        await http.get("https://www.reddit.com/search.json")
        return http

    http = run(handler, call)
    assert isinstance(http, SourceHttp)
    assert (http.stats.requests, http.stats.retries, http.stats.rate_limit_wait_s) == (3, 2, 7)
    assert 0 <= http.stats.backoff_wait_s <= 2


def test_post_sends_a_form_for_oauth() -> None:
    handler, seen = replies(httpx.Response(200, json={"access_token": "abc"}))

    async def token(http: SourceHttp) -> object:
        response = await http.post(
            "https://www.reddit.com/api/v1/access_token",
            data={"grant_type": "client_credentials"},
            auth=("client-id", "secret"),
        )
        return response.json()

    assert run(handler, token) == {"access_token": "abc"}
    assert seen[0].method == "POST"
    assert seen[0].content == b"grant_type=client_credentials"
    assert seen[0].headers["Authorization"].startswith("Basic ")
