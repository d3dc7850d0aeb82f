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

Each source's protocol (its routes' answers, its bodies' shapes) is a module of `protocols/`; the
handler here dispatches a path to it and sends the `Reply` it returns.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from claimwatch.demo.protocols import bluesky, gdelt, hackernews, mastodon, news, reddit, x
from claimwatch.demo.protocols.common import Reply, Spend
from claimwatch.demo.traffic import Story, StoryPost

__all__ = ["DEMO_X_TOKEN", "Clock", "DemoServer", "RequestLog"]

DEMO_X_TOKEN = "demo-x-bearer-token"  # the app token the demo's X source is given


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
        reply = self._route(url.path, query, now)
        if reply is None:
            self._json({"error": "NotFound", "message": f"no such path {url.path}"}, status=404)
            return
        self._reply(url.path, reply)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path in (
            "/xrpc/com.atproto.server.createSession",
            "/xrpc/com.atproto.server.refreshSession",
        ):
            refresh = path.endswith("refreshSession")
            authorized = self.demo.token_ok(self.headers.get("Authorization"))
            reply = bluesky.session(
                body, refresh=refresh, authorized=authorized, issue_token=self.demo.issue_token
            )
            self._reply(path, reply)
        else:
            self._json({"error": "MethodNotImplemented"}, status=404)

    def _route(self, path: str, query: dict[str, str], now: datetime) -> Reply | None:
        """The reply of the source whose API serves `path` (None: no source does)."""
        demo = self.demo
        auth = self.headers.get("Authorization")
        if path.startswith("/api/v1/timelines/tag/"):
            posts = demo.visible("mastodon", now)
            host = self.headers["Host"]
            spend = self._spend("mastodon")
            return mastodon.tag_timeline(path, posts, query, now, host=host, spend=spend)
        if path == "/api/v2/search":
            posts = demo.visible("mastodon", now)
            return mastodon.search(posts, query, now, spend=self._spend("mastodon"))
        if path == "/search.json" or re.fullmatch(r"/r/\w+/search\.json", path):
            posts = demo.visible("reddit", now)
            return reddit.search(path, posts, query, now, spend=self._spend("reddit"))
        if path == "/rss/search":
            posts = demo.visible("news", now)
            return news.search(posts, query, now, if_none_match=self.headers.get("If-None-Match"))
        if path == "/api/v2/doc/doc":
            return gdelt.doc(demo.visible("gdelt", now), query, now)
        if path == "/api/v1/search_by_date":
            posts = demo.visible("hackernews", now)
            return hackernews.search_by_date(posts, query, now, params=urlsplit(self.path).query)
        if path == "/xrpc/app.bsky.feed.searchPosts":
            ok, window = demo.token_ok(auth), demo.rate_window("bluesky")
            posts, spend = demo.visible("bluesky", now), self._spend("bluesky")
            return bluesky.search(posts, query, now, authorized=ok, spend=spend, window=window)
        if path == "/2/tweets/search/recent":
            posts, spend = demo.visible("x", now), self._spend("x")
            return x.search(posts, query, now, authorized=demo.token_ok_x(auth), spend=spend)
        return None

    def _spend(self, api: str) -> Spend:
        return partial(self.demo.spend, api)

    # sending --------------------------------------------------------------------------------------

    def _reply(self, path: str, reply: Reply) -> None:
        if reply.api is not None:
            self.demo.log.note(path, reply.api, reply.served)
        if isinstance(reply.body, bytes):
            self._send(reply.status, reply.body, reply.headers)
        else:
            self._json(reply.body, reply.headers, reply.status)

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
