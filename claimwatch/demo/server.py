"""A local server on 127.0.0.1 that speaks the APIs claimwatch's collectors call, serving the story.

`DemoServer(story, clock)` answers, at the paths each collector calls (`collectors/*.py`) with its
`base_url` pointed here:

- Mastodon: `GET /api/v1/timelines/tag/<tag>` and `GET /api/v2/search?type=statuses`, paged by
  `max_id` / `min_id` / `since_id`, with the `Link` header (`next` after a full page, `prev`);
- Reddit: `GET /search.json` and `GET /r/<sub>/search.json` (`restrict_sr`), paged by the
  `after` fullname, `t=week`;
- Google News: `GET /rss/search?q=... when:7d&hl&gl&ceid`, one RSS page, `ETag` and
  `If-None-Match` (304);
- GDELT: `GET /api/v2/doc/doc?mode=artlist&format=json`, the `startdatetime` / `enddatetime`
  window, `maxrecords`, and `{}` for a window with no article;
- Hacker News (Algolia): `GET /api/v1/search_by_date`, `numericFilters=created_at_i>...`,
  `page` / `nbPages`;
- Bluesky: `POST /xrpc/com.atproto.server.createSession` and `refreshSession`, then
  `GET /xrpc/app.bsky.feed.searchPosts` with the Bearer token, paged by its opaque `cursor`,
  `until` / `since`;
- X: `GET /2/tweets/search/recent` with the app's Bearer token, paged by `next_token`,
  `since_id` / `until_id`, referenced posts and users in `includes`.

At each request it serves only the posts whose `created_at` is at or before `clock.now()` (the
demo's simulated clock), with their engagement counts as grown by then, so the story spreads over
time. Searches match every word of a query (`"phrase"`, `(a) OR (b)` and `#tag` as the collectors
write them), folded for case and accents. Rate-limit headers are sent in each API's own family
(Mastodon `X-RateLimit-*` with an ISO reset, Reddit `x-ratelimit-*` in seconds, Bluesky
`ratelimit-*` with a unix reset and a policy, X `x-rate-limit-*`), counting the requests really
made in a window of `rate_window` real seconds: the API's own window scaled by the demo's speed,
so that a demo running days in a minute keeps to the same share of each budget.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from claimwatch.demo.traffic import Story, StoryPost, matches, search_words

__all__ = ["DEMO_X_TOKEN", "Clock", "DemoServer", "RequestLog"]

DEMO_X_TOKEN = "demo-x-bearer-token"  # the app token the demo's X source is given

_TAG = re.compile(r"#(\w+)")
_WEEK = timedelta(days=7)


class Clock(Protocol):
    def now(self) -> datetime: ...  # aware UTC


@dataclass
class _Budget:
    """A request budget over a window of real seconds, as an API's rate-limit headers show it."""

    limit: int
    window_s: float
    started: float = field(default_factory=time.monotonic)
    used: int = 0

    def spend(self) -> tuple[int, float]:
        """(requests left, seconds to the window's reset) after one more request."""
        now = time.monotonic()
        if now - self.started >= self.window_s:
            self.started, self.used = now, 0
        self.used += 1
        return max(self.limit - self.used, 0), max(self.started + self.window_s - now, 0.0)


@dataclass
class RequestLog:
    """What the server was asked, for the demo's summary and the tests."""

    paths: list[str] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)  # api -> posts (or articles) served
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, path: str, api: str, posts: int) -> None:
        with self.lock:
            self.paths.append(path)
            self.served[api] = self.served.get(api, 0) + posts

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(path.startswith(prefix) for path in self.paths)


