"""X (Twitter): API v2 recent search, as Post records, with reposts, quotes and replies linked.

**Streams.** All of a topic's queries (`TopicQuery.all_queries()`) go into one boolean query,
`(q1) OR (q2) OR ...` (X's syntax: a space is AND, `OR` and parentheses group), because X bills by
request and by post read, and one query cannot crowd another out when all share one listing. X
caps a recent-search query at 512 characters (Basic and Pro self-serve), so a longer OR-query is
split into as few chunks as fit (`or_queries`), each its own stream; the scope, the key of a
stream's cursor, is the query string itself, so editing the topic's queries starts afresh.
Retweets are kept (no `-is:retweet`): spread is growth, and a retweet is counted as a repost
pointing at its original, never as a post of its own text.

Request: `GET {base_url}/2/tweets/search/recent?query=&max_results=100&tweet.fields=...&
expansions=author_id,referenced_tweets.id,referenced_tweets.id.author_id&user.fields=
username,name,public_metrics` with `Authorization: Bearer <token>`; `next_token` pages down.
`tweet.fields` also asks for `note_tweet`, the full text of a post longer than 280 characters
(whose `text` X truncates).

**Cursors** (`XCursor`: the resumable cursor of `collectors/cursor.py`, which describes the
state, the page-by-page saving and the lenient loading). Search results are newest first; X
returns only ids above `since_id` and below `until_id`. The mark `newest` is the id of the newest
post read, sent as `since_id` on the next pass; a pending gap is `until` and `floor` (the posts
with ids below `until` and above `floor` are unread; null: down to the end of X's 7-day window).
A pass reads from the top with `since_id` = `newest` until `next_token` runs out or `max_pages`
is spent; then, with pages left, it reads the pending gap (`since_id` = floor, `until_id` =
until). A page with a `next_token` saves the posts below it as the gap (`until` = the oldest id
read in this walk, down to the old mark). X refuses (HTTP 400) a `since_id` older than its 7-day
window; ids are snowflakes that carry their time, so a mark older than the window (less a
15-minute margin) is not sent: the pass reads the whole window instead, and a gap below the
window is dropped (X can no longer serve it). Ids that are not snowflakes (small ids of test
servers) are sent as they are. A bare cursor is a JSON integer. Only the ids of search results
(`data`) move the cursor, not the referenced posts of `includes.tweets`.

**Pages.** A body that is not JSON, or has neither `data` nor `meta`, is a `BadPage` with the
body; the stream stops, the others go on. X's partial errors (`errors` beside `data`, e.g. a
referenced post that was deleted) are ignored. A tweet without a numeric id or a readable
created_at is a `BadPage` of its own and the page goes on. Any HTTP failure (401 bad token, 403,
429 or 5xx after retries) is raised: the run is recorded as failing.

**Mapping** (`tweet_record`): source "x", source_id the tweet id, url
`https://x.com/<username>/status/<id>` (`/i/web/status/<id>` when the author is unknown);
author_id the user id, author_handle `username`, author_name `name`, author_followers
`public_metrics.followers_count`, all from `includes.users`; lang X's code, None for its
"undetermined" codes (`und`, `zxx`, `qme`...). Kind from `referenced_tweets`: `retweeted` ->
"repost", else `replied_to` -> "reply", else `quoted` -> "quote" (a reply that also quotes is a
reply: its place in the conversation wins; the quote link stays in raw), else "post";
parent_uid "x:" + the referenced id. root_uid "x:" + `conversation_id` when it differs from the
tweet's own id (the thread's first post), and for a repost the original itself. Text: `note_tweet`
text or `text`, HTML entities decoded (X escapes `&`, `<`, `>`); a retweet's own text is X's
truncated "RT @user: ..." copy, so a repost takes its original's full text when the original is
in `includes.tweets` (as Mastodon boosts do). Engagement: likes, reposts, replies, quotes from
`public_metrics`; None for a repost, because X repeats the original's counts on every retweet
(they are the original's, stored with it). raw is `{"data": <the tweet>, "includes": {"users":
[<its author>]}}`, the shape X's own single-post lookup returns, both objects unchanged.

Each page also yields the referenced posts present in `includes.tweets` (after the search
results, each id once), so that reposts, quotes and replies point at stored originals; the runner
keeps those that match the topic, like any other post.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.cursor import DIGITS, Cursor, CursorFormat, bare_json
from collectors.fields import count, nonempty_text, utc_time, utcnow
from collectors.http import RateLimit, SourceHttp, redact_url
from collectors.pager import Read, two_phase_pass

__all__ = ["XCollector", "XCursor", "or_queries", "page_posts", "snowflake_time", "tweet_record"]

log = logging.getLogger(__name__)

SOURCE = "x"
WEB_URL = "https://x.com"
SEARCH_PATH = "/2/tweets/search/recent"
MAX_QUERY_CHARS = 512
TWEET_FIELDS = (
    "created_at,lang,public_metrics,referenced_tweets,conversation_id,author_id,note_tweet"
)
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
USER_FIELDS = "username,name,public_metrics"
SEARCH_WINDOW = timedelta(days=7)
WINDOW_MARGIN = timedelta(minutes=15)
_TWITTER_EPOCH_MS = 1_288_834_974_657
_SNOWFLAKE_MIN = 10**17  # ids from 2013 on; smaller ones are not treated as snowflakes
_NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst", "art"})
_KIND_OF_REFERENCE = (("retweeted", "repost"), ("replied_to", "reply"), ("quoted", "quote"))


# --- queries and ids -----------------------------------------------------------------------------


def or_queries(queries: Iterable[str], max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The queries as few `(a) OR (b) ...` strings as fit in `max_chars` each (one query alone is
    sent as it is; a single query longer than the limit is sent anyway, and X will say)."""
    queries = list(dict.fromkeys(q.strip() for q in queries if q.strip()))
    chunks: list[list[str]] = []
    for query in queries:
        part = f"({query})"
        if not chunks or len(" OR ".join([*chunks[-1], part])) > max_chars:
            chunks.append([])
        chunks[-1].append(part)
    return [" OR ".join(chunk) if len(chunk) > 1 else chunk[0][1:-1] for chunk in chunks]


