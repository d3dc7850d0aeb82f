"""YouTube: Data API v3 video search and each video's newest comments, as Post records.

**Streams.** `search.list` costs 100 units of the default 10,000-unit daily quota, so a topic's
queries go into as few searches as possible: each query as a quoted phrase, joined with YouTube's
OR operator `|` (`"ICE stations Canada"|"HSI au Canada"`), split into chunks of at most 500
characters (`youtube_queries`), each chunk its own stream whose scope is the chunk. Quoting makes
the precedence of `|` against the spaces of a multi-word query unambiguous (how YouTube groups
unquoted words around `|` is not documented). At the shipped two-hour interval, one search page a
pass costs 1,200 units a day.

Per stream: `GET {base_url}/youtube/v3/search?part=snippet&q=&type=video&order=date&
publishedAfter=&maxResults=50&key=` and `pageToken` for the next page, up to `max_pages`. For
every video of a page, the first page of its comment threads, `GET {base_url}/youtube/v3/
commentThreads?part=snippet&videoId=&maxResults=100&order=time&textFormat=plainText&key=` (1 unit
each): the 100 newest top-level comments, which is where a claim is repeated or corrected under a
video; replies to comments and older comments are not read (quota, and `order=time` puts the new
ones first). A video whose comments are disabled or gone (403 `commentsDisabled`, 404) simply has
no comments. The videos and comments of one search page are yielded as one `Page`.

**Cursors.** The cursor is the newest `publishedAt` among the videos read (ISO 8601, UTC). A pass
asks for `publishedAfter` = cursor less `overlap` (12 hours by default: YouTube's search index
lags uploads, and re-read videos cost no extra search units, they only refresh comments), or
`now - lookback` (7 days) on a stream's first pass. Every page but the pass's last carries the
saved cursor unchanged, so a crash re-reads the whole window; the last page carries the newest
time seen. When more than `max_pages * 50` videos were published in the window, the oldest of
them are not read (stated limit; the top of the window, where new posts are, always is).

**Failures.** Every HTTP failure but the two comment cases above is raised as `SourceHttpError`:
403 `quotaExceeded` (the daily quota is spent), 400 `keyInvalid`, 5xx after retries. Its message
carries Google's error reason (e.g. `quotaExceeded`) and never the key (`SourceHttp` redacts the
`key` query parameter from URLs; the reason text is scrubbed of it too). A body that is not JSON
or has no `items` list is a `BadPage`; a search item without a video id or a readable
publishedAt is a `BadPage` of its own.

**Mapping.** Video: source "youtube", source_id the videoId, url
`https://www.youtube.com/watch?v=<id>`, kind "post", title the title, text the description (both
HTML-unescaped: search snippets arrive escaped, `&#39;`), author_id the channelId, author_name
the channelTitle (search gives no handle), created_at publishedAt, lang None, engagement None
(search.list has no statistics), raw the search item. Comment: source_id the comment id, url the
watch URL with `&lc=<comment id>`, kind "comment", parent_uid and root_uid "youtube:" + videoId,
text `textDisplay` (plain text), author_id the author's channel id, author_name its display name,
author_handle the display name without its "@" when it is a handle, likes `likeCount`, replies
the thread's `totalReplyCount`, raw the commentThread item.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.fields import count, iso_z, nonempty_text, utc_time, utcnow
from collectors.http import SourceHttp, SourceHttpError, redact_url

__all__ = [
    "YouTubeCollector",
    "comment_record",
    "google_error",
    "video_record",
    "youtube_queries",
]

log = logging.getLogger(__name__)

SOURCE = "youtube"
WATCH_URL = "https://www.youtube.com/watch?v="
SEARCH_PATH = "/youtube/v3/search"
COMMENTS_PATH = "/youtube/v3/commentThreads"
MAX_QUERY_CHARS = 500
DEFAULT_LOOKBACK = timedelta(days=7)
DEFAULT_OVERLAP = timedelta(hours=12)
_NO_COMMENTS = frozenset({"commentsDisabled", "videoNotFound", "forbidden"})


def youtube_queries(queries: Iterable[str], max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The queries as few `"a"|"b"...` strings as fit in `max_chars` each (a one-word query is
    not quoted; a query that holds a double quote is sent as written)."""
    parts = [
        q if " " not in q or '"' in q else f'"{q}"'
        for q in dict.fromkeys(q.strip() for q in queries if q.strip())
    ]
    chunks: list[list[str]] = []
    for part in parts:
        if not chunks or len("|".join([*chunks[-1], part])) > max_chars:
            chunks.append([])
        chunks[-1].append(part)
    return ["|".join(chunk) for chunk in chunks]