class DemoServer:
    """The story's APIs on 127.0.0.1; use as a context manager, or `start()` and `stop()`."""

    def __init__(
        self,
        story: Story,
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_window: float = 300.0,
        x_bearer_token: str = DEMO_X_TOKEN,
    ) -> None:
        self.story = story
        self.x_bearer_token = x_bearer_token
        self.clock = clock
        self.log = RequestLog()
        self._by_platform = {p: story.on(p) for p in ("x", "mastodon", "bluesky", "reddit")}
        self._by_platform |= {p: story.on(p) for p in ("news", "gdelt", "hackernews")}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._budgets = {
            "mastodon": _Budget(300, rate_window),
            "reddit": _Budget(100, rate_window / 5),  # 100 a minute
            "bluesky": _Budget(3000, rate_window),
            "x": _Budget(450, rate_window * 3),  # 450 per 15 minutes (app auth)
        }
        handler = type("DemoHandler", (_Handler,), {"demo": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DemoServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="demo-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # shared state ---------------------------------------------------------------------------------

    def visible(self, platform: str, now: datetime) -> list[StoryPost]:
        """The platform's posts at or before `now`, newest first."""
        posts = [p for p in self._by_platform[platform] if p.created_at <= now]
        return sorted(posts, key=_newest_key, reverse=True)

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return token

    def token_ok(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        with self._lock:
            return scheme.lower() == "bearer" and token in self._tokens

    def token_ok_x(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(token, self.x_bearer_token)

    def rate_window(self, api: str) -> float:
        return self._budgets[api].window_s

    def spend(self, api: str) -> tuple[int, int, float]:
        """(limit, remaining, seconds to reset) of `api`'s budget after this request."""
        budget = self._budgets[api]
        with self._lock:
            remaining, reset_in = budget.spend()
        return budget.limit, remaining, reset_in


def _newest_key(post: StoryPost) -> tuple[int, str]:
    """Newest first as each API orders: by id where ids are time-ordered, which they are here."""
    return int(post.created_at.timestamp() * 1000), post.native_id


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the handler --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    demo: DemoServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the demo prints its own progress
        pass

    # routing --------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        now = self.demo.clock.now()
        route = self._route(url.path)
        if route is None:
            self._json({"error": "NotFound", "message": f"no such path {url.path}"}, status=404)
            return
        route(url.path, query, now)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path == "/xrpc/com.atproto.server.createSession":
            self._bluesky_session(body, refresh=False)
        elif path == "/xrpc/com.atproto.server.refreshSession":
            self._bluesky_session(body, refresh=True)
        else:
            self._json({"error": "MethodNotImplemented"}, status=404)

    def _route(self, path: str) -> Callable[[str, dict[str, str], datetime], None] | None:
        if path.startswith("/api/v1/timelines/tag/"):
            return self._mastodon_tag
        if path == "/api/v2/search":
            return self._mastodon_search
        if path == "/search.json" or re.fullmatch(r"/r/\w+/search\.json", path):
            return self._reddit_search
        if path == "/rss/search":
            return self._google_news
        if path == "/api/v2/doc/doc":
            return self._gdelt
        if path == "/api/v1/search_by_date":
            return self._hackernews
        if path == "/xrpc/app.bsky.feed.searchPosts":
            return self._bluesky_search
        if path == "/2/tweets/search/recent":
            return self._x_search
        return None

    # Mastodon -------------------------------------------------------------------------------------

    def _mastodon_tag(self, path: str, query: dict[str, str], now: datetime) -> None:
        tag = unquote(path.rsplit("/", 1)[1]).casefold()
        statuses = [
            p
            for p in self.demo.visible("mastodon", now)
            if tag in (t.casefold() for t in _TAG.findall(p.text))
        ]
        self._mastodon_page(path, statuses, query, now, "mastodon:tag")

    def _mastodon_search(self, path: str, query: dict[str, str], now: datetime) -> None:
        if query.get("type", "statuses") != "statuses":
            self._json({"accounts": [], "statuses": [], "hashtags": []})
            return
        words = search_words(query.get("q", ""))
        found = [p for p in self.demo.visible("mastodon", now) if matches(p, words)]
        # Search turns min_id into a date filter and still lists newest first (Mastodon 4.2+).
        page = _id_window(found, query, _mastodon_id, default_limit=20, cap=40, immediate=False)
        body = {"accounts": [], "statuses": [_status(p, now) for p in page], "hashtags": []}
        self.demo.log.note(path, "mastodon:search", len(page))
        self._json(body, self._mastodon_limits(now))

    def _mastodon_page(
        self, path: str, statuses: list[StoryPost], query: dict[str, str], now: datetime, api: str
    ) -> None:
        limit = _limit(query, default=20, cap=40)
        page = _id_window(statuses, query, _mastodon_id, default_limit=20, cap=40)
        headers = self._mastodon_limits(now)
        if page:
            base = f"http://{self.headers['Host']}{path}"
            links = [f'<{base}?limit={limit}&min_id={page[0].native_id}>; rel="prev"']
            if len(page) == limit:
                links.insert(0, f'<{base}?limit={limit}&max_id={page[-1].native_id}>; rel="next"')
            headers["Link"] = ", ".join(links)
        self.demo.log.note(path, api, len(page))
        self._json([_status(p, now) for p in page], headers)

    def _mastodon_limits(self, now: datetime) -> dict[str, str]:
        limit, remaining, reset_in = self.demo.spend("mastodon")
        reset = datetime.now(UTC) + timedelta(seconds=reset_in)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }

    # Reddit ---------------------------------------------------------------------------------------

    def _reddit_search(self, path: str, query: dict[str, str], now: datetime) -> None:
        words = search_words(query.get("q", ""))
        window = {"hour": 1 / 24, "day": 1, "week": 7, "month": 31, "year": 366}.get(
            query.get("t", "all"), 100_000
        )
        since = now - timedelta(days=window)
        subreddit = path.split("/")[2].casefold() if path.startswith("/r/") else None
        found = [
            p
            for p in self.demo.visible("reddit", now)
            if p.created_at >= since
            and matches(p, words)
            and (subreddit is None or str(p.extra["subreddit"]).casefold() == subreddit)
        ]
        limit = _limit(query, default=25, cap=100)
        after = query.get("after")
        start = next((i + 1 for i, p in enumerate(found) if p.source_id == after), 0)
        page = found[start : start + limit]
        more = start + limit < len(found)
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1].source_id if page and more else None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": "",
                "children": [{"kind": "t3", "data": _submission(p, now)} for p in page],
                "before": None,
            },
        }
        limit_total, remaining, reset_in = self.demo.spend("reddit")
        self.demo.log.note(path, "reddit", len(page))
        self._json(
            body,
            {
                "x-ratelimit-remaining": f"{remaining:.1f}",
                "x-ratelimit-reset": str(int(reset_in)),
                "x-ratelimit-used": str(limit_total - remaining),
            },
        )

    # Google News ----------------------------------------------------------------------------------

    def _google_news(self, path: str, query: dict[str, str], now: datetime) -> None:
        q = query.get("q", "")
        words = search_words(q)
        edition = query.get("hl", "en-CA")
        days = re.search(r"when:(\d+)d", q)
        since = now - timedelta(days=int(days.group(1))) if days else now - timedelta(days=3650)
        items = [
            p
            for p in self.demo.visible("news", now)
            if p.created_at >= since and p.extra.get("edition") == edition and matches(p, words)
        ][:100]
        body = _rss(q, edition, items, now).encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        self.demo.log.note(path, "news", len(items))
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", {"ETag": etag})
            return
        self._send(200, body, {"Content-Type": "application/xml; charset=utf-8", "ETag": etag})

    # GDELT ----------------------------------------------------------------------------------------

    def _gdelt(self, path: str, query: dict[str, str], now: datetime) -> None:
        if query.get("mode", "").casefold() != "artlist" or query.get("format") != "json":
            self._send(200, b"Invalid mode or format.", {"Content-Type": "text/html"})
            return
        words = search_words(query.get("query", ""))
        start = _gdelt_time(query.get("startdatetime"), now - timedelta(days=90))
        end = min(_gdelt_time(query.get("enddatetime"), now), now)
        cap = min(int(query.get("maxrecords", "75")), 250)
        found = [
            p
            for p in self.demo.visible("gdelt", now)
            if start <= p.created_at <= end and matches(p, words)
        ][:cap]
        self.demo.log.note(path, "gdelt", len(found))
        if not found:
            self._send(200, b"{}", {"Content-Type": "application/json; charset=utf-8"})
            return
        self._json({"articles": [_article(p) for p in found]})

    # Hacker News ----------------------------------------------------------------------------------

    def _hackernews(self, path: str, query: dict[str, str], now: datetime) -> None:
        words = search_words(query.get("query", ""))
        kinds = set(re.findall(r"\w+", query.get("tags", "story,comment")))
        lo, hi = _numeric_filters(query.get("numericFilters", ""))
        found = [
            p
            for p in self.demo.visible("hackernews", now)
            if ("comment" if p.kind == "comment" else "story") in kinds
            and (lo is None or p.created_at.timestamp() > lo)
            and (hi is None or p.created_at.timestamp() <= hi)
            and matches(p, words)
        ]
        per_page = _limit(query, default=20, cap=1000, name="hitsPerPage")
        found = found[:1000]  # Algolia serves at most 1000 hits of a query
        page = int(query.get("page", "0"))
        hits = found[page * per_page : (page + 1) * per_page]
        self.demo.log.note(path, "hackernews", len(hits))
        self._json(
            {
                "hits": [_hn_hit(p, now) for p in hits],
                "nbHits": len(found),
                "page": page,
                "nbPages": -(-len(found) // per_page),
                "hitsPerPage": per_page,
                "exhaustiveNbHits": True,
                "query": query.get("query", ""),
                "params": urlsplit(self.path).query,
                "processingTimeMS": 1,
            }
        )

    # Bluesky --------------------------------------------------------------------------------------

    def _bluesky_session(self, body: bytes, refresh: bool) -> None:
        if refresh:
            if not self.demo.token_ok(self.headers.get("Authorization")):
                self._json({"error": "ExpiredToken", "message": "Token has expired"}, status=400)
                return
        else:
            try:
                login = json.loads(body or b"{}")
            except ValueError:
                login = {}
            if not login.get("identifier") or not login.get("password"):
                self._json(
                    {
                        "error": "AuthenticationRequired",
                        "message": "Invalid identifier or password",
                    },
                    status=401,
                )
                return
        handle = "demo-reader.bsky.example"
        self._json(
            {
                "accessJwt": self.demo.issue_token(),
                "refreshJwt": self.demo.issue_token(),
                "handle": handle,
                "did": "did:plc:demoreader0000000000000",
                "active": True,
            }
        )

    def _bluesky_search(self, path: str, query: dict[str, str], now: datetime) -> None:
        if not self.demo.token_ok(self.headers.get("Authorization")):
            self._json({"error": "AuthMissing", "message": "Authentication Required"}, status=401)
            return
        words = search_words(query.get("q", ""))
        until = _atproto_time(query.get("until"))
        since = _atproto_time(query.get("since"))
        found = [
            p
            for p in self.demo.visible("bluesky", now)
            if matches(p, words)
            and (until is None or _sort_at(p) < until)
            and (since is None or _sort_at(p) >= since)
        ]
        limit = _limit(query, default=25, cap=100)
        start = int(query.get("cursor") or 0)
        page = found[start : start + limit]
        body: dict[str, Any] = {"posts": [_post_view(p, now) for p in page]}
        if start + limit < len(found):
            body["cursor"] = str(start + limit)
        body["hitsTotal"] = len(found)
        limit_total, remaining, reset_in = self.demo.spend("bluesky")
        window = int(self.demo.rate_window("bluesky"))
        self.demo.log.note(path, "bluesky", len(page))
        self._json(
            body,
            {
                "ratelimit-limit": str(limit_total),
                "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(int(time.time() + reset_in)),
                "ratelimit-policy": f"{limit_total};w={max(window, 1)}",
            },
        )

    # X --------------------------------------------------------------------------------------------

    def _x_search(self, path: str, query: dict[str, str], now: datetime) -> None:
        if not self.demo.token_ok_x(self.headers.get("Authorization")):
            self._json(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                status=401,
            )
            return
        words = search_words(query.get("query", ""))
        since_id, until_id = query.get("since_id"), query.get("until_id")
        found = [
            p
            for p in self.demo.visible("x", now)
            if p.created_at >= now - _WEEK
            and matches(p, words)
            and (since_id is None or int(p.native_id) > int(since_id))
            and (until_id is None or int(p.native_id) < int(until_id))
        ]
        found.sort(key=lambda p: int(p.native_id), reverse=True)
        limit = _limit(query, default=10, cap=100, name="max_results")
        start = _x_offset(query.get("next_token"))
        page = found[start : start + limit]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0].native_id, "oldest_id": page[-1].native_id}
        if start + limit < len(found):
            meta["next_token"] = _x_token(start + limit)
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [_tweet(p, now) for p in page]
            body["includes"] = _x_includes(page, now)
        limit_total, remaining, reset_in = self.demo.spend("x")
        self.demo.log.note(path, "x", len(page))
        self._json(
            body,
            {
                "x-rate-limit-limit": str(limit_total),
                "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(int(time.time() + reset_in)),
            },
        )

    # sending --------------------------------------------------------------------------------------

    def _json(self, body: object, headers: dict[str, str] | None = None, status: int = 200) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send(
            status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)


