"""Bluesky: post search (`app.bsky.feed.searchPosts`) with an app-password session, as Post records.

**Streams.** One search per query: each of the topic's queries (`TopicQuery.all_queries()`), then
each hashtag as the query `#tag` (a query equal to one already listed is sent once). The hashtag
goes into `q`, not into the `tag` parameter: `q` is required, and `tag` only filters (AND) the
results of a `q`, so `q="#tag"` is the one request that asks for the tag itself. Each search is
`GET {base_url}/xrpc/app.bsky.feed.searchPosts?q=<q>&sort=latest&limit=<limit>[&cursor=][&until=]`
with scope `search/<q>` (the query is in the scope, so editing a topic's queries starts those
streams afresh). Streams run one after another; `SourceHttp` paces them by Bluesky's
`ratelimit-*` headers.

**Auth.** Bluesky's public AppView has answered 403 to search since 2025-01, so every search is
authenticated. `POST {base_url}/xrpc/com.atproto.server.createSession` with `{identifier: handle,
password: app_password}` gives `accessJwt` and `refreshJwt`; the session is made on the first
search and shared by every stream and topic (createSession is tightly rate-limited: 30 per 5
minutes, 300 a day). Searches send `Authorization: Bearer <accessJwt>`. When a search is refused
for its token (HTTP 401, or 400 with `error` "ExpiredToken" or "InvalidToken" in the JSON body),
the session is renewed once, with `POST .../com.atproto.server.refreshSession` and the refreshJwt
as the bearer, or, if that fails, with one new createSession, and the search is sent again once
(a second refusal is raised). A createSession that fails raises (`SourceHttpError`, or
`BlueskyAuthError` for a 2xx answer with no tokens): wrong credentials are a failing source. Any
other HTTP failure of a search (a 403, 429 or 5xx after `SourceHttp`'s retries) is raised too, and
the run is recorded as failing, never as "no posts".

**Cursors** (`BlueskyCursor`: the resumable cursor of `collectors/cursor.py`, which describes the
state, the page-by-page saving and the lenient loading). `sort=latest` orders search by `sortAt`,
which the searchPosts lexicon defines as the lower of `createdAt` and `indexedAt` (so a back- or
future-dated `createdAt` cannot jump the queue); its `since`/`until` filters use the same
timestamp. The mark `newest` is the highest sortAt returned; a pending gap is `until` and `floor`
(the posts with sortAt before `until` and at or after `floor` are unread), all in ISO 8601 UTC. A
pass reads from the top (newest first) with the opaque `cursor` until a page holds a post whose
sortAt is before `newest - overlap` (default 15 minutes: search indexing lags, and a post's sortAt
can be older than posts indexed before it), or the response has no `cursor`, or `max_pages` is
spent; then, with pages left, it reads on with `until=<gap until>` (and the opaque cursor from
there) until a post older than the gap's `floor` appears or the results end. A page that leaves
posts unread below it saves as the gap `until` = the sortAt of its last post plus one second
(`until` is exclusive), down to the old mark less the overlap. Resuming a gap with `until` rather
than a saved opaque cursor means a saved position cannot expire, and each pass starts a fresh
result window under search's cap of about 10,000 results per query. When the top results end (no
`cursor`) the gap closes: there is nothing older to give. A bare cursor is a plain ISO timestamp.
Limit, stated: a post whose sortAt lies more than `overlap` below posts already read when it gets
indexed (an old `createdAt` indexed late) and below the first page can be missed.

**Pages.** A body that is not JSON, or has no `posts` list, is a `BadPage` with the body; that
stream stops, the others go on. A postView without an at:// uri or with neither a readable
`createdAt` nor `indexedAt` is a `BadPage` of its own, and the page goes on.

**Mapping** (`post_records`): source "bluesky"; source_id the at:// uri
(`at://<did>/app.bsky.feed.post/<rkey>`), so `post_uid` is "bluesky:at://..."; url
`https://bsky.app/profile/<handle>/post/<rkey>` (the DID in place of a missing or
"handle.invalid" handle); author_id the DID, author_handle, author_name the displayName (None when
empty); author_followers None (a postView does not carry it); created_at `record.createdAt`, aware
UTC (a time without an offset is read as UTC), or `indexedAt` when createdAt is missing or
unreadable; lang the first of `record.langs`; text `record.text`; title None; kind "reply" when
`record.reply` is set (parent_uid and root_uid "bluesky:" + `reply.parent.uri` / `reply.root.uri`),
else "quote" when `record.embed` (or, failing it, the view's `embed`) is `app.bsky.embed.record` or
`app.bsky.embed.recordWithMedia` pointing at a *post* (parent_uid = root_uid = "bluesky:" + the
quoted uri; an embedded feed, list or starter pack is not a quote), else "post". A reply that
quotes is a reply: its thread position is what links it. When the view's embed carries the quoted
post as a `viewRecord` with its `value`, that post is yielded too, mapped the same way (its own
reply/quote links from its `value`; raw = the viewRecord); a quote of a deleted, blocked or
detached post has no viewRecord and yields the quote alone. likes = likeCount, reposts =
repostCount, replies = replyCount, quotes = quoteCount (None when absent; Bluesky counts a quote
apart from a repost); raw the postView as received. A page holds each post once (a search hit wins
over the copy quoted by another hit). `collected_at` and `content_hash` are left to the runner
and the warehouse.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.cursor import Codec, Cursor, CursorFormat
from collectors.fields import count, text_or_none, utc_time
from collectors.http import RateLimit, SourceHttp, SourceHttpError, redact_url
from collectors.pager import Read, two_phase_pass

__all__ = [
    "BlueskyAuthError",
    "BlueskyCollector",
    "BlueskyCursor",
    "post_records",
    "sort_at",
]

log = logging.getLogger(__name__)

SOURCE = "bluesky"
WEB_URL = "https://bsky.app"
SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION_PATH = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION_PATH = "/xrpc/com.atproto.server.refreshSession"
POST_COLLECTION = "app.bsky.feed.post"
DEFAULT_OVERLAP = timedelta(minutes=15)
UNTIL_MARGIN = timedelta(seconds=1)  # `until` is exclusive: start the gap just above the last post
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_RECORD_EMBED = "app.bsky.embed.record"
_RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
_VIEW_RECORD = "app.bsky.embed.record#viewRecord"


class BlueskyAuthError(Exception):
    """A session call answered 2xx, but with no usable tokens."""


# --- time ----------------------------------------------------------------------------------------


def format_time(when: datetime) -> str:
    """UTC, millisecond precision, `Z`: the form atproto datetimes take."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sort_at(view: Mapping[str, Any]) -> datetime | None:
    """A postView's (or viewRecord's) sortAt: the lower of createdAt and indexedAt."""
    record = view.get("record") if "record" in view else view.get("value")
    created = utc_time(record.get("createdAt")) if isinstance(record, dict) else None
    indexed = utc_time(view.get("indexedAt"))
    times = [t for t in (created, indexed) if t is not None]
    return min(times) if times else None