def google_error(exc: SourceHttpError, secret: str) -> SourceHttpError:
    """`exc` again, with Google's error reason and message (`quotaExceeded: ...`) in its text and
    the secret scrubbed from it."""
    reason, message = _reason(exc.response)
    detail = f"{reason}: {message}" if message else reason
    text = f"{exc.response.reason_phrase if exc.response else ''} ({detail})".strip()
    if secret:
        text = text.replace(secret, "***")
    return SourceHttpError(
        exc.source,
        exc.response.request.method if exc.response is not None else "GET",
        exc.url,
        tries=exc.tries,
        status=exc.status,
        reason=text,
        response=exc.response,
    )


def _reason(response: httpx.Response | None) -> tuple[str, str]:
    """(reason, message) of a Google API error body; ("unknown", "") if it has none."""
    try:
        error = response.json().get("error") if response is not None else None
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return "unknown", ""
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    details = error.get("details")
    info = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    detail = next((d["reason"] for d in info if d.get("reason")), None)
    reason = first.get("reason") or detail or error.get("status") or "unknown"
    message = error.get("message") or first.get("message") or ""
    return str(reason), str(message)


# --- mapping -------------------------------------------------------------------------------------


def video_record(item: Mapping[str, Any]) -> PostRecord:
    """A search result (`youtube#searchResult` of a video) as a Post record; ValueError when it
    has no videoId or publishedAt."""
    ident = item.get("id")
    video_id = ident.get("videoId") if isinstance(ident, dict) else None
    if not isinstance(video_id, str) or not video_id:
        raise ValueError("search result without id.videoId")
    snippet = item.get("snippet")
    snippet = snippet if isinstance(snippet, dict) else {}
    created = utc_time(snippet.get("publishedAt"))
    if created is None:
        raise ValueError(f"video {video_id}: publishedAt is {snippet.get('publishedAt')!r}")
    return {
        "post_uid": f"{SOURCE}:{video_id}",
        "source": SOURCE,
        "source_id": video_id,
        "url": WATCH_URL + video_id,
        "kind": "post",
        "author_id": nonempty_text(snippet.get("channelId")),
        "author_handle": None,
        "author_name": _unescaped(snippet.get("channelTitle")),
        "author_followers": None,
        "created_at": created,
        "collected_at": None,
        "lang": None,
        "text": _unescaped(snippet.get("description")) or "",
        "title": _unescaped(snippet.get("title")),
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
        "raw": item,
    }


def comment_record(thread: Mapping[str, Any], video_id: str) -> PostRecord:
    """A commentThread's top-level comment as a Post record; ValueError when unreadable."""
    snippet = thread.get("snippet")
    snippet = snippet if isinstance(snippet, dict) else {}
    top = snippet.get("topLevelComment")
    if not isinstance(top, dict) or not isinstance(top.get("snippet"), dict):
        raise ValueError(f"comment thread {thread.get('id')!r} has no topLevelComment")
    comment: dict[str, Any] = top["snippet"]
    comment_id = nonempty_text(top.get("id")) or nonempty_text(thread.get("id"))
    if comment_id is None:
        raise ValueError("comment thread without an id")
    created = utc_time(comment.get("publishedAt"))
    if created is None:
        raise ValueError(f"comment {comment_id}: publishedAt is {comment.get('publishedAt')!r}")
    video = (
        nonempty_text(comment.get("videoId")) or nonempty_text(snippet.get("videoId")) or video_id
    )
    channel = comment.get("authorChannelId")
    name = nonempty_text(comment.get("authorDisplayName"))
    return {
        "post_uid": f"{SOURCE}:{comment_id}",
        "source": SOURCE,
        "source_id": comment_id,
        "url": f"{WATCH_URL}{video}&lc={comment_id}",
        "kind": "comment",
        "author_id": nonempty_text(channel.get("value")) if isinstance(channel, dict) else None,
        "author_handle": name[1:] if name and name.startswith("@") else None,
        "author_name": name,
        "author_followers": None,
        "created_at": created,
        "collected_at": None,
        "lang": None,
        "text": nonempty_text(comment.get("textDisplay"))
        or nonempty_text(comment.get("textOriginal"))
        or "",
        "title": None,
        "parent_uid": f"{SOURCE}:{video}",
        "root_uid": f"{SOURCE}:{video}",
        "likes": count(comment.get("likeCount")),
        "reposts": None,
        "replies": count(snippet.get("totalReplyCount")),
        "quotes": None,
        "raw": thread,
    }


