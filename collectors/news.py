"""News: Google News RSS searches per edition, and any configured RSS 2.0 or Atom feed.

**Streams.** For each configured Google News edition (`"en-CA"`, `"fr-CA"`: language-REGION),
one search per query *of that edition's language* (`TopicQuery.queries["en"]` for `"en-CA"`;
an edition whose language has no queries sends nothing):
`GET {base_url}/rss/search?q=<query> when:7d&hl=en-CA&gl=CA&ceid=CA:en`, scope
`google/<edition>/<query>`. Then each configured feed URL, scope `feed/<url>`; all of a feed's
items are yielded, the runner keeps those that match the topic. Each stream is one request and one
`Page` (RSS has no paging); streams run one after another. Redirects (a feed moved to https, to a
new path) are followed, at most `MAX_REDIRECTS`, since the run's client does not follow them.

**Cursors** (one per stream; JSON, `NewsCursor`): `etag` and `last_modified`, the response's
`ETag` and `Last-Modified` as sent, returned on the next pass as `If-None-Match` and
`If-Modified-Since`; and `newest`, the latest item date the stream has served (ISO 8601, UTC).
A 304 is a `Page` with no posts and the saved cursor (validators a 304 carries replace the saved
ones, as RFC 9110 asks). `newest` is a record, not a filter: every item of every 200 is yielded,
also those dated before it, because feeds re-serve, reorder and backdate items (Google News adds
week-old articles to a search as they are indexed) and the warehouse dedups on `post_uid`; so
nothing served is skipped, and `newest` shows how fresh a stream is (a stream whose `newest` stops
moving is worth a look). A stream with no validators and no items has cursor None.

**Pages.** A body that is not XML (an HTML consent or error page served with 200), or XML that is
neither RSS 2.0 (`<rss><channel>`) nor Atom (`<feed>` in the Atom namespace), is a `BadPage` with
the body; that stream stops and its cursor is not saved, so the next pass fetches it whole. A
Google News request that fails (`SourceHttpError`: 429 or 5xx after retries, a 403) is raised and
the run is recorded as failing; a configured feed that fails (gone, 404, its host down) is a
`BadPage`: one dead site is not the news source failing. Entity declarations are not expanded
beyond what expat (2.4.1 and later) allows, and external entities are never fetched.

**Items without a date** are each a `BadPage` of their own (the item's XML as payload), and the
page goes on with the others. `created_at` is what spread over time is measured on: the feed's own
date (its build time) would put an old article at today and fake a burst, so an undated item is
quarantined for a person to look at rather than given a made-up date. Likewise an item with
neither guid/id nor link (nothing to key it on).

**Mapping** (`item_record`): source "news"; source_id the RSS `guid` (Atom `id`) when it is a
global identifier (Google News streams, whose guids are Google's article ids; a guid with a URI
scheme; Atom ids, IRIs by definition), else the item's `link` (a feed's bare guid like "1234"
would collide across feeds), else `<feed url>#<guid>`; url the `link` (Atom: the alternate
`link`'s href), kept as served: Google News links are news.google.com redirects; kind "article";
title the `title`, with the trailing " - Outlet" that Google News adds removed when the item's
`<source>` names that outlet; author_* is the *outlet*, never the byline: the item's
`<source url=...>` (author_name its text, author_id its url, author_handle the url's host without
"www."), else the feed itself (its title, and its site link or, failing that, its own URL); a
byline (`author`, `dc:creator`, Atom `author`) stays in raw. text `html_to_text(description)`
(or `content:encoded`); Atom: `summary`, else `content` (by its `type`: text as is, html through
`html_to_text`, xhtml its text). created_at (aware UTC) from `pubDate` (RFC 822) or `dc:date`;
Atom `published`, else `updated`. lang the primary subtag, lower case: the edition's language for
Google News, else the item's or the feed's `xml:lang`, `language` or `dc:language`; None if none.
Engagement, followers, parent/root and collected_at None. raw a dict of the item's elements:
tag (Atom's own names bare, other namespaced ones as `prefix:name`, e.g. `dc:creator`,
`media:content`) -> its text as served, or, for an element with attributes or children, a dict of
`@attribute` -> value, `#text` -> text and child tags; a repeated tag -> a list (text mixed with
child elements, as in Atom xhtml content, keeps only the leading text). Google's
`<source url="https://www.cbc.ca">CBC News</source>` is
`raw["source"] == {"@url": "https://www.cbc.ca", "#text": "CBC News"}`.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from collectors.base import BadPage, Page, PostRecord, TopicQuery
from collectors.fields import as_utc, utc_time
from collectors.http import SourceHttp, SourceHttpError, redact_url
from collectors.text import html_to_text

__all__ = [
    "NewsCollector",
    "NewsCursor",
    "NewsFeed",
    "item_record",
    "parse_feed",
]

log = logging.getLogger(__name__)

SOURCE = "news"
SEARCH_PATH = "/rss/search"
WINDOW = " when:7d"
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_EDITION = re.compile(r"([a-z]{2,3})-([A-Z]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")

ATOM = "http://www.w3.org/2005/Atom"
_PREFIXES = {
    ATOM: "atom",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.w3.org/XML/1998/namespace": "xml",
}
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_A = "{" + ATOM + "}"


# --- cursors -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsCursor:
    """A stream's validators for conditional GET, and the newest item date it has served."""

    etag: str | None = None
    last_modified: str | None = None
    newest: datetime | None = None

    def dump(self) -> str | None:
        if self.etag is None and self.last_modified is None and self.newest is None:
            return None
        state = {
            "etag": self.etag,
            "last_modified": self.last_modified,
            "newest": None if self.newest is None else self.newest.isoformat(),
        }
        return json.dumps(state, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None) -> NewsCursor:
        """The saved state; anything unreadable starts afresh (an unconditional GET is safe)."""
        if not text:
            return cls()
        try:
            state = json.loads(text)
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
            etag, modified, newest = (
                state.get("etag"),
                state.get("last_modified"),
                state.get("newest"),
            )
            for name, value in (("etag", etag), ("last_modified", modified), ("newest", newest)):
                if not (value is None or isinstance(value, str)):
                    raise ValueError(f"{name} is not a string")
            when = None if newest is None else _iso_date(newest)
        except ValueError as exc:
            log.warning("news: unreadable cursor %r (%s); fetching the stream afresh", text, exc)
            return cls()
        return cls(etag or None, modified or None, when)

    def headers(self) -> dict[str, str]:
        """The conditional request headers this state allows."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


# --- parsing -------------------------------------------------------------------------------------


@dataclass
class NewsFeed:
    """A parsed RSS channel or Atom feed: what its items need from it, and the items."""

    format: str  # "rss" or "atom"
    title: str | None
    site: str | None  # the channel's link (Atom: the alternate link), absolute
    lang: str | None
    items: list[ET.Element] = field(default_factory=list)


def parse_feed(body: bytes, url: str = "") -> NewsFeed:
    """The feed in `body` (fetched from `url`); raises ValueError when it is not XML, or is
    neither RSS 2.0 nor Atom."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise ValueError("an <rss> document without a <channel>")
        link = _text(channel.find("link"))
        return NewsFeed(
            "rss",
            title=_text(channel.find("title")),
            site=urljoin(url, link) if link else None,
            lang=_lang(
                channel.get(_XML_LANG)
                or _text(channel.find("language"))
                or _text(channel.find(_DC + "language"))
            ),
            items=channel.findall("item"),
        )
    if root.tag == _A + "feed":
        return NewsFeed(
            "atom",
            title=_text(root.find(_A + "title")),
            site=_atom_link(root, url),
            lang=_lang(root.get(_XML_LANG)),
            items=root.findall(_A + "entry"),
        )
    raise ValueError(f"neither RSS nor Atom: the root element is <{_name(root.tag)}>")


