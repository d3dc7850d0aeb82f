"""Hacker News, through Algolia's HN Search API: stories and comments matching a topic's queries.

**Streams.** One per query of the topic (`TopicQuery.all_queries()`), scope `search/<query>`:
`GET {base_url}/api/v1/search_by_date?query=<q>&tags=(story,comment)
&numericFilters=created_at_i>X[,created_at_i<=Y]&hitsPerPage=100&page=N`. Algolia requires every
word of a query (with typo tolerance), so one OR query would not work; HN's volume is small and
its budget large (about 10,000 requests an hour), so one stream per query costs little. The query
is part of the scope, so editing a topic's queries starts that stream afresh.

**Cursors** (`HackerNewsCursor`: the resumable cursor of `collectors/cursor.py`, which describes
the state, the page-by-page saving and the lenient loading). `search_by_date` lists newest first,
`page` 0 to `nbPages - 1`. The mark `newest` is the `created_at_i` of the newest hit seen; a
pending gap is one interval, `"gap": [lo, hi]`: hits created in `lo < t <= hi` are unread. A pass
reads the top, `created_at_i > newest - overlap` (default 10 minutes, for items Algolia indexes
late; first run: `now - lookback`, default 7 days), page by page to the last page, then, if a gap
is pending, the gap from page 0 (`created_at_i > lo, created_at_i <= hi`). While hits below a page
are unread, they are the gap (`hi` = the oldest `created_at_i` read in this walk, inclusive because
hits of one second can straddle two pages). A gap left pending from before is merged into it as
intervals are (the lower `lo` and the higher `hi`), not by `Cursor.after_page`, and the end of a
walk does not close it: each walk is bounded by `numericFilters`, not by the end of the results.
`max_pages` counts requests per stream and pass. Algolia serves at most 1000 hits of one query
(`nbPages` stops at 10): a last page with `nbHits` above what the walk read leaves the rest as the
gap, which is then read from page 0 below the oldest hit. A bare cursor is a JSON number. Paging by
`page` while new items arrive shifts hits down a page: repeats, not skips.

**Pages.** A body that is not JSON, or has no `hits` list, is a `BadPage` with the body; that
stream stops (its cursor stays), the others go on. HTTP failures (`SourceHttpError`) are raised.
A hit without `objectID` or a numeric `created_at_i` is a `BadPage` of its own; the page goes on.

**Mapping** (`post_record`): source "hackernews", source_id `objectID`, url
`https://news.ycombinator.com/item?id=<objectID>` (the HN page, whatever host served the API;
a link story's target is `raw.url`); kind "post" for a story (`_tags` holds "story"), "comment"
for a comment; author_id = author_handle = `author` (HN usernames cannot change), author_name,
followers, lang and collected_at None; created_at from `created_at_i`; title the story title
(None for comments); text `story_text` or `comment_text` as plain text (`html_to_text`, with a
line break at each of HN's unclosed `<p>`), and for a link story without text its title, as
GDELT does for articles, so that the post has the words it shows; parent_uid "hackernews:" +
`parent_id` and root_uid "hackernews:" + `story_id` for a comment (None for a story); likes =
`points`, replies = `num_comments` (None where Algolia sends none, as for comments); reposts and
quotes None; raw the hit as received.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.cursor import (
    INTEGER,
    Codec,
    Cursor,
    CursorFormat,
    bare_json,
    is_number,
    newest_of,
    oldest_of,
)
from collectors.fields import count, nonempty_text
from collectors.http import RateLimit, SourceHttp, redact_url
from collectors.text import html_to_text

__all__ = ["HackerNewsCollector", "HackerNewsCursor", "post_record"]

log = logging.getLogger(__name__)

SOURCE = "hackernews"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id="
HITS_PER_PAGE = 100
DEFAULT_OVERLAP_S = 600
DEFAULT_LOOKBACK_S = 7 * 24 * 3600


# --- cursors -------------------------------------------------------------------------------------


def _interval(value: Any) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)):
        raise ValueError(f"{value!r} is not [lo, hi]")
    return int(value[0]), int(value[1])


class HackerNewsCursor(Cursor[int, tuple[int, int]]):
    """A stream's resume state (`collectors.cursor`); `gap` = (lo, hi): lo < t <= hi unread."""

    FORMAT = CursorFormat(
        "hackernews", INTEGER, Codec(_interval, list), "gap", bare_json(INTEGER.parse), None
    )