# --- paging helpers -----------------------------------------------------------------------------


def _limit(query: dict[str, str], *, default: int, cap: int, name: str = "limit") -> int:
    try:
        return max(1, min(int(query.get(name, default)), cap))
    except ValueError:
        return default


def _mastodon_id(post: StoryPost) -> int:
    return int(post.native_id)


def _id_window(
    posts: list[StoryPost],
    query: dict[str, str],
    key: Callable[[StoryPost], int],
    *,
    default_limit: int,
    cap: int,
    immediate: bool = True,
) -> list[StoryPost]:
    """Mastodon's id paging over `posts` (newest first): `max_id` and `since_id` bound the page,
    `min_id` asks for the statuses immediately newer than it (`immediate`; else it bounds the page
    like `since_id`); always served newest first."""
    limit = _limit(query, default=default_limit, cap=cap)
    ordered = sorted(posts, key=key, reverse=True)
    if "max_id" in query:
        ordered = [p for p in ordered if key(p) < _int(query["max_id"])]
    if "since_id" in query:
        ordered = [p for p in ordered if key(p) > _int(query["since_id"])]
    if "min_id" in query:
        newer = [p for p in ordered if key(p) > _int(query["min_id"])]
        return newer[-limit:] if immediate else newer[:limit]
    return ordered[:limit]


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _gdelt_time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return default


