"""Reddit: search listings, site-wide and per subreddit, public or with app-only OAuth.

**Streams.** For each of the topic's queries (`TopicQuery.all_queries()`), one site-wide search,
`GET {base_url}/search.json?q=<query>&sort=new&t=week&limit=100&raw_json=1`, scope
`search/<query>`. For each configured subreddit, one search restricted to it,
`GET {base_url}/r/<sub>/search.json?q=<q>&restrict_sr=1&...`, scope `r/<sub>/<q>`, where `<q>` is
all the topic's queries in one boolean query, `(q1) OR (q2) OR ...` (Reddit's search syntax has
`OR` and parentheses). That keeps a pass at `queries + subreddits` requests (9 + 12 for the
shipped config) instead of `queries x (1 + subreddits)` (117): a subreddit's traffic is small
enough that one listing holds it, and the site-wide streams, where volume is, keep one listing per
query so that one busy query cannot crowd the others out of `max_pages`. Reddit caps `q` at 512
characters, so a longer OR-query is split into as few chunks as fit, each its own stream. The
query is part of the scope, so editing a topic's queries starts those streams afresh. Streams run
one after another (Reddit's budget, not latency, is the limit; `SourceHttp` paces it).

**Auth.** Without credentials the public JSON endpoints on `base_url` are used (with
`SourceHttp`'s descriptive User-Agent). With a client id and secret, an app-only token is taken
from `POST {base_url}/api/v1/access_token` (HTTP Basic client_id:secret,
`grant_type=client_credentials`) and every listing goes to `oauth_url` with
`Authorization: bearer <token>`. The token is shared by all streams and topics, renewed a minute
before its `expires_in`, and a 401 on a listing renews it once and repeats the request (a second
401 is raised). A token call that fails raises: wrong credentials are a failing source.

**Cursors** (`RedditCursor`: the resumable cursor of `collectors/cursor.py`, which describes the
state, the page-by-page saving and the lenient loading). Search listings are newest first;
`before=` is unreliable on search, and `after=` only walks down. The mark `newest` is the
created_utc of the newest post seen; a pending gap is `after` (a fullname: the posts below that
listing position are unread) and `floor` (epoch seconds). A pass reads from the top until a page
holds a post created before `newest - overlap` (default one hour: search indexing lags, and
created_utc order is not strict), or `data.after` is null, or `max_pages` is spent; then, with
pages left, on from the gap's `after` until a post older than its `floor` appears or the listing
ends. A page that leaves posts unread below it saves its `data.after` as the gap, down to the old
mark less the overlap. When the listing ends (`data.after` null) the gap closes: `t=week` has
nothing older to give. Limits, stated: a post indexed more than `overlap` after its creation, and
below the first page, can be missed; a gap's `after` that Reddit no longer resolves (the post was
removed) ends the listing early.

**Pages.** A body that is not JSON (Reddit answers some errors with HTML and status 200), or has
no `data.children` list, is a `BadPage` with the body; that stream stops, the others go on. A
subreddit search answered 403 or 404 (private, banned or missing subreddit) is a `BadPage` too;
any other HTTP failure (`SourceHttpError`: 429 or 5xx after retries, a blocked client's 403 on
site-wide search) is raised, and the run is recorded as failing. A t3 or t1 child without a
fullname or a numeric created_utc is reported as a `BadPage` of its own and the page goes on.
Children of other kinds (subreddits, "more") are not posts and are left out.

**Mapping** (`post_record`): source "reddit"; source_id the fullname (`t3_...`, `t1_...`), so
`post_uid` is "reddit:t3_..." and a crosspost's `crosspost_parent` (a fullname) links to it;
url "https://www.reddit.com" + permalink (the public web URL, whatever host served the API);
kind "post", "repost" for a crosspost (parent_uid and root_uid "reddit:" + crosspost_parent) or
"comment" (parent_uid from `parent_id`, root_uid from `link_id`); author_id = author_handle =
`author` (usernames cannot change on Reddit), None for "[deleted]" so deleted accounts are not
counted as one author; author_name, author_followers, collected_at and lang None (Reddit gives no
display name, follower count or language); created_at aware UTC from created_utc; title the
submission title (None for comments); text `selftext` (`raw_json=1` gives it unescaped; "" for a
link or media post, whose title carries it) or a comment's `body`; likes = score, replies =
num_comments, reposts = num_crossposts (None for comments), quotes None; raw the child's `data`
as received. `content_hash` is left to the warehouse.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.cursor import (
    SECONDS,
    Codec,
    Cursor,
    CursorFormat,
    bare_json,
    is_number,
)
from collectors.fields import count, text_or_none
from collectors.http import RateLimit, SourceHttp, SourceHttpError, redact_url
from collectors.pager import Read, two_phase_pass

__all__ = [
    "RedditAuthError",
    "RedditCollector",
    "RedditCursor",
    "post_record",
    "subreddit_queries",
]

log = logging.getLogger(__name__)

SOURCE = "reddit"
WEB_URL = "https://www.reddit.com"
TOKEN_PATH = "/api/v1/access_token"
MAX_QUERY_CHARS = 512  # Reddit's limit on `q`
DEFAULT_OVERLAP_S = 3600.0
TOKEN_MARGIN_S = 60.0
_GONE = frozenset({403, 404})  # a private, banned or missing subreddit
_POST_KINDS = ("t3", "t1")
_DELETED = "[deleted]"


class RedditAuthError(Exception):
    """The token endpoint answered, but with no usable access token."""


# --- cursors -------------------------------------------------------------------------------------


def _position(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a listing position")
    return value or None


class RedditCursor(Cursor[float, str]):
    """A stream's resume state (`collectors.cursor`); `gap` is the listing position `after`."""

    FORMAT = CursorFormat("reddit", SECONDS, Codec(_position), "after", bare_json(SECONDS.parse))