# --- cursors -------------------------------------------------------------------------------------


def _timestamp(value: Any) -> datetime:
    when = utc_time(value)
    if when is None:
        raise ValueError(f"{value!r} is not a timestamp")
    return when


_TIMESTAMP = Codec(_timestamp, format_time)


class BlueskyCursor(Cursor[datetime, datetime]):
    """A stream's resume state (`collectors.cursor`); `gap` is the sortAt `until`, exclusive."""

    FORMAT = CursorFormat("bluesky", _TIMESTAMP, _TIMESTAMP, "until", utc_time)


# --- mapping -------------------------------------------------------------------------------------


def _parse_uri(uri: Any) -> tuple[str, str, str]:
    """(did, collection, rkey) of an at:// uri; ValueError if it is not one."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ValueError(f"{uri!r} is not an at:// uri")
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{uri!r} is not an at://<did>/<collection>/<rkey> uri")
    return parts[0], parts[1], parts[2]


def _is_post_uri(uri: Any) -> bool:
    try:
        return _parse_uri(uri)[1] == POST_COLLECTION
    except ValueError:
        return False


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _embedded_uri(embed: Any) -> str | None:
    """The uri a record embed (`app.bsky.embed.record` or `recordWithMedia`, as written in the
    record or as a `#view`) points at, or None for other embeds."""
    embed = _dict(embed)
    kind = str(embed.get("$type", "")).split("#", 1)[0]
    if kind == _RECORD_EMBED:
        uri = _dict(embed.get("record")).get("uri")
    elif kind == _RECORD_WITH_MEDIA:
        uri = _dict(_dict(embed.get("record")).get("record")).get("uri")
    else:
        return None
    return uri if isinstance(uri, str) else None


def _quoted_view(embed: Any) -> dict[str, Any] | None:
    """The quoted post's viewRecord (with its `value`) in a view's embed, if it carries one."""
    embed = _dict(embed)
    kind = str(embed.get("$type", "")).split("#", 1)[0]
    if kind == _RECORD_EMBED:
        inner = _dict(embed.get("record"))
    elif kind == _RECORD_WITH_MEDIA:
        inner = _dict(_dict(embed.get("record")).get("record"))
    else:
        return None
    is_view = inner.get("$type") in (_VIEW_RECORD, None)
    if is_view and isinstance(inner.get("value"), dict) and _is_post_uri(inner.get("uri")):
        return inner
    return None


def _record(
    view: Mapping[str, Any], record: Mapping[str, Any], view_embed: Any, raw: Any
) -> PostRecord:
    """One post as a Post record, from its view (postView or viewRecord) and its record."""
    uri = view.get("uri")
    did, _collection, rkey = _parse_uri(uri)
    author = _dict(view.get("author"))
    created = utc_time(record.get("createdAt")) or utc_time(view.get("indexedAt"))
    if created is None:
        raise ValueError(f"{uri}: neither createdAt nor indexedAt is a readable time")
    handle = text_or_none(author.get("handle"))
    author_id = text_or_none(author.get("did")) or did
    profile = handle if handle and handle != "handle.invalid" else author_id
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None

    reply = _dict(record.get("reply"))
    parent_uri = _dict(reply.get("parent")).get("uri")
    root_uri = _dict(reply.get("root")).get("uri")
    quoted = _embedded_uri(record.get("embed")) or _embedded_uri(view_embed)
    if reply:
        kind = "reply"
        parent_uid = f"{SOURCE}:{parent_uri}" if isinstance(parent_uri, str) else None
        root_uid = f"{SOURCE}:{root_uri}" if isinstance(root_uri, str) else parent_uid
    elif _is_post_uri(quoted):
        kind = "quote"
        parent_uid = root_uid = f"{SOURCE}:{quoted}"
    else:
        kind, parent_uid, root_uid = "post", None, None

    return {
        "post_uid": f"{SOURCE}:{uri}",
        "source": SOURCE,
        "source_id": uri,
        "url": f"{WEB_URL}/profile/{profile}/post/{rkey}",
        "kind": kind,
        "author_id": author_id,
        "author_handle": handle,
        "author_name": text_or_none(author.get("displayName")) or None,
        "author_followers": None,
        "created_at": created,
        "collected_at": None,
        "lang": lang,
        "text": text_or_none(record.get("text")) or "",
        "title": None,
        "parent_uid": parent_uid,
        "root_uid": root_uid,
        "likes": count(view.get("likeCount")),
        "reposts": count(view.get("repostCount")),
        "replies": count(view.get("replyCount")),
        "quotes": count(view.get("quoteCount")),
        "raw": raw,
    }


def post_records(view: Mapping[str, Any]) -> list[PostRecord]:
    """The Post records a searchPosts postView stands for: itself, then the post it quotes when
    the embed carries it. Raises ValueError when the post itself is unreadable; an unreadable
    quoted copy is left out (it is logged)."""
    record = view.get("record")
    if not isinstance(record, dict):
        raise ValueError(f"{view.get('uri')!r}: postView has no record object")
    embed = view.get("embed")
    posts = [_record(view, record, embed, view)]
    quoted = _quoted_view(embed)
    if quoted is not None:
        try:
            posts.append(_record(quoted, quoted["value"], None, quoted))
        except ValueError as exc:
            log.info("bluesky: quoted post left out: %s", exc)
    return posts


@dataclass
class _Results:
    posts: list[PostRecord] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)  # sortAt of every readable search hit
    cursor: str | None = None
    bad: list[tuple[str, Any]] = field(default_factory=list)  # (error, postView)

    @property
    def last(self) -> datetime | None:
        """The sortAt of the page's last hit: the unread results lie at or below it."""
        return self.times[-1] if self.times else None