def _numeric_filters(value: str) -> tuple[float | None, float | None]:
    lo = hi = None
    for part in value.split(","):
        if m := re.fullmatch(r"created_at_i\s*(>=|>|<=|<)\s*(\d+)", part.strip()):
            number = float(m.group(2))
            if m.group(1).startswith(">"):
                lo = number - (1 if m.group(1) == ">=" else 0)
            else:
                hi = number - (1 if m.group(1) == "<" else 0)
    return lo, hi


def _atproto_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _indexed_at(post: StoryPost) -> datetime:
    """Search indexes a post a few seconds after it is made."""
    lag = int(hashlib.sha1(post.native_id.encode()).hexdigest()[:4], 16) % 20
    return post.created_at + timedelta(seconds=2 + lag)


def _sort_at(post: StoryPost) -> datetime:
    return min(post.created_at, _indexed_at(post))


def _x_token(offset: int) -> str:
    return base64.b32encode(f"offset:{offset}".encode()).decode().rstrip("=").lower()


def _x_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return int(base64.b32decode(padded).decode().removeprefix("offset:"))
    except ValueError:
        return 0


# --- bodies, in each API's shape ----------------------------------------------------------------


def _mastodon_html(post: StoryPost) -> str:
    domain = post.author.handle.split("@")[1]

    def tag_link(match: re.Match[str]) -> str:
        tag = match.group(1)
        return (
            f'<a href="https://{domain}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
            f"#<span>{tag}</span></a>"
        )

    return f"<p>{_TAG.sub(tag_link, html.escape(post.text, quote=False))}</p>"


