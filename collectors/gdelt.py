"""GDELT DOC 2.0: news articles matching a topic's queries, read window by window.

**Request.** `GET {base_url}/api/v2/doc/doc?query=<q>&mode=artlist&format=json&maxrecords=250
&startdatetime=YYYYMMDDHHMMSS&enddatetime=YYYYMMDDHHMMSS&sort=datedesc` (times UTC).

**Query.** All the topic's queries (`TopicQuery.all_queries()`, every language) go out as one
boolean query, `("ICE stations Canada" OR "HSI Canada" OR ...)`: GDELT allows one request every
5 seconds, so one query per window costs a fifth of one query per search string, and GDELT
searches every language's articles with the same query anyway. Each search string is cleaned
first: GDELT rejects some punctuation inside phrases, so every character that is not a letter, a
digit, a space or a hyphen becomes a space (`bureaux de l'ICE` -> `"bureaux de l ICE"`); a
string of several words is double-quoted (a phrase); a single word shorter than
`MIN_WORD_CHARS` (3) is dropped, because GDELT answers "too short" for the whole query
(unverified threshold); strings equal but for case are sent once; an OR group is parenthesised,
a single term is not (GDELT rejects parentheses around a lone term). An OR query longer than
`max_query_chars` (250 by default; GDELT's "too long" limit is not documented) is split into as
few chunks as fit, and each chunk is its own *stream*, whose scope is the query string as sent,
so editing a topic's queries starts that stream afresh.

**Windows and cursors.** GDELT has no paging cursor: a request returns at most 250 articles of a
time range. A stream's cursor is the end (ISO 8601, UTC) of the last window read completely. A
pass reads from `cursor - overlap` (default 15 minutes: GDELT indexes in 15-minute batches, so an
article seen just before the cursor can appear after it was saved; the re-read is deduplicated by
`post_uid`) or, on a stream's first run, from `now - lookback` (default 24 hours), up to now, in
windows of `window` (default 6 hours), oldest first. A window that returns 250 articles (the cap)
may hold more, so it is split into halves, read oldest half first, down to `max_split_depth`
levels (default 5: 6 h / 32 = about 11 minutes); a window still full at the deepest level is kept
as it is, with a warning (its oldest articles beyond 250 are lost). Every window read completely
is one `Page`, whose cursor is that window's end: a crash after any committed page resumes at the
next window, and nothing is skipped. `max_pages` bounds the requests a stream sends per pass
(splits included), except that a pass always reads down to its first complete window (at most
`max_split_depth + 1` requests), so one dense window cannot stall a stream; what is left is read
on the next passes. GDELT DOC searches the last three months only, so an older cursor is
clamped to that.

**Bodies.** A JSON body is read with `strict=False` (GDELT titles can hold raw control
characters). `{}` (no `articles` key) is a window with no articles, not an error. GDELT answers
errors with HTTP 200 and a `text/html` or plain-text body ("Your query was too short or too
long", "Invalid query"...): such a body is a `BadPage` with the body, that stream stops (its
cursor stays where it was, so the window is tried again next pass) and the other streams go on.
The one exception is the rate-limit text ("Please limit requests to one every 5 seconds"): the
collector waits `rate_limit_wait` (5 s) and repeats the request once; a second refusal raises
`SourceHttpError`, so the run is recorded as failing (a refused source is not a quiet one). An
article without a `url` or a readable `seendate` is a `BadPage` of its own and the page goes on.

**Mapping** (`post_record`): source "gdelt", source_id = url = the article URL, kind "article",
title the headline, text the headline too (GDELT gives no body), created_at from `seendate`
(when GDELT saw it; the publication time is not given), lang a two-letter code for the common
language names GDELT uses ("English" -> "en", "French" -> "fr"...), else the name lower-cased;
author_id = author_handle = author_name = `domain` (GDELT names no author; the outlet is the
nearest thing); followers, engagement, parent and root None; raw the article as received.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.fields import nonempty_text, utc_time, utcnow
from collectors.http import RateLimit, SourceHttp, SourceHttpError, redact_url

__all__ = [
    "GdeltCollector",
    "gdelt_queries",
    "load_cursor",
    "post_record",
]

log = logging.getLogger(__name__)

SOURCE = "gdelt"
DOC_PATH = "/api/v2/doc/doc"
MAX_RECORDS = 250  # GDELT's cap per request
MIN_WORD_CHARS = 3
MAX_QUERY_CHARS = 250
SEARCH_SPAN = timedelta(days=90)  # DOC 2.0 searches a rolling three months
_TIME_FORMAT = "%Y%m%d%H%M%S"
_SEENDATE_FORMAT = "%Y%m%dT%H%M%SZ"
_RATE_LIMIT_TEXT = "limit requests"
_NOT_QUERY_CHARS = re.compile(r"[^\w\s-]|_")

LANGUAGES = {
    "english": "en",
    "french": "fr",
    "spanish": "es",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "russian": "ru",
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "arabic": "ar",
    "hindi": "hi",
    "turkish": "tr",
    "polish": "pl",
    "ukrainian": "uk",
    "swedish": "sv",
    "norwegian": "no",
    "danish": "da",
    "finnish": "fi",
    "greek": "el",
    "hebrew": "he",
    "persian": "fa",
    "vietnamese": "vi",
    "indonesian": "id",
}

Sleep = Callable[[float], Awaitable[None]]


# --- queries -------------------------------------------------------------------------------------


def _term(query: str) -> str | None:
    """One search string as a GDELT term: punctuation out, phrases quoted; None if unusable."""
    words = _NOT_QUERY_CHARS.sub(" ", query).split()
    if not words:
        return None
    if len(words) == 1:
        return words[0] if len(words[0]) >= MIN_WORD_CHARS else None
    return '"' + " ".join(words) + '"'


def gdelt_queries(queries: Iterable[str], max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """The search strings as few `(t1 OR t2 ...)` queries as fit in `max_chars` each."""
    terms: dict[str, str] = {}
    for query in queries:
        term = _term(query)
        if term is None:
            log.warning("gdelt: query %r is too short for GDELT; left out", query)
            continue
        terms.setdefault(term.lower(), term)
    chunks: list[list[str]] = []
    for term in terms.values():
        if chunks and len(" OR ".join([*chunks[-1], term])) + 2 <= max_chars:
            chunks[-1].append(term)
        else:
            chunks.append([term])
    return ["(" + " OR ".join(chunk) + ")" if len(chunk) > 1 else chunk[0] for chunk in chunks]


# --- cursors -------------------------------------------------------------------------------------


def load_cursor(text: str | None) -> datetime | None:
    """The saved window end (aware UTC); None for none or an unreadable one (read afresh)."""
    if not text:
        return None
    when = utc_time(text)
    if when is None:
        log.warning("gdelt: unreadable cursor %r; reading the stream afresh", text)
    return when


# --- mapping -------------------------------------------------------------------------------------


def language_code(name: Any) -> str | None:
    """ "English" -> "en"; a name not in `LANGUAGES` lower-cased; None when there is none."""
    if not isinstance(name, str) or not name.strip():
        return None
    key = name.strip().lower()
    return LANGUAGES.get(key, key)


def post_record(article: Mapping[str, Any]) -> PostRecord:
    """A DOC 2.0 `artlist` article as a Post record; ValueError without url or seendate."""
    url = nonempty_text(article.get("url"))
    if url is None:
        raise ValueError("article has no url")
    seendate = article.get("seendate")
    try:
        created = datetime.strptime(str(seendate), _SEENDATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{url}: seendate is {seendate!r}, not like 20260725T023000Z") from None
    title = nonempty_text(article.get("title"))
    domain = nonempty_text(article.get("domain"))
    return {
        "post_uid": f"{SOURCE}:{url}",
        "source": SOURCE,
        "source_id": url,
        "url": url,
        "kind": "article",
        "author_id": domain,
        "author_handle": domain,
        "author_name": domain,
        "author_followers": None,
        "created_at": created,
        "collected_at": None,
        "lang": language_code(article.get("language")),
        "text": title or "",
        "title": title,
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
        "raw": dict(article),
    }


# --- the collector -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    depth: int


def _gdelt_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime(_TIME_FORMAT)


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class GdeltCollector:
    """GDELT DOC 2.0 article search, by time window; see the module docstring.

    `now` (aware UTC) and `sleep` (the wait after GDELT's rate-limit text) are injectable.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        max_pages: int = 4,
        *,
        window: timedelta = timedelta(hours=6),
        lookback: timedelta = timedelta(hours=24),
        overlap: timedelta = timedelta(minutes=15),
        max_split_depth: int = 5,
        max_query_chars: int = MAX_QUERY_CHARS,
        rate_limit_wait: float = 5.0,
        now: Callable[[], datetime] = utcnow,
        sleep: Sleep = _asyncio_sleep,
    ) -> None:
        if max_pages < 1:
            raise ValueError(f"gdelt: max_pages must be at least 1, not {max_pages}")
        if window < timedelta(seconds=2) or lookback <= timedelta(0):
            raise ValueError("gdelt: window must be at least 2 s and lookback positive")
        if overlap < timedelta(0) or max_split_depth < 0:
            raise ValueError("gdelt: overlap and max_split_depth cannot be negative")
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        self.window = window
        self.lookback = lookback
        self.overlap = overlap
        self.max_split_depth = max_split_depth
        self.max_query_chars = max_query_chars
        self.rate_limit_wait = rate_limit_wait
        self._now = now
        self._sleep = sleep

    def streams(self, query: TopicQuery) -> list[str]:
        """The GDELT queries one pass sends for a topic; each is a stream and its scope."""
        return gdelt_queries(query.all_queries(), self.max_query_chars)

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for gdelt_query in self.streams(query):
            async for page in self._stream(gdelt_query, cursors.get(gdelt_query), http):
                yield page

    async def _stream(
        self, gdelt_query: str, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        now = _whole_seconds(self._now().astimezone(UTC))
        cursor = load_cursor(saved)
        start = now - self.lookback if cursor is None else cursor - self.overlap
        start = _whole_seconds(max(start, now - SEARCH_SPAN))
        requests_left = self.max_pages
        completed = False
        todo: list[_Window] = []  # a stack: the next window to read is last
        while True:
            if not todo:
                if start >= now:
                    return
                todo.append(_Window(start, min(start + self.window, now), 0))
            if requests_left <= 0 and completed:
                return
            window = todo.pop()
            requests_left -= 1
            read = await self._read(gdelt_query, window, http)
            if isinstance(read, BadPage):
                yield read
                return
            articles, url, rate_limit = read
            if len(articles) >= MAX_RECORDS:
                half = _whole_seconds(window.start + (window.end - window.start) / 2)
                if window.depth < self.max_split_depth and window.start < half < window.end:
                    todo.append(_Window(half, window.end, window.depth + 1))
                    todo.append(_Window(window.start, half, window.depth + 1))
                    continue
                log.warning(
                    "gdelt: %s to %s still holds %d articles after %d splits; older ones are lost",
                    window.start.isoformat(),
                    window.end.isoformat(),
                    len(articles),
                    window.depth,
                )
            posts: list[PostRecord] = []
            for article in articles:
                try:
                    if not isinstance(article, dict):
                        raise ValueError("article is not an object")
                    posts.append(post_record(article))
                except ValueError as exc:
                    yield BadPage(
                        f"unreadable article: {exc}", json.dumps(article), gdelt_query, url
                    )
            completed = True
            start = window.end
            yield Page(posts, window.end.isoformat(), gdelt_query, url, rate_limit)

    async def _read(
        self, gdelt_query: str, window: _Window, http: SourceHttp
    ) -> tuple[list[Any], str, RateLimit | None] | BadPage:
        params = {
            "query": gdelt_query,
            "mode": "artlist",
            "format": "json",
            "maxrecords": str(MAX_RECORDS),
            "startdatetime": _gdelt_time(window.start),
            "enddatetime": _gdelt_time(window.end),
            "sort": "datedesc",
        }
        response = await http.get(self.base_url + DOC_PATH, params=params)
        if _rate_limited(response):
            log.info("gdelt: asked to slow down; trying once more in %.0f s", self.rate_limit_wait)
            await self._sleep(self.rate_limit_wait)
            response = await http.get(self.base_url + DOC_PATH, params=params)
            if _rate_limited(response):
                raise SourceHttpError(
                    SOURCE,
                    "GET",
                    redact_url(response.url),
                    tries=2,
                    status=response.status_code,
                    reason=f"rate-limited: {response.text.strip()[:200]}",
                    response=response,
                )
        url = redact_url(response.url)
        try:
            body = json.loads(response.text, strict=False)
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
            articles = body.get("articles", [])
            if not isinstance(articles, list):
                raise ValueError("articles is not a list")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            kind = response.headers.get("content-type", "no content-type")
            error = f"not a GDELT article list (HTTP {response.status_code}, {kind}): {exc}"
            text = response.text.strip()
            if text and not text.startswith(("{", "[", "<")):
                error += f": {text[:200]}"
            return BadPage(error, response.text, gdelt_query, url)
        return articles, url, http.rate_limits.get(response.url.host)


def _rate_limited(response: httpx.Response) -> bool:
    """GDELT's "Please limit requests to one every 5 seconds", sent as text with HTTP 200."""
    text = response.text
    return (
        len(text) < 2000 and not text.lstrip().startswith("{") and _RATE_LIMIT_TEXT in text.lower()
    )