# --- mapping -------------------------------------------------------------------------------------


def post_record(kind: str, data: Mapping[str, Any]) -> PostRecord:
    """A t3 (submission) or t1 (comment) child's `data` as a Post record.

    Raises ValueError when it has no fullname or no numeric created_utc.
    """
    if kind not in _POST_KINDS:
        raise ValueError(f"{kind!r} is not a post kind")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        short = data.get("id")
        if not isinstance(short, str) or not short:
            raise ValueError(f"{kind} child has neither name nor id")
        name = f"{kind}_{short}"
    created = data.get("created_utc")
    if not is_number(created):
        raise ValueError(f"{name}: created_utc is {created!r}, not a number")
    author = text_or_none(data.get("author"))
    if author == _DELETED:
        author = None
    short_id = name.split("_", 1)[1]
    record: PostRecord = {
        "post_uid": f"{SOURCE}:{name}",
        "source": SOURCE,
        "source_id": name,
        "author_id": author,
        "author_handle": author,
        "author_name": None,
        "author_followers": None,
        "created_at": datetime.fromtimestamp(created, UTC),
        "collected_at": None,
        "lang": None,
        "likes": count(data.get("score")),
        "quotes": None,
        "raw": data,
    }
    permalink = text_or_none(data.get("permalink"))
    if kind == "t3":
        parent = text_or_none(data.get("crosspost_parent"))
        parent_uid = f"{SOURCE}:{parent}" if parent else None
        record |= {
            "url": WEB_URL + (permalink or f"/comments/{short_id}/"),
            "kind": "repost" if parent_uid else "post",
            "title": text_or_none(data.get("title")),
            "text": text_or_none(data.get("selftext")) or "",
            "parent_uid": parent_uid,
            "root_uid": parent_uid,
            "replies": count(data.get("num_comments")),
            "reposts": count(data.get("num_crossposts")),
        }
    else:
        parent = text_or_none(data.get("parent_id"))
        link = text_or_none(data.get("link_id"))
        fallback = f"/comments/{link.split('_', 1)[-1]}/_/{short_id}/" if link else None
        record |= {
            "url": WEB_URL + permalink if permalink else (WEB_URL + fallback if fallback else None),
            "kind": "comment",
            "title": None,
            "text": text_or_none(data.get("body")) or "",
            "parent_uid": f"{SOURCE}:{parent}" if parent else None,
            "root_uid": f"{SOURCE}:{link}" if link else None,
            "replies": None,
            "reposts": None,
        }
    return record


