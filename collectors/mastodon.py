"""Mastodon: hashtag timelines and status search on each configured instance, as Post records.

Streams
-------
Mastodon has no single API root, so every configured instance is read on its own. On each one the
collector reads, in this order:

- the hashtag timeline `GET {instance}/api/v1/timelines/tag/{tag}?limit=` of every tag of the topic
  followed by the configured ones, each tag once whatever its case (Mastodon's tags are
  case-insensitive; the first spelling is the one used);
- the status search `GET {instance}/api/v2/search?type=statuses&resolve=false&q=&limit=` of every
  query of the topic (`TopicQuery.all_queries()`), also once per case-insensitive spelling.

Each (instance, tag) or (instance, query) is a *stream* with its own cursor. Its scope, the key the
runner saves that cursor under, is `{host}/tag/{tag}` or `{host}/search/{query}`, e.g.
`mastodon.social/tag/ICECanada` or `mastodon.social/search/ICE stations Canada` (`host` keeps a
non-default port: `localhost:3000/tag/x`). Status ids are local to an instance, so a cursor never
serves two instances.

Cursors
-------
A saved cursor is the id (on that instance) of the newest status the stream has delivered, as the
instance spelled it. The cursor a `Page` carries is always the value to save once that page's
posts are committed, so a crash between pages re-fetches and never skips:

- First run of a stream (no cursor): newest first, following the `Link` header's `rel="next"`
  (`max_id`) for at most `max_pages` pages, until a page has no `next` link (Mastodon sends one
  only after a full page) or is empty. Every page but the last carries `None`: had the run stopped
  there, the next run must start the backfill again rather than resume above posts whose older
  neighbours were never read. The last page carries the newest id of the first page.
- Later runs (cursor C): oldest first, from C up. Mastodon's `min_id` returns the page of statuses
  *immediately newer* than it (unlike `since_id`, which returns the newest ones and leaves a gap),
  and the page's `rel="prev"` link names the next `min_id`, the page's newest id. Each page
  carries max(C, newest id of the page). The walk stops at an empty or short page (the top of the
  timeline) or after `max_pages` pages of new statuses; what is left is read next run, from the
  saved cursor, so nothing is skipped however long the backlog.
- Late arrivals. A remote status gets an id made from its own `created_at`
  (`Mastodon::Snowflake.id_at`), so a post federated a few minutes late lands *below* a cursor
  saved meanwhile. A resumed stream therefore asks for `min_id` = C minus `lookback` (10 minutes
  by default, computed on the snowflake: milliseconds << 16) and re-reads that window; re-read
  posts are upserted as no-ops or as fresher engagement. Pages wholly at or below C do not count
  against `max_pages`, but after `max_pages` of them the walk jumps to C itself, so a busy window
  cannot stall a stream. Ids that are not Mastodon snowflakes (other servers, test servers) are
  resumed from C exactly.
- Search has no `Link` header and sorts newest first whatever `min_id` says (Mastodon 4.2+ turns
  `min_id`/`max_id` into `after:`/`before:` date filters at one-second precision). A search stream
  therefore always walks down from the newest match, with `max_id` = the page's oldest id plus one
  second (the filter truncates to whole seconds: without the extra second, other matches in that
  second would be skipped; the repeats are harmless), and, when resuming, `min_id` = C minus
  `lookback`. Resumed, it stops only at an empty page (a short page can mean Mastodon filtered a
  match out after counting) or after `max_pages`; every page carries C but the last, which carries
  the newest id seen. When more than `max_pages * limit` matches arrived between two runs the walk
  ends before reaching C and the oldest of them are not read: saving C instead would re-read the
  same newest pages every run and never close the gap. That is the one case a stream skips; the
  hashtag timelines, which matter more, never do.

Posts
-----
- `source_id` is the status `uri`, its ActivityPub id, which the origin server assigns and every
  instance repeats: the same status read through two instances (different `id`s, one `uri`) is
  one post. `url` is the status's web page (`url`, else `uri`).
- `kind`: `repost` for a boost (`reblog` set), `quote` for an accepted quote (`quote.state ==
  "accepted"`; also an Akkoma/Fedibird-style `quote` holding the status itself), `reply` when
  `in_reply_to_id` is set, else `post`; first match wins, so a reply that quotes is a quote.
- A boost yields two records: the original, as itself, and the boost (`repost`, the booster as
  author, the boost's time) whose `parent_uid` is `"mastodon:" + original uri`. The boost carries
  the original's text and language, because a boost spreads that text: topic matching and claim
  analysis must count it. An accepted quote with its `quoted_status` yields the quoted post too,
  and the quoting post's `parent_uid` points at it; its `<span class="quote-inline">` ("RE: link",
  the fallback for clients without quotes) is dropped from its text. A nested quote arrives as
  `{state, quoted_status_id}` only: it is still `kind = quote`, with no parent.
- Replies keep `parent_uid` null: `in_reply_to_id` is an id on the serving instance, and the
  parent's `uri` (the only global name) is not in the status; fetching every parent would cost a
  request per reply. `in_reply_to_id` stays in `raw`. `root_uid` is null throughout.
- `author_id` is the account's `uri` (its ActivityPub actor id: unique across instances), else
  its `url`, else the handle. `author_handle` is the full `user@domain`, without a leading `@`
  (the instance's host is added to local accounts, which Mastodon returns as bare `user`).
  `author_name` is `display_name` (null when empty), `author_followers` is `followers_count`.
- `created_at` is an aware UTC datetime; `lang` is `language`; `text` is `spoiler_text` (the
  content warning, if any) then the content as plain text (`html_to_text`: markup dropped,
  entities decoded, so `&lt;script&gt;` becomes the literal `<script>`).
- Engagement: `likes` = `favourites_count`, `reposts` = `reblogs_count`, `replies` =
  `replies_count`, `quotes` = `quotes_count`; null where the server sends none. They are the
  counts *as the serving instance knows them*, which for a remote status can be lower than on its
  origin server.
- `raw` is the status object as received (for a boost, the boost with the original inside it).
  `collected_at`, `post_uid` and `content_hash` are left to the warehouse.

Failures
--------
- A body that is not JSON, JSON of the wrong shape (not a list for a timeline, no `statuses` list
  for search) or a status that cannot be read (no `uri`, no `account`, a bad `created_at`) makes
  the page a `BadPage` with the body; that stream stops (its cursor is not advanced), the others
  go on.
- A search the instance refuses (401, 403 or 404: many instances allow search only to logged-in
  users, or not at all; 400 or 422: a query it cannot run) is not a failure of the source: the
  stream is skipped, logged as a warning and listed in `MastodonCollector.skipped`; after a 401,
  403 or 404 the instance's other searches are skipped without asking. Its hashtag timelines go on.
- Any other HTTP failure (what `SourceHttp` could not recover from) ends that stream; a dead
  instance (no response, 429 or 5xx) ends that instance's remaining streams and a timeline refused
  for want of a login (401, 403, 422) ends its other timelines. The other instances are still read,
  and once every stream has run the collector raises `MastodonStreamsError` (a
  `SourceHttpError`) naming every failed stream, so the run is recorded as partial or failed,
  never as a quiet "no posts".
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote as url_quote

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.fields import count, nonempty_text, utc_time
from collectors.http import SourceHttp, SourceHttpError, redact_url
from collectors.text import html_to_text

__all__ = [
    "MAX_LIMIT",
    "MastodonCollector",
    "MastodonStreamsError",
    "SkippedStream",
    "Stream",
    "status_posts",
]

log = logging.getLogger(__name__)

SOURCE = "mastodon"
MAX_LIMIT = 40  # the most Mastodon returns per page, for timelines and for search
DEFAULT_LOOKBACK = timedelta(minutes=10)

# A Mastodon snowflake is (milliseconds since the epoch << 16) | 16 bits of sequence; ids below
# this (before 2001) are not snowflakes, so no lookback is computed on them.
_SNOWFLAKE_SHIFT = 16
_MIN_SNOWFLAKE_MS = 1_000_000_000_000

# Search refusals that are not failures: the whole instance refuses, or just this query.
_SEARCH_REFUSED_BY_INSTANCE = frozenset({401, 403, 404})
_SEARCH_REFUSED_QUERY = frozenset({400, 422})
# A timeline refused for want of a login: every timeline of the instance would be refused alike.
_TIMELINE_NEEDS_LOGIN = frozenset({401, 403, 422})

_QUOTE_INLINE = re.compile(r"""<span\b[^>]*\bclass=["'][^"']*\bquote-inline\b[^>]*>""", re.I)
_SPAN_TAG = re.compile(r"<(/?)span\b[^>]*>", re.I)


@dataclass(frozen=True)
class Stream:
    """One paged stream: a hashtag timeline or a status search, on one instance."""

    instance: str  # the instance's base URL, without a trailing "/"
    host: str  # the instance's host, with its port when not the default one
    kind: Literal["tag", "search"]
    term: str  # the hashtag (without "#") or the search query

    @property
    def scope(self) -> str:
        return f"{self.host}/{self.kind}/{self.term}"

    @property
    def url(self) -> str:
        if self.kind == "tag":
            return f"{self.instance}/api/v1/timelines/tag/{url_quote(self.term, safe='')}"
        return f"{self.instance}/api/v2/search"


@dataclass(frozen=True)
class SkippedStream:
    """A search an instance refused (HTTP `status`): not collected, and not a failure."""

    scope: str
    url: str
    status: int | None
    reason: str


class MastodonStreamsError(SourceHttpError):
    """Streams that failed while the others were read; raised once every stream has run.

    `failures` maps each failed stream's scope to its error; the attributes of `SourceHttpError`
    (`url`, `status`, `tries`, `response`) are those of the first failure.
    """

    def __init__(
        self, failures: Mapping[str, SourceHttpError], streams: int, untried: int = 0
    ) -> None:
        self.failures = dict(failures)
        self.untried = untried
        first = next(iter(self.failures.values()))
        super().__init__(
            first.source,
            "GET",
            first.url,
            tries=first.tries,
            status=first.status,
            response=first.response,
        )
        listed = "; ".join(f"{scope}: {error}" for scope, error in self.failures.items())
        message = f"{SOURCE}: {len(self.failures)} of {streams} streams failed: {listed}"
        if untried:
            message += f"; {untried} more stream(s) of those instances not tried"
        self.args = (message,)


class _UnreadableError(ValueError):
    """A body, or a status in it, that cannot be read as Mastodon sends it."""


class MastodonCollector:
    """Hashtag timelines and status search on each of `instances`; see the module docstring.

    `limit` is the page size (at most 40, Mastodon's maximum), `max_pages` the pages read per
    stream and run, `lookback` how far below its cursor a resumed stream starts again.
    """

    source = SOURCE

    def __init__(
        self,
        instances: list[str],
        hashtags: list[str],
        limit: int = MAX_LIMIT,
        max_pages: int = 5,
        *,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> None:
        if not instances:
            raise ValueError("expected at least one Mastodon instance")
        if limit < 1 or max_pages < 1:
            raise ValueError(f"expected limit >= 1 and max_pages >= 1; found {limit}, {max_pages}")
        if lookback < timedelta(0):
            raise ValueError(f"expected a lookback of zero or more; found {lookback}")
        self.instances = [instance.rstrip("/") for instance in instances]
        self._hosts = {instance: _host(instance) for instance in self.instances}
        self.hashtags = [tag.removeprefix("#") for tag in hashtags]
        self.limit = min(limit, MAX_LIMIT)
        self.max_pages = max_pages
        self.lookback = lookback
        self.skipped: list[SkippedStream] = []  # the searches refused during the last `pages`

    def streams(self, query: TopicQuery) -> list[Stream]:
        """Every stream of `query`, instance by instance: its hashtags, then its searches."""
        tags = _once_each([*(t.removeprefix("#") for t in query.hashtags), *self.hashtags])
        queries = _once_each(q.strip() for q in query.all_queries())
        streams = []
        for instance in self.instances:
            host = self._hosts[instance]
            streams += [Stream(instance, host, "tag", tag) for tag in tags]
            streams += [Stream(instance, host, "search", q) for q in queries]
        return streams

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        self.skipped = []
        streams = self.streams(query)
        failures: dict[str, SourceHttpError] = {}
        untried = 0  # streams not asked for because their instance is down or needs a login
        instance_down: set[str] = set()
        timelines_refused: set[str] = set()
        search_refused: set[str] = set()
        for stream in streams:
            if stream.instance in instance_down or (
                stream.kind == "tag" and stream.instance in timelines_refused
            ):
                untried += 1
                continue
            if stream.kind == "search" and stream.instance in search_refused:
                self._skip(stream, None, "the instance refused an earlier search", quiet=True)
                continue
            try:
                async for page in self._walk(stream, cursors.get(stream.scope), http):
                    yield page
            except SourceHttpError as error:
                status = error.status
                if stream.kind == "search" and status in _SEARCH_REFUSED_BY_INSTANCE:
                    search_refused.add(stream.instance)
                    self._skip(stream, status, str(error))
                elif stream.kind == "search" and status in _SEARCH_REFUSED_QUERY:
                    self._skip(stream, status, str(error))
                elif status is None or status == 429 or status >= 500:
                    instance_down.add(stream.instance)
                    failures[stream.scope] = error
                elif stream.kind == "tag" and status in _TIMELINE_NEEDS_LOGIN:
                    timelines_refused.add(stream.instance)
                    failures[stream.scope] = error
                else:
                    failures[stream.scope] = error
        if failures:
            raise MastodonStreamsError(failures, len(streams), untried)

    def _skip(self, stream: Stream, status: int | None, reason: str, quiet: bool = False) -> None:
        if not quiet:
            log.warning("%s: search skipped on %s: %s", SOURCE, stream.scope, reason)
        self.skipped.append(SkippedStream(stream.scope, stream.url, status, reason))

    def _walk(
        self, stream: Stream, cursor: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        if stream.kind == "search":
            return self._search(stream, cursor, http)
        if cursor is None:
            return self._backfill(stream, http)
        return self._resume(stream, cursor, http)

    async def _backfill(self, stream: Stream, http: SourceHttp) -> AsyncIterator[Page | BadPage]:
        """A timeline's first run: newest first along `rel="next"`; see "Cursors"."""
        max_id: str | None = None
        newest: str | None = None
        for number in range(1, self.max_pages + 1):
            response = await http.get(stream.url, params=self._params(max_id=max_id))
            read = self._read(stream, response, http)
            if isinstance(read, BadPage):
                yield read
                return
            statuses, page = read
            if number == 1:
                newest = _link_param(response, "prev", "min_id") or _first_id(statuses)
            max_id = _link_param(response, "next", "max_id")
            last = not statuses or max_id is None or number == self.max_pages
            yield _with_cursor(page, newest if last else None)
            if last:
                return

    async def _resume(
        self, stream: Stream, saved: str, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        """A timeline's later runs: oldest first from the cursor along `rel="prev"`."""
        min_id = self._resume_from(saved)
        carried = saved
        new_pages = overlap_pages = 0
        while True:
            response = await http.get(stream.url, params=self._params(min_id=min_id))
            read = self._read(stream, response, http)
            if isinstance(read, BadPage):
                yield read
                return
            statuses, page = read
            page_newest = _link_param(response, "prev", "min_id") or _first_id(statuses)
            if page_newest is not None and _is_newer(page_newest, carried):
                carried = page_newest
            below_cursor = page_newest is not None and not _is_newer(page_newest, saved)
            next_min_id = page_newest
            more = page_newest is not None and len(statuses) >= self.limit
            if below_cursor:
                overlap_pages += 1
                if overlap_pages >= self.max_pages:
                    next_min_id = saved  # a busy lookback window: go on from the cursor itself
            else:
                new_pages += 1
                more = more and new_pages < self.max_pages
            # A server that ignores min_id would otherwise be read forever.
            more = more and new_pages + overlap_pages < 2 * self.max_pages
            yield _with_cursor(page, carried)
            if not more or next_min_id is None:
                return
            min_id = next_min_id

    async def _search(
        self, stream: Stream, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        """A search: newest first, down to the cursor (or `max_pages`); see "Cursors"."""
        min_id = None if saved is None else self._resume_from(saved)
        max_id: str | None = None
        newest = saved
        for number in range(1, self.max_pages + 1):
            params = {"q": stream.term, "type": "statuses", "resolve": "false"}
            params |= self._params(min_id=min_id, max_id=max_id)
            response = await http.get(stream.url, params=params)
            read = self._read(stream, response, http)
            if isinstance(read, BadPage):
                yield read
                return
            statuses, page = read
            ids = [str(status["id"]) for status in statuses]
            for status_id in ids:
                newest = _newest(newest, status_id)
            oldest = min(ids, key=_id_key) if ids else None
            next_max_id = _search_max_id(oldest) if oldest is not None else None
            if next_max_id is not None and next_max_id == max_id:
                next_max_id = oldest  # a whole page within one second: step past it exactly
            full = len(statuses) >= self.limit if saved is None else bool(statuses)
            last = not full or next_max_id is None or number == self.max_pages
            yield _with_cursor(page, newest if last else saved)
            if last:
                return
            max_id = next_max_id

    def _params(self, *, min_id: str | None = None, max_id: str | None = None) -> dict[str, str]:
        params = {"limit": str(self.limit)}
        if min_id is not None:
            params["min_id"] = min_id
        if max_id is not None:
            params["max_id"] = max_id
        return params

    def _resume_from(self, saved: str) -> str:
        """The `min_id` a resumed stream starts from: its cursor less the lookback."""
        if not saved.isdigit() or not self.lookback:
            return saved
        milliseconds = int(saved) >> _SNOWFLAKE_SHIFT
        if milliseconds < _MIN_SNOWFLAKE_MS:
            return saved
        back = self.lookback // timedelta(milliseconds=1)
        return str((milliseconds - back) << _SNOWFLAKE_SHIFT)

    def _read(
        self, stream: Stream, response: httpx.Response, http: SourceHttp
    ) -> tuple[list[Mapping[str, Any]], Page] | BadPage:
        """The page's statuses and its Page (cursor still to set), or a BadPage."""
        url = redact_url(response.request.url)
        try:
            statuses = _statuses(response, stream.kind)
            posts = _unique(
                post for status in statuses for post in status_posts(status, stream.host)
            )
        except _UnreadableError as error:
            return BadPage(str(error), response.text, scope=stream.scope, url=url)
        rate_limit = http.rate_limits.get(response.request.url.host)
        return statuses, Page(posts, None, scope=stream.scope, url=url, rate_limit=rate_limit)


# --- reading a page ----------------------------------------------------------------------------


def _statuses(response: httpx.Response, kind: Literal["tag", "search"]) -> list[Mapping[str, Any]]:
    try:
        body = response.json()
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _UnreadableError(f"the body is not JSON: {error}") from error
    if kind == "search":
        if not isinstance(body, dict) or not isinstance(body.get("statuses"), list):
            found = type(body).__name__ if not isinstance(body, dict) else "no statuses list"
            raise _UnreadableError(f"expected a search result with a statuses list; found {found}")
        body = body["statuses"]
    elif not isinstance(body, list):
        raise _UnreadableError(f"expected a JSON list of statuses; found {type(body).__name__}")
    statuses: list[Mapping[str, Any]] = []
    for number, status in enumerate(body, 1):
        if not isinstance(status, dict) or not isinstance(status.get("id"), str | int):
            raise _UnreadableError(f"status #{number}: expected an object with an id")
        statuses.append(status)
    return statuses


def _link_param(response: httpx.Response, rel: str, name: str) -> str | None:
    """A query parameter of the `Link` header's `rel` URL, e.g. `next`'s `max_id`.

    Only the parameter is taken: the next request is built on the configured instance, so a
    `Link` that names another host (a proxy, a misconfigured LOCAL_DOMAIN) is never followed.
    """
    link = response.links.get(rel)
    if not link or "url" not in link:
        return None
    try:
        value = httpx.URL(link["url"]).params.get(name)
    except httpx.InvalidURL:
        return None
    return value or None


def _first_id(statuses: list[Mapping[str, Any]]) -> str | None:
    return str(statuses[0]["id"]) if statuses else None


def _id_key(status_id: str) -> tuple[int, str]:
    """Mastodon ids are strings: shorter is older, then lexical order (numbers, ULIDs, flakes)."""
    return len(status_id), status_id


def _is_newer(a: str, b: str) -> bool:
    return _id_key(a) > _id_key(b)


def _newest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a if b is None else b
    return a if _id_key(a) >= _id_key(b) else b


def _search_max_id(oldest: str) -> str:
    """`max_id` for the search page below `oldest`: one second later, for a snowflake.

    Mastodon turns `max_id` into `before:"<its second>"`; a second more keeps the other matches of
    that second (read again, harmlessly) instead of skipping them.
    """
    if oldest.isdigit() and int(oldest) >> _SNOWFLAKE_SHIFT >= _MIN_SNOWFLAKE_MS:
        return str(int(oldest) + (1000 << _SNOWFLAKE_SHIFT))
    return oldest


def _with_cursor(page: Page, cursor: str | None) -> Page:
    return dataclasses.replace(page, cursor=cursor)


def _unique(posts: Iterable[PostRecord]) -> list[PostRecord]:
    """Each post once (a page can hold a status and a boost or quote of it); first copy wins."""
    seen: dict[str, PostRecord] = {}
    for post in posts:
        seen.setdefault(post["source_id"], post)
    return list(seen.values())


def _once_each(terms: Iterable[str]) -> list[str]:
    """Non-empty terms once each, case-insensitively, in order, first spelling kept."""
    kept: dict[str, str] = {}
    for term in terms:
        if term:
            kept.setdefault(term.casefold(), term)
    return list(kept.values())


def _host(instance: str) -> str:
    url = httpx.URL(instance)
    if not url.host:
        raise ValueError(f"expected an instance URL like https://mastodon.social; found {instance}")
    return url.host if url.port is None else f"{url.host}:{url.port}"


# --- statuses as Post records ------------------------------------------------------------------


def status_posts(status: Mapping[str, Any], host: str) -> list[PostRecord]:
    """The Post records one status stands for: itself, then what it boosts or quotes.

    `host` is the serving instance's, added to the handles of its local accounts. Raises
    `ValueError` for a status that cannot be read.
    """
    reblog = status.get("reblog")
    if isinstance(reblog, dict):
        originals = status_posts(reblog, host)
        original = originals[0]
        boost = _post(
            status,
            host,
            kind="repost",
            parent_uid=f"{SOURCE}:{original['source_id']}",
            text=original["text"],
            lang=status.get("language") or original["lang"],
        )
        return [boost, *originals]
    accepted, quoted = _quote(status)
    quoted_posts = status_posts(quoted, host) if quoted is not None else []
    content = status.get("content")
    if not isinstance(content, str | None):
        raise _UnreadableError(f"status {status.get('id')}: content is not a string")
    if accepted:
        kind = "quote"
        content = _without_quote_fallback(content or "")
    else:
        kind = "reply" if status.get("in_reply_to_id") is not None else "post"
    spoiler = nonempty_text(status.get("spoiler_text"))
    text = "\n".join(part for part in (spoiler, html_to_text(content)) if part)
    parent = f"{SOURCE}:{quoted_posts[0]['source_id']}" if quoted_posts else None
    post = _post(status, host, kind=kind, parent_uid=parent, text=text, lang=status.get("language"))
    return [post, *quoted_posts]


def _quote(status: Mapping[str, Any]) -> tuple[bool, Mapping[str, Any] | None]:
    """(is an accepted quote, the quoted status when the server sent it)."""
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return False, None
    if "state" in quote:  # Mastodon 4.4+: Quote {state, quoted_status} or {state, quoted_status_id}
        if quote["state"] != "accepted":
            return False, None
        quoted = quote.get("quoted_status")
        return True, quoted if isinstance(quoted, dict) else None
    if "uri" in quote and "account" in quote:  # Akkoma, Fedibird: the quoted status itself
        return True, quote
    return False, None


def _post(
    status: Mapping[str, Any],
    host: str,
    *,
    kind: str,
    parent_uid: str | None,
    text: str,
    lang: object,
) -> PostRecord:
    status_id = status.get("id")
    uri = status.get("uri") or status.get("url")
    if not isinstance(uri, str) or not uri:
        raise _UnreadableError(f"status {status_id}: no uri")
    account = status.get("account")
    if not isinstance(account, dict) or not isinstance(account.get("acct"), str):
        raise _UnreadableError(f"status {status_id}: no account")
    handle = account["acct"].removeprefix("@")
    if "@" not in handle:
        handle = f"{handle}@{host}"
    url = status.get("url")
    return {
        "source": SOURCE,
        "source_id": uri,
        "url": url if isinstance(url, str) and url else uri,
        "kind": kind,
        "author_id": nonempty_text(account.get("uri"))
        or nonempty_text(account.get("url"))
        or handle,
        "author_handle": handle,
        "author_name": nonempty_text(account.get("display_name")),
        "author_followers": count(account.get("followers_count")),
        "created_at": _utc(status.get("created_at"), status_id),
        "lang": nonempty_text(lang),
        "text": text,
        "title": None,
        "parent_uid": parent_uid,
        "root_uid": None,
        "likes": count(status.get("favourites_count")),
        "reposts": count(status.get("reblogs_count")),
        "replies": count(status.get("replies_count")),
        "quotes": count(status.get("quotes_count")),
        "raw": dict(status),
    }


def _utc(value: object, status_id: object) -> datetime:
    if not isinstance(value, str):
        raise _UnreadableError(f"status {status_id}: no created_at")
    when = utc_time(value)
    if when is None:
        raise _UnreadableError(f"status {status_id}: bad created_at {value!r}")
    return when


def _without_quote_fallback(html: str) -> str:
    """`html` without its `<span class="quote-inline">` ("RE: <link>") elements."""
    while match := _QUOTE_INLINE.search(html):
        depth = 1
        for tag in _SPAN_TAG.finditer(html, match.end()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                html = html[: match.start()] + html[tag.end() :]
                break
        else:
            return html  # unclosed: keep the text rather than guess where it ends
    return html