def _read_results(body: Any) -> _Results:
    """The posts of a searchPosts body; raises ValueError when it has no `posts` list."""
    views = body.get("posts") if isinstance(body, dict) else None
    if not isinstance(views, list):
        raise ValueError("the body has no posts list")
    cursor = body.get("cursor")
    results = _Results(cursor=cursor if isinstance(cursor, str) and cursor else None)
    hits: dict[str, PostRecord] = {}
    quoted: dict[str, PostRecord] = {}
    for view in views:
        try:
            if not isinstance(view, dict):
                raise ValueError("a posts item is not an object")
            records = post_records(view)
            when = sort_at(view)
        except ValueError as exc:
            results.bad.append((str(exc), view))
            continue
        hits.setdefault(records[0]["source_id"], records[0])
        for other in records[1:]:
            quoted.setdefault(other["source_id"], other)
        if when is not None:
            results.times.append(when)
    results.posts = [*hits.values(), *(p for uid, p in quoted.items() if uid not in hits)]
    return results


def _bad_posts(results: _Results, scope: str, url: str) -> list[BadPage]:
    return [
        BadPage(f"unreadable post: {error}", json.dumps(view), scope, url)
        for error, view in results.bad
    ]


def _token_refused(exc: SourceHttpError) -> bool:
    """A 401, or a 400 whose XRPC error names the token (expired or invalid)."""
    if exc.status == 401:
        return True
    if exc.status != 400 or exc.response is None:
        return False
    try:
        body = exc.response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") in _TOKEN_ERRORS


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the collector -------------------------------------------------------------------------------