def snowflake_time(tweet_id: str) -> datetime | None:
    """When a snowflake id was made; None for an id that is not one."""
    if not tweet_id.isdigit() or int(tweet_id) < _SNOWFLAKE_MIN:
        return None
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + _TWITTER_EPOCH_MS) / 1000, UTC)


def _bare_id(value: Any) -> str | None:
    """A cursor saved as a bare JSON integer: the id it is."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return DIGITS.parse(str(value))


class XCursor(Cursor[str, str]):
    """A stream's resume state (`collectors.cursor`); `gap` is the id `until`, exclusive."""

    FORMAT = CursorFormat("x", DIGITS, DIGITS, "until", bare_json(_bare_id))


# --- mapping -------------------------------------------------------------------------------------


def tweet_record(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    tweets: Mapping[str, Mapping[str, Any]] | None = None,
) -> PostRecord:
    """One tweet as a Post record; `users` and `tweets` are the page's includes, by id.

    Raises ValueError for a tweet without a numeric id or a readable created_at.
    """
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        raise ValueError(f"tweet id {tweet_id!r} is not a numeric string")
    created = utc_time(tweet.get("created_at"))
    if created is None:
        raise ValueError(f"tweet {tweet_id}: created_at is {tweet.get('created_at')!r}")
    author_id = nonempty_text(tweet.get("author_id"))
    author = users.get(author_id) if author_id else None
    username = nonempty_text(author.get("username")) if author else None

    references = {
        ref.get("type"): ref.get("id")
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, dict) and isinstance(ref.get("id"), str)
    }
    kind, parent = "post", None
    for ref_type, ref_kind in _KIND_OF_REFERENCE:
        if ref_type in references:
            kind, parent = ref_kind, references[ref_type]
            break
    parent_uid = f"{SOURCE}:{parent}" if parent else None
    conversation = nonempty_text(tweet.get("conversation_id"))
    root_uid = f"{SOURCE}:{conversation}" if conversation and conversation != tweet_id else None

    text = _full_text(tweet)
    metrics = tweet.get("public_metrics")
    metrics = metrics if isinstance(metrics, dict) else {}
    engagement: dict[str, int | None] = {
        "likes": count(metrics.get("like_count")),
        "reposts": count(metrics.get("retweet_count")),
        "replies": count(metrics.get("reply_count")),
        "quotes": count(metrics.get("quote_count")),
    }
    if kind == "repost":
        root_uid = parent_uid
        original = (tweets or {}).get(parent or "")
        if original is not None:
            text = _full_text(original)
        engagement = dict.fromkeys(engagement)

    lang = nonempty_text(tweet.get("lang"))
    author_metrics = author.get("public_metrics") if author else None
    raw: dict[str, Any] = {"data": tweet}
    if author is not None:
        raw["includes"] = {"users": [author]}
    return {
        "post_uid": f"{SOURCE}:{tweet_id}",
        "source": SOURCE,
        "source_id": tweet_id,
        "url": f"{WEB_URL}/{username}/status/{tweet_id}"
        if username
        else f"{WEB_URL}/i/web/status/{tweet_id}",
        "kind": kind,
        "author_id": author_id,
        "author_handle": username,
        "author_name": nonempty_text(author.get("name")) if author else None,
        "author_followers": count(author_metrics.get("followers_count"))
        if isinstance(author_metrics, dict)
        else None,
        "created_at": created,
        "collected_at": None,
        "lang": None if lang in _NO_LANGUAGE else lang,
        "text": text,
        "title": None,
        "parent_uid": parent_uid,
        "root_uid": root_uid,
        **engagement,
        "raw": raw,
    }