def _account(post: StoryPost) -> dict[str, Any]:
    author = post.author
    user, domain = author.handle.split("@")
    return {
        "id": str(int(hashlib.sha1(author.user_id.encode()).hexdigest()[:15], 16)),
        "username": user,
        "acct": author.handle,
        "display_name": author.name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": "",
        "url": f"https://{domain}/@{user}",
        "uri": author.user_id,
        "avatar": f"https://{domain}/avatars/original/missing.png",
        "avatar_static": f"https://{domain}/avatars/original/missing.png",
        "header": f"https://{domain}/headers/original/missing.png",
        "header_static": f"https://{domain}/headers/original/missing.png",
        "followers_count": author.followers or 0,
        "following_count": 180,
        "statuses_count": 1200,
        "last_status_at": post.created_at.date().isoformat(),
        "emojis": [],
        "fields": [],
    }


def _status(post: StoryPost, now: datetime, nested: bool = False) -> dict[str, Any]:
    counts = post.counts_at(now)
    parent = post.parent
    content = _mastodon_html(post)
    quote: dict[str, Any] | None = None
    if post.kind == "quote" and parent is not None:
        link = parent.extra["url"]
        content = content[: -len("</p>")] + (
            f'<span class="quote-inline"><br><br>RE: <a href="{link}">{link}</a></span></p>'
        )
        quote = (
            {"state": "accepted", "quoted_status_id": parent.native_id}
            if nested
            else {"state": "accepted", "quoted_status": _status(parent, now, nested=True)}
        )
    domain = post.author.handle.split("@")[1]
    return {
        "id": post.native_id,
        "created_at": _iso(post.created_at),
        "in_reply_to_id": parent.native_id if post.kind == "reply" and parent else None,
        "in_reply_to_account_id": _account(parent)["id"]
        if post.kind == "reply" and parent
        else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.lang,
        "uri": post.extra["uri"],
        "url": post.extra["url"],
        "replies_count": counts["replies"],
        "reblogs_count": counts["reposts"],
        "favourites_count": counts["likes"],
        "quotes_count": counts["quotes"],
        "edited_at": None,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": None,
        "account": _account(post),
        "media_attachments": [],
        "mentions": [],
        "tags": [
            {"name": tag.lower(), "url": f"https://{domain}/tags/{tag.lower()}"}
            for tag in _TAG.findall(post.text)
        ],
        "emojis": [],
        "quote": quote,
        "card": None,
        "poll": None,
    }