def _merge(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    """One interval covering both (the one read region between them is read again)."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


# --- mapping -------------------------------------------------------------------------------------


_PARAGRAPH = re.compile(r"<p(?=[\s>/])", re.IGNORECASE)


def _hn_text(html: str | None) -> str:
    """HN's HTML as plain text. HN separates paragraphs with a bare, unclosed `<p>`, which
    `html_to_text` (breaking on `</p>`) would run together, so a break goes before each."""
    return html_to_text(_PARAGRAPH.sub("<br><p", html) if html else html)


def _id_or_none(value: Any) -> str | None:
    if is_number(value):
        return str(int(value))
    return value if isinstance(value, str) and value else None


def _is_comment(hit: Mapping[str, Any]) -> bool:
    tags = hit.get("_tags")
    if isinstance(tags, list) and ("comment" in tags or "story" in tags):
        return "comment" in tags
    return hit.get("comment_text") is not None


def post_record(hit: Mapping[str, Any]) -> PostRecord:
    """An Algolia HN hit (story or comment) as a Post record.

    Raises ValueError when it has no objectID or no numeric created_at_i.
    """
    object_id = _id_or_none(hit.get("objectID"))
    if object_id is None:
        raise ValueError("hit has no objectID")
    created = hit.get("created_at_i")
    if not is_number(created):
        raise ValueError(f"{object_id}: created_at_i is {created!r}, not a number")
    author = nonempty_text(hit.get("author"))
    record: PostRecord = {
        "post_uid": f"{SOURCE}:{object_id}",
        "source": SOURCE,
        "source_id": object_id,
        "url": ITEM_URL + object_id,
        "author_id": author,
        "author_handle": author,
        "author_name": None,
        "author_followers": None,
        "created_at": datetime.fromtimestamp(created, UTC),
        "collected_at": None,
        "lang": None,
        "likes": count(hit.get("points")),
        "reposts": None,
        "replies": count(hit.get("num_comments")),
        "quotes": None,
        "raw": dict(hit),
    }
    if _is_comment(hit):
        parent, story = _id_or_none(hit.get("parent_id")), _id_or_none(hit.get("story_id"))
        record |= {
            "kind": "comment",
            "title": None,
            "text": _hn_text(nonempty_text(hit.get("comment_text"))),
            "parent_uid": f"{SOURCE}:{parent}" if parent else None,
            "root_uid": f"{SOURCE}:{story}" if story else None,
        }
    else:
        title = nonempty_text(hit.get("title"))
        record |= {
            "kind": "post",
            "title": title,
            "text": _hn_text(nonempty_text(hit.get("story_text"))) or title or "",
            "parent_uid": None,
            "root_uid": None,
        }
    return record


# --- the collector -------------------------------------------------------------------------------


@dataclass
class _Result:
    posts: list[PostRecord]
    times: list[int]
    bad: list[tuple[str, Any]]
    nb_pages: int
    nb_hits: int | None
    url: str
    rate_limit: RateLimit | None


class HackerNewsCollector:
    """Algolia HN search by date, one stream per query; see the module docstring.

    `clock` (unix seconds) anchors the first run's lookback.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        max_pages: int = 3,
        *,
        hits_per_page: int = HITS_PER_PAGE,
        overlap: int = DEFAULT_OVERLAP_S,
        lookback: int = DEFAULT_LOOKBACK_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_pages < 1:
            raise ValueError(f"hackernews: max_pages must be at least 1, not {max_pages}")
        if not 1 <= hits_per_page <= 1000:
            raise ValueError(f"hackernews: hits_per_page must be 1-1000, not {hits_per_page}")
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.hits_per_page = hits_per_page
        self.overlap = overlap
        self.lookback = lookback
        self._clock = clock

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for q in query.all_queries():
            scope = f"search/{q}"
            async for page in self._stream(q, scope, cursors.get(scope), http):
                yield page

    async def _stream(
        self, q: str, scope: str, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        state = HackerNewsCursor.load(saved)
        newest = state.newest
        mark = int(self._clock()) - self.lookback if newest is None else newest - self.overlap
        pending = state.gap  # a gap from earlier passes, read after the top
        lo: int = mark  # the walk reads lo < t (<= hi)
        hi: int | None = None
        top = True
        page = 0
        oldest: int | None = None  # the oldest created_at_i this walk has read
        for _ in range(self.max_pages):
            read = await self._page(q, scope, lo, hi, page, http)
            if isinstance(read, BadPage):
                yield read
                return
            for error, hit in read.bad:
                yield BadPage(f"unreadable hit: {error}", json.dumps(hit), scope, read.url)
            newest = newest_of(newest, read.times)
            oldest = oldest_of(oldest, read.times)
            more = bool(read.posts or read.bad) and page + 1 < read.nb_pages
            capped = (
                not more
                and bool(read.times)
                and read.nb_hits is not None
                and read.nb_hits > (page + 1) * self.hits_per_page
            )
            unread: tuple[int, int] | None = None
            if more or capped:  # below this walk's oldest hit (or all of it, if none was read)
                upper = oldest if oldest is not None else hi
                unread = (lo, upper if upper is not None else int(self._clock()))
            gap = _merge(unread, pending) if top else unread
            yield Page(
                read.posts, HackerNewsCursor(newest, gap).dump(), scope, read.url, read.rate_limit
            )
            if more:
                page += 1
                continue
            # This walk is over (read to the end, or to Algolia's 1000-hit cap): next, the gap.
            if top:
                pending = gap
            elif capped:
                pending = unread
            else:
                return
            if pending is None:
                return
            top, page, oldest = False, 0, None
            lo, hi = pending

    async def _page(
        self, q: str, scope: str, lo: int, hi: int | None, page: int, http: SourceHttp
    ) -> _Result | BadPage:
        filters = f"created_at_i>{lo}" + (f",created_at_i<={hi}" if hi is not None else "")
        params = {
            "query": q,
            "tags": "(story,comment)",
            "numericFilters": filters,
            "hitsPerPage": str(self.hits_per_page),
            "page": str(page),
        }
        response = await http.get(self.base_url + SEARCH_PATH, params=params)
        url = redact_url(response.url)
        try:
            body = response.json()
            hits = body.get("hits") if isinstance(body, dict) else None
            if not isinstance(hits, list):
                raise ValueError("the body has no hits list")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            kind = response.headers.get("content-type", "no content-type")
            error = f"not an Algolia search result (HTTP {response.status_code}, {kind}): {exc}"
            return BadPage(error, response.text, scope, url)
        result = _Result(
            posts=[],
            times=[],
            bad=[],
            nb_pages=count(body.get("nbPages")) or 0,
            nb_hits=count(body.get("nbHits")),
            url=url,
            rate_limit=http.rate_limits.get(response.url.host),
        )
        for hit in hits:
            try:
                if not isinstance(hit, dict):
                    raise ValueError("hit is not an object")
                record = post_record(hit)
            except ValueError as exc:
                result.bad.append((str(exc), hit))
                continue
            result.posts.append(record)
            result.times.append(int(hit["created_at_i"]))
        return result