def _text(element: ET.Element | None) -> str | None:
    """The element's text, stripped; None when it is missing or empty."""
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _lang(value: str | None) -> str | None:
    """The primary language subtag, lower case: "en-CA" -> "en"."""
    if not value or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-", 1)[0].lower() or None


def _atom_link(element: ET.Element, base: str) -> str | None:
    """The href of the element's alternate link (rel absent or "alternate"), HTML first."""
    links = [
        link
        for link in element.findall(_A + "link")
        if link.get("rel", "alternate") == "alternate" and link.get("href")
    ]
    links.sort(key=lambda link: link.get("type", "text/html") != "text/html")
    return urljoin(base, links[0].get("href", "")) if links else None


def _rfc822_date(value: str) -> datetime:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"unreadable date {value!r}") from None
    return as_utc(when)


def _iso_date(value: str) -> datetime:
    when = utc_time(value)
    if when is None:
        raise ValueError(f"unreadable date {value!r}")
    return when


def _name(tag: str, default: str | None = None) -> str:
    """`{namespace}local` as `prefix:local` for the usual namespaces, as `local` in the
    `default` namespace (Atom's, in an Atom entry); other names unchanged."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if namespace == default:
            return local
        prefix = _PREFIXES.get(namespace)
        return f"{prefix}:{local}" if prefix else tag
    return tag


def element_dict(element: ET.Element, default: str | None = None) -> dict[str, Any]:
    """The element's children as `raw` holds them (see the module docstring); names in the
    `default` namespace lose it."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        key, value = _name(child.tag, default), _element_value(child, default)
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def _element_value(element: ET.Element, default: str | None) -> Any:
    text = element.text or ""
    if not element.attrib and len(element) == 0:
        return text
    value: dict[str, Any] = {f"@{_name(k)}": v for k, v in element.attrib.items()}
    if text.strip() or len(element) == 0:
        value["#text"] = text
    value |= element_dict(element, default)
    return value