class BlueskyCollector:
    """Bluesky post search, one stream per query and hashtag; see the module docstring.

    `overlap` is how far below the saved high-water mark a pass keeps reading.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        handle: str,
        app_password: str,
        limit: int = 100,
        max_pages: int = 5,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
    ) -> None:
        if not handle or not app_password:
            raise ValueError("bluesky: a handle and an app password are required")
        if not 1 <= limit <= 100:
            raise ValueError(f"bluesky: limit must be 1-100, not {limit}")
        if max_pages < 1:
            raise ValueError(f"bluesky: max_pages must be at least 1, not {max_pages}")
        self.base_url = base_url.rstrip("/")
        self.handle = handle.removeprefix("@")
        self.limit = limit
        self.max_pages = max_pages
        self.overlap = overlap
        self._password = app_password
        self._access: str | None = None
        self._refresh: str | None = None
        self._lock = asyncio.Lock()

    def searches(self, query: TopicQuery) -> list[str]:
        """The `q` of each stream one pass sends for a topic, in order."""
        tags = (f"#{tag.lstrip('#')}" for tag in query.hashtags if tag.lstrip("#").strip())
        queries = (q for q in query.all_queries() if q.strip())
        return list(dict.fromkeys([*queries, *tags]))

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for q in self.searches(query):
            scope = f"search/{q}"
            async for page in self._stream(q, scope, cursors.get(scope), http):
                yield page

    def _stream(
        self, q: str, scope: str, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        """One stream's pass (`collectors.pager`): the top down to the mark, then a pending gap."""
        state = BlueskyCursor.load(saved)
        mark = None if state.newest is None else state.newest - self.overlap
        return two_phase_pass(_SearchReader(self, q, scope, http), state, mark, self.max_pages)

    async def _page(
        self,
        q: str,
        scope: str,
        api_cursor: str | None,
        until: datetime | None,
        http: SourceHttp,
    ) -> tuple[_Results, str, RateLimit | None] | BadPage:
        params = {"q": q, "sort": "latest", "limit": str(self.limit)}
        if until is not None:
            params["until"] = format_time(until)
        if api_cursor is not None:
            params["cursor"] = api_cursor
        response = await self._search(params, http)
        url = redact_url(response.url)
        try:
            results = _read_results(response.json())
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            kind = response.headers.get("content-type", "no content-type")
            error = f"not a searchPosts body (HTTP {response.status_code}, {kind}): {exc}"
            return BadPage(error, response.text, scope, url)
        return results, url, http.rate_limits.get(response.url.host)

    # --- auth ------------------------------------------------------------------------------------

    async def _search(self, params: dict[str, str], http: SourceHttp) -> httpx.Response:
        url = self.base_url + SEARCH_PATH
        token = await self._access_token(http)
        try:
            return await http.get(url, params=params, headers=_bearer(token))
        except SourceHttpError as exc:
            if not _token_refused(exc):
                raise
        log.info("bluesky: access token refused; renewing the session")
        token = await self._renew(http, refused=token)
        return await http.get(url, params=params, headers=_bearer(token))

    async def _access_token(self, http: SourceHttp) -> str:
        async with self._lock:
            if self._access is None:
                await self._create_session(http)
            assert self._access is not None
            return self._access

    async def _renew(self, http: SourceHttp, refused: str) -> str:
        """A fresh access token: refreshSession, else one new createSession."""
        async with self._lock:
            if self._access is not None and self._access != refused:
                return self._access  # another stream renewed it meanwhile
            if self._refresh is not None:
                try:
                    response = await http.post(
                        self.base_url + REFRESH_SESSION_PATH, headers=_bearer(self._refresh)
                    )
                    self._take_tokens(response)
                except (SourceHttpError, BlueskyAuthError) as exc:
                    log.info("bluesky: refreshSession failed (%s); logging in again", exc)
                else:
                    assert self._access is not None
                    return self._access
            await self._create_session(http)
            assert self._access is not None
            return self._access

    async def _create_session(self, http: SourceHttp) -> None:
        self._access = self._refresh = None
        response = await http.post(
            self.base_url + CREATE_SESSION_PATH,
            json={"identifier": self.handle, "password": self._password},
        )
        self._take_tokens(response)

    def _take_tokens(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            raise BlueskyAuthError(
                f"bluesky: the session response is not JSON: {response.text[:200]!r}"
            ) from None
        access = body.get("accessJwt") if isinstance(body, dict) else None
        refresh = body.get("refreshJwt") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            error = body.get("error") if isinstance(body, dict) else None
            raise BlueskyAuthError(f"bluesky: no accessJwt in the session response ({error})")
        self._access = access
        self._refresh = refresh if isinstance(refresh, str) and refresh else None


@dataclass(frozen=True)
class _SearchReader:
    """One search stream's pages for the pager. The gap below a page starts just above its last
    hit (`until` is exclusive); a gap is read with `until` and search's opaque cursor from there."""

    collector: BlueskyCollector
    q: str
    scope: str
    http: SourceHttp
    stops_at_mark = False

    async def top(
        self, mark: datetime | None, position: str | None
    ) -> Read[datetime, datetime, str] | BadPage:
        return await self._read(position, None)

    async def gap(
        self, gap: datetime, floor: datetime | None, position: str | None
    ) -> Read[datetime, datetime, str] | BadPage:
        return await self._read(position, gap)

    async def _read(
        self, position: str | None, until: datetime | None
    ) -> Read[datetime, datetime, str] | BadPage:
        read = await self.collector._page(self.q, self.scope, position, until, self.http)
        if isinstance(read, BadPage):
            return read
        results, url, rate_limit = read
        below = None if results.last is None else results.last + UNTIL_MARGIN
        bad = _bad_posts(results, self.scope, url)
        return Read(results.posts, results.times, results.cursor, below, url, rate_limit, bad)