@dataclass
class _Listing:
    posts: list[PostRecord] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # created_utc of every readable post
    after: str | None = None
    bad: list[tuple[str, Any]] = field(default_factory=list)  # (error, child) of unreadable ones


def _read_listing(body: Any) -> _Listing:
    """The posts of a Listing body; raises ValueError when it has no `data.children` list."""
    if isinstance(body, list):  # some endpoints send [listing, listing]: take the last with posts
        listings = [part for part in body if _children(part) is not None]
        body = ([p for p in listings if _has_posts(p)] or listings or [None])[-1]
    children = _children(body)
    if children is None:
        raise ValueError("the body has no data.children list")
    after = body["data"].get("after")
    listing = _Listing(after=after if isinstance(after, str) and after else None)
    for child in children:
        kind = child.get("kind") if isinstance(child, dict) else None
        if kind not in _POST_KINDS:
            continue
        data = child.get("data")
        try:
            if not isinstance(data, dict):
                raise ValueError(f"{kind} child has no data object")
            record = post_record(kind, data)
        except ValueError as exc:
            listing.bad.append((str(exc), child))
            continue
        listing.posts.append(record)
        listing.times.append(float(data["created_utc"]))
    return listing


def _children(body: Any) -> list[Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else None


def _has_posts(body: Any) -> bool:
    return any(
        isinstance(child, dict) and child.get("kind") in _POST_KINDS
        for child in _children(body) or []
    )


# --- queries -------------------------------------------------------------------------------------


def subreddit_queries(queries: Iterable[str], max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The queries as few `(a) OR (b) ...` strings as fit in `max_chars` each (one query alone
    is sent as it is; a single query longer than the limit is sent anyway, Reddit will say)."""
    queries = list(dict.fromkeys(q for q in queries if q.strip()))
    if len(queries) <= 1:
        return queries
    chunks: list[list[str]] = [[]]
    for query in queries:
        part = f"({query})"
        if chunks[-1] and len(" OR ".join([*chunks[-1], part])) > max_chars:
            chunks.append([])
        chunks[-1].append(part)
    return [" OR ".join(chunk) if len(chunk) > 1 else chunk[0][1:-1] for chunk in chunks]


@dataclass(frozen=True)
class _Stream:
    scope: str
    path: str
    params: dict[str, str]
    subreddit: bool


# --- the collector -------------------------------------------------------------------------------


class RedditCollector:
    """Reddit search, site-wide per query and per configured subreddit; see the module docstring.

    `overlap` (seconds) is how far below the saved high-water mark a pass keeps reading; `clock`
    (monotonic seconds) times the OAuth token's expiry.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        oauth_url: str,
        subreddits: list[str],
        client_id: str | None = None,
        client_secret: str | None = None,
        limit: int = 100,
        max_pages: int = 5,
        *,
        overlap: float = DEFAULT_OVERLAP_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if bool(client_id) != bool(client_secret):
            raise ValueError("reddit: give both client_id and client_secret, or neither")
        if not 1 <= limit <= 100:
            raise ValueError(f"reddit: limit must be 1-100, not {limit}")
        if max_pages < 1:
            raise ValueError(f"reddit: max_pages must be at least 1, not {max_pages}")
        self.base_url = base_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self.subreddits = list(dict.fromkeys(subreddits))
        self.limit = limit
        self.max_pages = max_pages
        self.overlap = overlap
        self._credentials = (client_id, client_secret) if client_id and client_secret else None
        self._clock = clock
        self._token: str | None = None
        self._token_expires: float | None = None
        self._token_lock = asyncio.Lock()

    @property
    def authenticated(self) -> bool:
        return self._credentials is not None

    def streams(self, query: TopicQuery) -> list[_Stream]:
        """The searches one pass sends for a topic, in order."""
        common = {"sort": "new", "t": "week", "limit": str(self.limit), "raw_json": "1"}
        streams = [
            _Stream(f"search/{q}", "/search.json", {"q": q, **common}, subreddit=False)
            for q in query.all_queries()
        ]
        for q in subreddit_queries(query.all_queries()):
            streams += [
                _Stream(
                    f"r/{sub}/{q}",
                    f"/r/{sub}/search.json",
                    {"q": q, "restrict_sr": "1", **common},
                    subreddit=True,
                )
                for sub in self.subreddits
            ]
        return streams

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for stream in self.streams(query):
            async for page in self._stream(stream, cursors.get(stream.scope), http):
                yield page

    def _stream(
        self, stream: _Stream, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        """One stream's pass (`collectors.pager`): the top down to the mark, then a pending gap."""
        state = RedditCursor.load(saved)
        mark = None if state.newest is None else state.newest - self.overlap
        return two_phase_pass(_ListingReader(self, stream, http), state, mark, self.max_pages)

    @staticmethod
    def _bad_children(listing: _Listing, stream: _Stream, url: str) -> list[BadPage]:
        return [
            BadPage(f"unreadable post: {error}", json.dumps(child), stream.scope, url)
            for error, child in listing.bad
        ]

    async def _page(
        self, stream: _Stream, after: str | None, http: SourceHttp
    ) -> tuple[_Listing, str, RateLimit | None] | BadPage:
        params = {**stream.params, **({"after": after} if after else {})}
        try:
            response = await self._get(stream.path, params, http)
        except SourceHttpError as exc:
            if not (stream.subreddit and exc.status in _GONE):
                raise
            body = exc.response.text if exc.response is not None else ""
            return BadPage(str(exc), body, stream.scope, exc.url)
        url = redact_url(response.url)
        try:
            listing = _read_listing(response.json())
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            kind = response.headers.get("content-type", "no content-type")
            error = f"not a Reddit listing (HTTP {response.status_code}, {kind}): {exc}"
            return BadPage(error, response.text, stream.scope, url)
        return listing, url, http.rate_limits.get(response.url.host)

    # --- auth ------------------------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str], http: SourceHttp) -> httpx.Response:
        if self._credentials is None:
            return await http.get(self.base_url + path, params=params)
        url = self.oauth_url + path
        token = await self._access_token(http)
        try:
            return await http.get(url, params=params, headers=_bearer(token))
        except SourceHttpError as exc:
            if exc.status != 401:
                raise
        log.info("reddit: token refused (401); getting a new one")
        token = await self._access_token(http, refused=token)
        return await http.get(url, params=params, headers=_bearer(token))

    async def _access_token(self, http: SourceHttp, refused: str | None = None) -> str:
        """The current token, or a new one if there is none, it expires, or it was `refused`."""
        assert self._credentials is not None
        async with self._token_lock:
            expired = self._token_expires is not None and self._clock() >= self._token_expires
            if self._token and self._token != refused and not expired:
                return self._token
            response = await http.post(
                self.base_url + TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=self._credentials,
            )
            try:
                body = response.json()
            except ValueError:
                raise RedditAuthError(
                    f"reddit: the token response is not JSON: {response.text[:200]!r}"
                ) from None
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                error = body.get("error") if isinstance(body, dict) else None
                raise RedditAuthError(f"reddit: no access_token in the token response ({error})")
            expires_in = body.get("expires_in")
            self._token = token
            self._token_expires = (
                self._clock() + max(0.0, float(expires_in) - TOKEN_MARGIN_S)
                if is_number(expires_in)
                else None
            )
            return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


@dataclass(frozen=True)
class _ListingReader:
    """One listing stream's pages for the pager. The gap below a page starts at the listing's
    `after` (a position, so a gap is read on from it with `after`)."""

    collector: RedditCollector
    stream: _Stream
    http: SourceHttp
    stops_at_mark = False

    @property
    def scope(self) -> str:
        return self.stream.scope

    async def top(
        self, mark: float | None, position: str | None
    ) -> Read[float, str, str] | BadPage:
        return await self._read(position)

    async def gap(
        self, gap: str, floor: float | None, position: str | None
    ) -> Read[float, str, str] | BadPage:
        return await self._read(position or gap)

    async def _read(self, after: str | None) -> Read[float, str, str] | BadPage:
        read = await self.collector._page(self.stream, after, self.http)
        if isinstance(read, BadPage):
            return read
        listing, url, rate_limit = read
        bad = RedditCollector._bad_children(listing, self.stream, url)
        return Read(
            listing.posts, listing.times, listing.after, listing.after, url, rate_limit, bad
        )