# --- mapping -------------------------------------------------------------------------------------


def item_record(
    item: ET.Element,
    feed: NewsFeed,
    *,
    feed_url: str,
    lang: str | None = None,
    google: bool = False,
) -> PostRecord:
    """An RSS `<item>` or Atom `<entry>` of `feed` as a Post record; `lang` overrides the
    feed's (a Google News edition's language); `google` marks Google News items.

    Raises ValueError when it has no readable date, or neither an id nor a link.
    """
    title: str | None
    if feed.format == "atom":
        guid, link = _text(item.find(_A + "id")), _atom_link(item, feed_url)
        title = _atom_text(item.find(_A + "title")) or None
        summary = item.find(_A + "summary")
        text = _atom_text(summary if summary is not None else item.find(_A + "content"))
        date = _text(item.find(_A + "published")) or _text(item.find(_A + "updated"))
        created_at = _iso_date(date) if date else None
        item_lang = item.get(_XML_LANG)
        global_id = guid is not None
    else:
        guid, link = _text(item.find("guid")), _text(item.find("link"))
        link = urljoin(feed_url, link) if link else None
        title = _text(item.find("title"))
        description = item.findtext("description") or item.findtext(_CONTENT + "encoded")
        text = html_to_text(description)
        created_at = None
        if (pub_date := _text(item.find("pubDate"))) is not None:
            created_at = _rfc822_date(pub_date)
        elif (dc_date := _text(item.find(_DC + "date"))) is not None:
            created_at = _iso_date(dc_date)
        item_lang = item.get(_XML_LANG) or _text(item.find(_DC + "language"))
        global_id = guid is not None and (google or _SCHEME.match(guid) is not None)
    if created_at is None:
        raise ValueError(f"item {guid or link or title!r} has no date")
    if global_id:
        source_id = guid
    elif link:
        source_id = link
    elif guid:
        source_id = f"{feed_url}#{guid}"
    else:
        raise ValueError(f"item {title!r} has neither an id nor a link")

    outlet = item.find("source") if feed.format == "rss" else None
    outlet_name = _text(outlet)
    outlet_url = outlet.get("url") if outlet is not None else None
    if outlet_name and title and title.endswith(f" - {outlet_name}"):
        title = title[: -len(f" - {outlet_name}")].rstrip()
    if outlet_name is None and outlet_url is None:
        outlet_name, outlet_url = feed.title, feed.site or feed_url
    return {
        "post_uid": f"{SOURCE}:{source_id}",
        "source": SOURCE,
        "source_id": source_id,
        "url": link,
        "kind": "article",
        "author_id": outlet_url or None,
        "author_handle": _domain(outlet_url),
        "author_name": outlet_name,
        "author_followers": None,
        "created_at": created_at,
        "collected_at": None,
        "lang": lang or _lang(item_lang) or feed.lang,
        "text": text,
        "title": title,
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
        "raw": element_dict(item, ATOM if feed.format == "atom" else None),
    }


