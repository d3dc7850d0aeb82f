"""A local HTTP server speaking the Mastodon and Reddit protocols, serving the seed story.

Statuses and submissions are the real recorded bodies (tests/fixtures/recorded/) with their text,
ids and times replaced by the story's posts, plus off-topic posts that a collector must not keep.
Paging is real: Mastodon's `Link` header with `max_id`, Reddit's `data.after`; rate-limit headers
are sent as each API sends them.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
T0 = datetime(2026, 1, 27, 15, 0, tzinfo=UTC)

# typographic apostrophes (U+2019) on purpose: real posts have them
ON_TOPIC = [
    "Yep, the Canadian gov\u2019t has allowed the US government to place 4 ICE stations in Canada",
    "BREAKING: There are 5 #ICE stations Canada!! Ottawa, Calgary, Montreal, Vancouver and"
    " Toronto.",
    "Il y a cinq bureaux de l\u2019ICE au Canada, selon le site de l\u2019agence",
    "Let\u2019s be clear: HSI agents in Canada carry no firearms. #ICECanada",
]
OFF_TOPIC = [
    "Ice cubes melting in the sun, what a day",
    "Great hockey game on the ice in Toronto tonight",
]


def _status(template: dict[str, Any], n: int, text: str, host: str) -> dict[str, Any]:
    status = copy.deepcopy(template)
    status.update(
        id=str(1000 + n),
        uri=f"https://{host}/users/story/statuses/{1000 + n}",
        url=f"https://{host}/@story/{1000 + n}",
        created_at=(T0 + timedelta(hours=n)).isoformat().replace("+00:00", "Z"),
        content=f"<p>{text}</p>",
        language="fr" if "Il y a" in text else "en",
        favourites_count=10 * n,
        reblog=None,
        quote=None,
    )
    return status


def mastodon_statuses(host: str = "story.example") -> list[dict[str, Any]]:
    template = json.loads((RECORDED / "mastodon_tag_timeline_localhost.json").read_text())[0]
    # oldest first here, served newest first: page 1 holds one post on topic and one off it
    texts = [ON_TOPIC[0], OFF_TOPIC[0], ON_TOPIC[1], ON_TOPIC[2], OFF_TOPIC[1], ON_TOPIC[3]]
    return [_status(template, n, text, host) for n, text in enumerate(texts)][::-1]


def reddit_children() -> list[dict[str, Any]]:
    listing = json.loads((RECORDED / "reddit_listing.json").read_text())
    template = listing["data"]["children"][0]
    children = []
    for n, text in enumerate(ON_TOPIC[:2] + OFF_TOPIC[:1]):
        child = copy.deepcopy(template)
        child["data"].update(
            id=f"s{n}",
            name=f"t3_s{n}",
            title=text[:60],
            selftext=text,
            created_utc=(T0 + timedelta(hours=n)).timestamp(),
            score=5 * n,
            permalink=f"/r/canada/comments/s{n}/story/",
            crosspost_parent=None,
        )
        children.append(child)
    return children[::-1]


def bluesky_posts() -> list[dict[str, Any]]:
    thread = json.loads((RECORDED / "bluesky_get_post_thread_quote.json").read_text())
    template = thread["thread"]["post"]
    posts = []
    for n, text in enumerate(ON_TOPIC[:3] + OFF_TOPIC):
        post = copy.deepcopy(template)
        post.pop("embed", None)
        when = (T0 + timedelta(hours=n)).isoformat().replace("+00:00", "Z")
        post.update(
            uri=f"at://did:plc:story/app.bsky.feed.post/rk{n}",
            cid=f"cid{n}",
            indexedAt=when,
            likeCount=n,
            repostCount=0,
            replyCount=0,
            quoteCount=0,
        )
        post["record"] = {
            "$type": "app.bsky.feed.post",
            "createdAt": when,
            "langs": ["en"],
            "text": text,
        }
        posts.append(post)
    return posts[::-1]


def rss_items() -> str:
    items = "".join(
        f"<item><title>{text[:50]} - Story News</title><link>https://news.example/{n}</link>"
        f'<guid isPermaLink="false">story-{n}</guid>'
        f"<pubDate>{(T0 + timedelta(hours=n)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
        f"<description>&lt;p&gt;{text}&lt;/p&gt;</description>"
        f'<source url="https://news.example">Story News</source></item>'
        for n, text in enumerate(ON_TOPIC[1:3] + OFF_TOPIC[1:])
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Google News</title><language>en-CA</language>{items}</channel></rss>"
    )


class StoryHandler(BaseHTTPRequestHandler):
    page_size = 2
    overlap = False  # when set, each Mastodon page repeats the last post of the page before
    requests: list[str]
    # path prefix -> faults to serve, one per request, before answering normally: "429" (with
    # Retry-After: 1), "500", "slow" (answers after 3 s), "truncated" (JSON cut short), "html"
    # (an HTML error page with status 200), "expired" (Bluesky's ExpiredToken), "hang" (never
    # answers within a test's time), "ok" (answer normally)
    faults: dict[str, list[str]]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self._fault():
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/api/v1/timelines/tag/"):
            self._mastodon_page(mastodon_statuses(), query)
        elif url.path == "/api/v2/search":
            self._json({"accounts": [], "statuses": [], "hashtags": []}, self._mastodon_limits())
        elif url.path.endswith("search.json"):
            self._reddit_page(query, subreddit=url.path.startswith("/r/"))
        elif url.path == "/xrpc/app.bsky.feed.searchPosts":
            self._bluesky_page(query)
        elif url.path == "/rss/search":
            self._rss()
        else:
            self._json({"error": "Record not found"}, {}, status=404)

    def _mastodon_page(self, statuses: list[dict[str, Any]], query: dict[str, str]) -> None:
        if "min_id" in query:
            statuses = [s for s in statuses if int(s["id"]) > int(query["min_id"])]
        if "max_id" in query:
            statuses = [s for s in statuses if int(s["id"]) < int(query["max_id"])]
        page = statuses[: self.page_size]
        headers = self._mastodon_limits()
        if len(statuses) > self.page_size:
            base = f"http://{self.headers['Host']}{urlsplit(self.path).path}"
            next_id = int(page[-1]["id"]) + (1 if self.overlap else 0)
            headers["Link"] = (
                f'<{base}?max_id={next_id}>; rel="next", <{base}?min_id={page[0]["id"]}>;'
                ' rel="prev"'
            )
        self._json(page, headers)

    def _reddit_page(self, query: dict[str, str], subreddit: bool) -> None:
        children = [] if subreddit else reddit_children()
        start = next(
            (i + 1 for i, c in enumerate(children) if c["data"]["name"] == query.get("after")), 0
        )
        page = children[start : start + self.page_size]
        after = page[-1]["data"]["name"] if start + self.page_size < len(children) else None
        body = {
            "kind": "Listing",
            "data": {
                "after": after,
                "before": None,
                "dist": len(page),
                "modhash": "",
                "geo_filter": None,
                "children": page,
            },
        }
        self._json(
            body,
            {"x-ratelimit-remaining": "95.0", "x-ratelimit-reset": "300", "x-ratelimit-used": "5"},
        )

    def do_POST(self) -> None:
        self.requests.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self._fault():
            return
        tokens = {
            "/xrpc/com.atproto.server.createSession": "access-1",
            "/xrpc/com.atproto.server.refreshSession": "access-2",
        }
        if self.path in tokens:
            self._json(
                {
                    "accessJwt": tokens[self.path],
                    "refreshJwt": "refresh-1",
                    "handle": "story.example",
                    "did": "did:plc:reader",
                },
                {},
            )
        else:
            self._json({"error": "MethodNotImplemented"}, {}, status=404)

    def _bluesky_page(self, query: dict[str, str]) -> None:
        if self.headers.get("Authorization") not in ("Bearer access-1", "Bearer access-2"):
            self._json({"error": "AuthMissing", "message": "Authentication Required"}, {}, 401)
            return
        posts = bluesky_posts()
        start = int(query.get("cursor") or 0)
        page = posts[start : start + self.page_size]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(posts)}
        if start + self.page_size < len(posts):
            body["cursor"] = str(start + self.page_size)
        self._json(
            body,
            {
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "2999",
                "ratelimit-reset": str(int(T0.timestamp()) + 300),
                "ratelimit-policy": "3000;w=300",
            },
        )

    def _rss(self) -> None:
        if self.headers.get("If-None-Match") == '"story-v1"':
            self.send_response(304)
            self.end_headers()
            return
        data = rss_items().encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", '"story-v1"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fault(self) -> bool:
        """Serve the next fault queued for this path, if any; True when it answered."""
        queue = next((q for prefix, q in self.faults.items() if self.path.startswith(prefix)), [])
        fault = queue.pop(0) if queue else None
        if fault == "slow":
            time.sleep(3)
        elif fault == "hang":
            time.sleep(60)
        elif fault == "429":
            self._json({"error": "Too many requests"}, {"Retry-After": "1"}, status=429)
        elif fault == "500":
            self._json({"error": "boom"}, {}, status=500)
        elif fault == "expired":
            self._json({"error": "ExpiredToken", "message": "Token has expired"}, {}, 400)
        elif fault in ("truncated", "html"):
            body = (
                b'[{"id": "1", "content": "<p>5 ICE'
                if fault == "truncated"
                else (b"<html><body><h1>We're sorry, something went wrong</h1></body></html>")
            )
            self.send_response(200)
            self.send_header(
                "Content-Type", "application/json" if fault == "truncated" else "text/html"
            )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        return fault in ("429", "500", "expired", "truncated", "html")

    def _mastodon_limits(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2026-01-27T15:05:00.000Z",
        }

    def _json(self, body: object, headers: dict[str, str], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def story_server(
    faults: dict[str, list[str]] | None = None, overlap: bool = False
) -> Iterator[tuple[str, list[str]]]:
    """Serve the story on 127.0.0.1; yields the base URL and the list of paths requested."""
    requests: list[str] = []
    handler = type(
        "Handler",
        (StoryHandler,),
        {"requests": requests, "faults": faults or {}, "overlap": overlap},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False  # a "hang" fault must not hold up the test's end
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