def _full_text(tweet: Mapping[str, Any]) -> str:
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) else None
    if not isinstance(text, str) or not text:
        text = tweet.get("text")
    return html.unescape(text) if isinstance(text, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class _SearchPage:
    posts: list[PostRecord] = field(default_factory=list)
    result_ids: list[str] = field(default_factory=list)  # ids of `data`, which move the cursor
    next_token: str | None = None
    bad: list[tuple[str, Any]] = field(default_factory=list)


def page_posts(body: Any) -> _SearchPage:
    """The posts of a recent-search body: its results, then the referenced posts it includes.

    Raises ValueError for a body that is not a search response (no `data` and no `meta`).
    """
    if not isinstance(body, dict) or ("data" not in body and "meta" not in body):
        raise ValueError("the body has neither data nor meta")
    data = body.get("data") or []
    includes = _object(body.get("includes"))
    meta = _object(body.get("meta"))
    if not isinstance(data, list):
        raise ValueError("data is not a list")
    users = {
        u["id"]: u
        for u in includes.get("users") or []
        if isinstance(u, dict) and nonempty_text(u.get("id"))
    }
    included = [t for t in includes.get("tweets") or [] if isinstance(t, dict)]
    by_id = {
        t["id"]: t for t in [*included, *data] if isinstance(t, dict) and nonempty_text(t.get("id"))
    }
    page = _SearchPage(next_token=nonempty_text(meta.get("next_token")))
    seen: set[str] = set()
    for position, tweet in enumerate([*data, *included]):
        if not isinstance(tweet, dict):
            page.bad.append(("a tweet is not an object", tweet))
            continue
        try:
            record = tweet_record(tweet, users, by_id)
        except ValueError as exc:
            page.bad.append((str(exc), tweet))
            continue
        if record["source_id"] in seen:
            continue
        seen.add(record["source_id"])
        page.posts.append(record)
        if position < len(data):
            page.result_ids.append(record["source_id"])
    return page


# --- the collector -------------------------------------------------------------------------------


class XCollector:
    """X recent search for a topic's queries; see the module docstring.

    `now` (aware UTC) tells which marks have left X's 7-day window.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        bearer_token: str,
        max_pages: int = 5,
        *,
        max_results: int = 100,
        max_query_chars: int = MAX_QUERY_CHARS,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        if not bearer_token:
            raise ValueError("x: a bearer token is required")
        if max_pages < 1:
            raise ValueError(f"x: max_pages must be at least 1, not {max_pages}")
        if not 10 <= max_results <= 100:
            raise ValueError(f"x: max_results must be 10-100, not {max_results}")
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.max_results = max_results
        self.max_query_chars = max_query_chars
        self._token = bearer_token
        self._now = now

    def __repr__(self) -> str:  # never show the token
        return f"XCollector({self.base_url!r}, max_pages={self.max_pages})"

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for q in or_queries(query.all_queries(), self.max_query_chars):
            async for page in self._stream(q, cursors.get(q), http):
                yield page

    def _in_window(self, tweet_id: str | None) -> bool:
        """Whether X still accepts `tweet_id` as since_id/until_id (non-snowflakes: always)."""
        if tweet_id is None:
            return False
        made = snowflake_time(tweet_id)
        return made is None or made > self._now() - SEARCH_WINDOW + WINDOW_MARGIN

    def _stream(self, q: str, saved: str | None, http: SourceHttp) -> AsyncIterator[Page | BadPage]:
        """One stream's pass (`collectors.pager`): the top down to the mark (X's since_id), then
        the pending gap, as far as X's 7-day window still serves it."""
        state = XCursor.load(saved)
        since = state.newest if self._in_window(state.newest) else None
        gap_until = state.gap if since is not None and self._in_window(state.gap) else None
        gap_floor = state.floor if gap_until and self._in_window(state.floor) else None
        if state.newest is not None and since is None:
            log.info("x: %r: the mark left the 7-day window; reading the whole window", q)
        pending = XCursor(state.newest, gap_until, gap_floor)  # the gap X can still serve
        reader = _SearchReader(self, q, http)
        return two_phase_pass(reader, pending, since, self.max_pages, key=int)

    async def _page(
        self,
        q: str,
        http: SourceHttp,
        *,
        since_id: str | None = None,
        until_id: str | None = None,
        next_token: str | None = None,
    ) -> tuple[_SearchPage, str, RateLimit | None] | BadPage:
        params: dict[str, str] = {
            "query": q,
            "max_results": str(self.max_results),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if until_id:
            params["until_id"] = until_id
        if next_token:
            params["next_token"] = next_token
        response = await http.get(
            self.base_url + SEARCH_PATH,
            params=params,
            headers={"Authorization": f"Bearer {self._token}"},
        )
        url = redact_url(response.url)
        try:
            page = page_posts(response.json())
        except ValueError as exc:
            kind = response.headers.get("content-type", "no content-type")
            error = f"not an X search response (HTTP {response.status_code}, {kind}): {exc}"
            return BadPage(error, response.text, q, url)
        return page, url, http.rate_limits.get(response.url.host)


@dataclass(frozen=True)
class _SearchReader:
    """One recent-search stream's pages for the pager. X is asked for posts above the mark
    (`since_id`) and, in a gap, below its start (`until_id`, exclusive) and above its floor, so
    the gap below a page starts at the page's oldest result."""

    collector: XCollector
    scope: str
    http: SourceHttp
    stops_at_mark = True

    async def top(self, mark: str | None, position: str | None) -> Read[str, str, str] | BadPage:
        return await self._read(since_id=mark, next_token=position)

    async def gap(
        self, gap: str, floor: str | None, position: str | None
    ) -> Read[str, str, str] | BadPage:
        return await self._read(since_id=floor, until_id=gap, next_token=position)

    async def _read(self, **ids: str | None) -> Read[str, str, str] | BadPage:
        read = await self.collector._page(self.scope, self.http, **ids)
        if isinstance(read, BadPage):
            return read
        page, url, rate_limit = read
        oldest = min(page.result_ids, key=int, default=None)
        bad = [
            BadPage(f"unreadable tweet: {error}", json.dumps(tweet), self.scope, url)
            for error, tweet in page.bad
        ]
        return Read(page.posts, page.result_ids, page.next_token, oldest, url, rate_limit, bad)