def _atom_text(element: ET.Element | None) -> str:
    """An Atom text construct as plain text, by its `type` (text, html or xhtml)."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        return "\n".join(
            line.strip() for line in "".join(element.itertext()).splitlines() if line.strip()
        )
    if kind == "html":
        return html_to_text(element.text)
    return (element.text or "").strip()


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        return None
    return host.removeprefix("www.") or None


# --- the collector -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stream:
    scope: str
    url: str
    params: dict[str, str] | None
    lang: str | None  # a Google News edition's language; None for a feed
    google: bool


class NewsCollector:
    """Google News RSS searches per edition, and configured feeds; see the module docstring."""

    source = SOURCE

    def __init__(self, base_url: str, editions: list[str], feeds: list[str]) -> None:
        for edition in editions:
            if not _EDITION.fullmatch(edition):
                raise ValueError(f'news: edition {edition!r} is not like "en-CA"')
        self.base_url = base_url.rstrip("/")
        self.editions = list(dict.fromkeys(editions))
        self.feeds = list(dict.fromkeys(feeds))

    def streams(self, query: TopicQuery) -> list[_Stream]:
        """The requests one pass sends for a topic, in order."""
        streams = []
        for edition in self.editions:
            lang, region = edition.split("-")
            for q in dict.fromkeys(q for q in query.queries.get(lang, []) if q.strip()):
                params = {"q": q + WINDOW, "hl": edition, "gl": region, "ceid": f"{region}:{lang}"}
                streams.append(
                    _Stream(
                        f"google/{edition}/{q}", self.base_url + SEARCH_PATH, params, lang, True
                    )
                )
        streams += [_Stream(f"feed/{url}", url, None, None, False) for url in self.feeds]
        return streams

    async def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        for stream in self.streams(query):
            async for page in self._stream(stream, cursors.get(stream.scope), http):
                yield page

    async def _stream(
        self, stream: _Stream, saved: str | None, http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]:
        state = NewsCursor.load(saved)
        try:
            response = await self._get(stream, state.headers(), http)
        except SourceHttpError as exc:
            if stream.google:
                raise
            body = exc.response.text if exc.response is not None else ""
            yield BadPage(str(exc), body, stream.scope, exc.url)
            return
        url = redact_url(response.url)
        rate_limit = http.rate_limits.get(response.url.host)
        if response.status_code == 304:
            etag = response.headers.get("etag") or state.etag
            modified = response.headers.get("last-modified") or state.last_modified
            kept = NewsCursor(etag, modified, state.newest)
            cursor = saved if kept == state else kept.dump()
            yield Page([], cursor, stream.scope, url, rate_limit)
            return
        try:
            feed = parse_feed(response.content, str(response.url))
        except ValueError as exc:
            kind = response.headers.get("content-type", "no content-type")
            error = f"not an RSS or Atom feed (HTTP {response.status_code}, {kind}): {exc}"
            yield BadPage(error, response.text, stream.scope, url)
            return
        posts: list[PostRecord] = []
        for item in feed.items:
            try:
                posts.append(
                    item_record(
                        item,
                        feed,
                        feed_url=str(response.url),
                        lang=stream.lang,
                        google=stream.google,
                    )
                )
            except ValueError as exc:
                payload = ET.tostring(item, encoding="unicode")
                yield BadPage(f"unreadable item: {exc}", payload, stream.scope, url)
        newest = max(
            [p["created_at"] for p in posts] + ([state.newest] if state.newest else []),
            default=None,
        )
        # Validators come from this 200 only: stale ones would make the next 304 lie.
        fresh = NewsCursor(
            response.headers.get("etag"), response.headers.get("last-modified"), newest
        )
        yield Page(posts, fresh.dump(), stream.scope, url, rate_limit)

    @staticmethod
    async def _get(stream: _Stream, headers: dict[str, str], http: SourceHttp) -> httpx.Response:
        """GET the stream, following redirects; the last response if they run past the limit."""
        url, params = stream.url, stream.params
        response = await http.get(url, params=params, headers=headers)
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                break
            url, params = str(response.url.join(location)), None
            response = await http.get(url, headers=headers)
        return response