def _submission(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    sub = str(post.extra["subreddit"])
    slug = re.sub(r"[^a-z0-9]+", "_", (post.title or "").lower())[:50].strip("_")
    permalink = f"/r/{sub}/comments/{post.native_id}/{slug}/"
    parent = post.parent
    data: dict[str, Any] = {
        "approved_at_utc": None,
        "subreddit": sub,
        "selftext": post.text,
        "author_fullname": "t2_" + hashlib.sha1(post.author.handle.encode()).hexdigest()[:8],
        "saved": False,
        "gilded": 0,
        "clicked": False,
        "title": post.title or "",
        "subreddit_name_prefixed": f"r/{sub}",
        "hidden": False,
        "downs": 0,
        "name": post.source_id,
        "upvote_ratio": 0.93,
        "ups": counts["likes"],
        "total_awards_received": 0,
        "score": counts["likes"],
        "edited": False,
        "is_self": parent is None,
        "created": post.created_at.timestamp(),
        "domain": f"self.{sub}" if parent is None else f"self.{parent.extra['subreddit']}",
        "selftext_html": None,
        "likes": None,
        "archived": False,
        "no_follow": False,
        "over_18": False,
        "locked": False,
        "subreddit_id": "t5_" + hashlib.sha1(sub.encode()).hexdigest()[:6],
        "id": post.native_id,
        "author": post.author.handle,
        "num_comments": counts["replies"],
        "permalink": permalink,
        "url": f"https://www.reddit.com{permalink}",
        "subreddit_subscribers": 1_000_000,
        "created_utc": post.created_at.timestamp(),
        "num_crossposts": counts["reposts"],
        "is_video": False,
        "lang_hint": post.lang,
    }
    if parent is not None:
        data["crosspost_parent"] = parent.source_id
        data["crosspost_parent_list"] = [_submission(parent, now)]
    return data


def _rss(q: str, edition: str, items: list[StoryPost], now: datetime) -> str:
    lang, region = edition.split("-")
    link = (
        f"https://news.google.com/search?q={quote(q)}&hl={edition}&gl={region}&ceid={region}:{lang}"
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        "<generator>NFE/5.0</generator>",
        f"<title>{escape(q)} - Google News</title>",
        f"<link>{escape(link)}</link>",
        f"<language>{edition}</language>",
        "<webMaster>news-webmaster@google.com</webMaster>",
        f"<copyright>{now.year} Google LLC</copyright>",
        f"<lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate>",
        "<description>Google News</description>",
    ]
    for post in items:
        outlet, site = post.extra["outlet"]
        article = f"https://news.google.com/rss/articles/{post.native_id}?oc=5"
        if post.title is not None:
            description = (
                f'<a href="{article}" target="_blank">{html.escape(post.title)}</a>'
                f'&nbsp;&nbsp;<font color="#6f6f6f">{html.escape(outlet)}</font>'
            )
            title = f"<title>{escape(post.title)} - {escape(outlet)}</title>"
        else:  # the real article: its headline is not known, its quoted text is
            description, title = html.escape(post.text), ""
        parts.append(
            f"<item>{title}<link>{escape(article)}</link>"
            f'<guid isPermaLink="false">{escape(post.native_id)}</guid>'
            f"<pubDate>{format_datetime(post.created_at, usegmt=True)}</pubDate>"
            f"<description>{escape(description)}</description>"
            f'<source url="{escape(site)}">{escape(outlet)}</source></item>'
        )
    parts.append("</channel></rss>")
    return "".join(parts)


def _article(post: StoryPost) -> dict[str, Any]:
    return {
        "url": post.native_id if post.native_id.startswith("http") else post.author.user_id,
        "url_mobile": "",
        "title": post.title or post.text,
        "seendate": post.created_at.strftime("%Y%m%dT%H%M%SZ"),
        "socialimage": "",
        "domain": post.author.handle,
        "language": post.extra.get("language", "English"),
        "sourcecountry": "Canada",
    }


def _hn_hit(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    story = post.parent if post.kind == "comment" else post
    hit: dict[str, Any] = {
        "created_at": _iso(post.created_at),
        "created_at_i": int(post.created_at.timestamp()),
        "author": post.author.handle,
        "objectID": post.native_id,
        "updated_at": _iso(post.created_at),
        "_tags": [
            "comment" if post.kind == "comment" else "story",
            f"author_{post.author.handle}",
            f"story_{story.native_id if story else post.native_id}",
        ],
    }
    if post.kind == "comment" and post.parent is not None:
        hit |= {
            "comment_text": html.escape(post.text),
            "parent_id": int(post.parent.native_id),
            "story_id": int(post.parent.native_id),
            "story_title": post.parent.title,
            "story_url": None,
        }
    else:
        hit |= {
            "title": post.title,
            "url": None,
            "story_text": f"<p>{html.escape(post.text)}",
            "points": counts["likes"],
            "num_comments": counts["replies"],
            "story_id": int(post.native_id),
        }
    return hit


def _post_view(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": _iso(post.created_at),
        "langs": [post.lang],
        "text": post.text,
    }
    view: dict[str, Any] = {
        "uri": post.extra["uri"],
        "cid": "bafyrei" + hashlib.sha256(post.extra["uri"].encode()).hexdigest()[:52],
        "author": _bluesky_author(post),
        "record": record,
        "replyCount": counts["replies"],
        "repostCount": counts["reposts"],
        "likeCount": counts["likes"],
        "quoteCount": counts["quotes"],
        "indexedAt": _iso(_indexed_at(post)),
        "labels": [],
    }
    parent = post.parent
    if parent is not None and post.kind == "reply":
        ref = {"uri": parent.extra["uri"], "cid": _cid(parent)}
        root = parent
        while root.parent is not None and root.kind == "reply":
            root = root.parent
        record["reply"] = {"parent": ref, "root": {"uri": root.extra["uri"], "cid": _cid(root)}}
    elif parent is not None and post.kind == "quote":
        ref = {"uri": parent.extra["uri"], "cid": _cid(parent)}
        record["embed"] = {"$type": "app.bsky.embed.record", "record": ref}
        quoted = _post_view(parent, now)
        view["embed"] = {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted["uri"],
                "cid": quoted["cid"],
                "author": quoted["author"],
                "value": quoted["record"],
                "labels": [],
                "likeCount": quoted["likeCount"],
                "replyCount": quoted["replyCount"],
                "repostCount": quoted["repostCount"],
                "quoteCount": quoted["quoteCount"],
                "indexedAt": quoted["indexedAt"],
                "embeds": [],
            },
        }
    return view


def _cid(post: StoryPost) -> str:
    return "bafyrei" + hashlib.sha256(post.extra["uri"].encode()).hexdigest()[:52]


def _bluesky_author(post: StoryPost) -> dict[str, Any]:
    return {
        "did": post.author.user_id,
        "handle": post.author.handle,
        "displayName": post.author.name,
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{post.author.user_id}/demo@jpeg",
        "labels": [],
        "createdAt": "2023-04-26T19:05:34.249Z",
    }


def _tweet(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    parent = post.parent
    text = post.text
    tweet: dict[str, Any] = {
        "id": post.native_id,
        "author_id": post.author.user_id,
        "created_at": _iso(post.created_at),
        "conversation_id": post.native_id,
        "lang": post.lang,
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "edit_history_tweet_ids": [post.native_id],
        "public_metrics": {
            "retweet_count": counts["reposts"],
            "reply_count": counts["replies"],
            "like_count": counts["likes"],
            "quote_count": counts["quotes"],
            "bookmark_count": 0,
            "impression_count": counts["likes"] * 40,
        },
    }
    if parent is not None:
        kind = {"repost": "retweeted", "reply": "replied_to", "quote": "quoted"}[post.kind]
        tweet["referenced_tweets"] = [{"type": kind, "id": parent.native_id}]
        if post.kind == "repost":
            text = f"RT @{parent.author.handle}: {parent.text}"
            text = text if len(text) <= 140 else text[:139] + "…"
            tweet["public_metrics"] = _tweet(parent, now)["public_metrics"]  # X repeats them
        if post.kind == "reply":
            tweet["conversation_id"] = parent.native_id
            tweet["in_reply_to_user_id"] = parent.author.user_id
            text = f"@{parent.author.handle} {text}"
        if post.kind == "quote":
            text = f"{text} https://t.co/{post.native_id[-10:]}"
    if len(text) > 280:
        tweet["note_tweet"] = {"text": text}
        text = text[:279] + "…"
    tweet["text"] = html.escape(text, quote=False)  # X escapes &, < and >
    return tweet


def _x_user(post: StoryPost) -> dict[str, Any]:
    author = post.author
    return {
        "id": author.user_id,
        "name": author.name,
        "username": author.handle,
        "created_at": "2015-11-02T23:37:36.000Z",
        "protected": False,
        "verified": False,
        "public_metrics": {
            "followers_count": author.followers or 0,
            "following_count": 300,
            "tweet_count": 5000,
            "listed_count": 3,
        },
    }


def _x_includes(page: list[StoryPost], now: datetime) -> dict[str, Any]:
    referenced = {p.parent.native_id: p.parent for p in page if p.parent is not None}
    users = {p.author.user_id: _x_user(p) for p in [*page, *referenced.values()]}
    includes: dict[str, Any] = {"users": list(users.values())}
    if referenced:
        includes["tweets"] = [_tweet(p, now) for p in referenced.values()]
    return includes