def _unescaped(value: Any) -> str | None:
    return html.unescape(value) if isinstance(value, str) and value else None


def _items(response: httpx.Response) -> tuple[list[Any], Mapping[str, Any]]:
    """The `items` of a list response, and the body; ValueError if it is not one."""
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        raise ValueError("the body has no items list")
    return list(body.get("items", [])), body


# --- the collector -------------------------------------------------------------------------------


class YouTubeCollector:
    """YouTube video search and first-page comments for a topic; see the module docstring."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        api_key: str,
        max_pages: int = 5,
        *,
        comments: bool = True,
        max_results: int = 50,
        lookback: timedelta = DEFAULT_LOOKBACK,
        overlap: timedelta = DEFAULT_OVERLAP,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        if not api_key:
            raise ValueError("youtube: an API key is required")
        if max_pages < 1:
            raise ValueError(f"youtube: max_pages must be at least 1, not {max_pages}")
        if not 1 <= max_results <= 50:
            raise ValueError(f"youtube: max_results must be 1-50, not {max_results}")
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.comments = comments
        self.max_results = max_results
        self.lookback = lookback
        self.overlap = overlap
        self._key = api_key
        self._now = now

    def __repr__(self) -> str:  # never show the key
        return f"YouTubeCollector({self.base_url!r}, max_pages={self.max_pages})"

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for q in youtube_queries(query.all_queries()):
            async for page in self._stream(q, cursors.get(q), http):
                yield page

    async def _stream(
        self, q: str, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        mark = utc_time(saved) if saved else None
        if saved and mark is None:
            log.warning("youtube: unreadable cursor %r; reading the stream afresh", saved)
        after = mark - self.overlap if mark else self._now() - self.lookback
        newest = mark
        params = {
            "part": "snippet",
            "q": q,
            "type": "video",
            "order": "date",
            "publishedAfter": iso_z(after),
            "maxResults": str(self.max_results),
        }
        token: str | None = None
        for page_no in range(1, self.max_pages + 1):
            response = await self._get(
                SEARCH_PATH, {**params, **({"pageToken": token} if token else {})}, http
            )
            url = redact_url(response.url)
            try:
                items, body = _items(response)
            except ValueError as exc:
                kind = response.headers.get("content-type", "no content-type")
                error = (
                    f"not a YouTube search response (HTTP {response.status_code}, {kind}): {exc}"
                )
                yield BadPage(error, response.text, q, url)
                return
            posts: list[PostRecord] = []
            for item in items:
                try:
                    video = video_record(item)
                except (ValueError, AttributeError) as exc:
                    yield BadPage(f"unreadable video: {exc}", json.dumps(item), q, url)
                    continue
                posts.append(video)
                newest = max(newest, video["created_at"]) if newest else video["created_at"]
                if self.comments:
                    async for comment in self._comments(video["source_id"], q, http):
                        if isinstance(comment, BadPage):
                            yield comment
                        else:
                            posts.append(comment)
            token = nonempty_text(body.get("nextPageToken"))
            last = token is None or page_no == self.max_pages
            cursor = newest if last else mark
            yield Page(
                posts,
                iso_z(cursor) if cursor else None,
                q,
                url,
                http.rate_limits.get(response.url.host),
            )
            if token is None:
                return

    async def _comments(
        self, video_id: str, q: str, http: SourceHttp
    ) -> AsyncIterator[PostRecord | BadPage]:
        params = {
            "part": "snippet",
            "videoId": video_id,
            "maxResults": "100",
            "order": "time",
            "textFormat": "plainText",
        }
        try:
            response = await self._get(COMMENTS_PATH, params, http)
        except SourceHttpError as exc:
            if exc.status in (403, 404) and _reason(exc.response)[0] in _NO_COMMENTS:
                log.info("youtube: no comments for %s (%s)", video_id, _reason(exc.response)[0])
                return
            raise
        url = redact_url(response.url)
        try:
            items, _ = _items(response)
        except ValueError as exc:
            yield BadPage(f"not a commentThreads response: {exc}", response.text, q, url)
            return
        for item in items:
            try:
                yield comment_record(item, video_id)
            except (ValueError, AttributeError) as exc:
                yield BadPage(f"unreadable comment: {exc}", json.dumps(item), q, url)

    async def _get(self, path: str, params: Mapping[str, str], http: SourceHttp) -> httpx.Response:
        try:
            return await http.get(self.base_url + path, params={**params, "key": self._key})
        except SourceHttpError as exc:
            raise google_error(exc, self._key) from None
