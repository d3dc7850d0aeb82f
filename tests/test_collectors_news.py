"""News collector: Google News RSS and Atom mapping, editions, conditional GET, unreadable bodies.

Every test goes through `httpx.MockTransport`; `SourceHttp` sleeps on a no-op, so nothing waits.
The feeds under fixtures/news/ are built from the documented formats, not recorded (see README).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from collector_harness import SourceRunner

from collectors.base import BadPage, Page, TopicQuery
from collectors.http import SourceHttpError
from collectors.news import NewsCollector, NewsCursor

FIXTURES = Path(__file__).parent / "fixtures" / "news"
GOOGLE_RSS = (FIXTURES / "google_news_en_ca.xml").read_bytes()
ATOM = (FIXTURES / "atom_feed.xml").read_bytes()

BASE = "https://news.google.com"
FEED = "https://example.org/feed.atom"
RSS_XML = {"content-type": "application/rss+xml; charset=UTF-8"}
QUERY = TopicQuery(
    "ice-canada",
    {"en": ["ICE stations Canada", "HSI Canada"], "fr": ["ICE au Canada"]},
)


collect = SourceRunner("news", QUERY)


def rss(*items: str, channel: str = "") -> bytes:
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{channel}'
    return (body + "".join(items) + "</channel></rss>").encode()


def item(guid: str, date: str | None = "Fri, 30 Jan 2026 12:00:00 GMT", extra: str = "") -> str:
    when = f"<pubDate>{date}</pubDate>" if date else ""
    return f"<item><title>{guid}</title><guid>{guid}</guid>{when}{extra}</item>"


# --- mapping -------------------------------------------------------------------------------------


def test_a_google_news_item_maps_field_by_field() -> None:
    collector = NewsCollector(BASE, ["en-CA"], [])
    query = TopicQuery("ice-canada", {"en": ["ICE stations Canada"]})
    pages, _ = collect(
        lambda r: httpx.Response(200, content=GOOGLE_RSS, headers=RSS_XML), collector, query
    )

    [page] = pages
    assert isinstance(page, Page)
    first, second = page.posts
    assert {k: v for k, v in first.items() if k != "raw"} == {
        "post_uid": "news:CBMiTEST0001",
        "source": "news",
        "source_id": "CBMiTEST0001",
        "url": "https://news.google.com/rss/articles/CBMiTEST0001?oc=5",
        "kind": "article",
        "author_id": "https://www.cbc.ca",
        "author_handle": "cbc.ca",
        "author_name": "CBC News",
        "author_followers": None,
        "created_at": datetime(2026, 1, 30, 21, 15, tzinfo=UTC),
        "collected_at": None,
        "lang": "en",
        "text": "U.S. Embassy says there are no \u201cICE stations\u201d in Canada\xa0\xa0CBC News",
        "title": "U.S. Embassy says there are no \u201cICE stations\u201d in Canada",
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
    }
    assert first["raw"]["source"] == {"@url": "https://www.cbc.ca", "#text": "CBC News"}
    assert first["raw"]["guid"] == {"@isPermaLink": "false", "#text": "CBMiTEST0001"}
    assert first["raw"]["title"].endswith("in Canada - CBC News")  # raw is as served
    assert first["raw"]["description"].startswith('<a href="https://news.google.com/rss/')
    json.dumps(first["raw"])  # raw is JSON

    # Only the trailing " - Outlet" goes; a dash inside the headline stays. <li> become lines.
    assert second["title"] == "Calgary - HSI agents at consulate carry no firearms, ICE says"
    assert second["created_at"] == datetime(2026, 1, 31, 14, 30, tzinfo=UTC)  # -0500 to UTC
    assert second["text"].splitlines() == [
        "Calgary - HSI agents at consulate carry no firearms, ICE says\xa0\xa0Global News",
        "\u2018Five ICE stations\u2019 post misleads, experts say\xa0\xa0Daily Hive",
    ]
    assert (second["author_handle"], second["author_id"]) == (
        "globalnews.ca",
        "https://globalnews.ca",
    )
    assert page.scope == "google/en-CA/ICE stations Canada"
    assert page.cursor == json.dumps(
        {"etag": None, "last_modified": None, "newest": "2026-01-31T14:30:00+00:00"},
        separators=(",", ":"),
    )


def test_an_atom_feed_maps() -> None:
    collector = NewsCollector(BASE, [], [FEED])
    headers = {"content-type": "application/atom+xml"}
    pages, _ = collect(lambda r: httpx.Response(200, content=ATOM, headers=headers), collector)

    [page] = pages
    assert isinstance(page, Page)
    assert page.scope == f"feed/{FEED}"
    first, second = page.posts
    assert {k: first[k] for k in first if k != "raw"} == {
        "post_uid": "news:tag:example.org,2026:ice-canada",
        "source": "news",
        "source_id": "tag:example.org,2026:ice-canada",
        "url": "https://www.example.org/2026/01/ice-canada",
        "kind": "article",
        "author_id": "https://www.example.org/",
        "author_handle": "example.org",
        "author_name": "Le Fil Info",
        "author_followers": None,
        "created_at": datetime(2026, 1, 30, 23, 5, tzinfo=UTC),  # published, not updated
        "collected_at": None,
        "lang": "fr",
        "text": "L\u2019ambassade des \u00c9tats-Unis \u00e0 Ottawa a corrig\u00e9 les "
        "sp\u00e9culations.\nAucune arrestation.",
        "title": "Des \u00ab stations de l\u2019ICE \u00bb au Canada? L\u2019ambassade d\u00e9ment",
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
    }
    assert first["raw"]["author"] == {"name": "Marie Tremblay"}
    assert first["raw"]["published"] == "2026-01-30T18:05:00-05:00"
    # No published: updated. A relative link resolves against the feed. The entry's xml:lang wins.
    assert second["created_at"] == datetime(2026, 1, 29, 10, tzinfo=UTC)
    assert second["url"] == "https://example.org/2026/01/hsi-facts"
    assert (second["lang"], second["text"]) == ("en", "Five posts, no arrests.")


def test_a_plain_rss_feed_keys_on_link_when_its_guid_is_not_global() -> None:
    body = rss(
        item("1234", extra="<link>https://blog.example/p/1234</link><dc:creator>A</dc:creator>"),
        channel="<link>https://blog.example/</link><language>en-us</language>",
    ).replace(b'version="2.0"', b'version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"')
    pages, _ = collect(
        lambda r: httpx.Response(200, content=body),
        NewsCollector(BASE, [], ["https://blog.example/rss"]),
    )
    [page] = pages
    assert isinstance(page, Page)
    [post] = page.posts
    assert post["source_id"] == "https://blog.example/p/1234"
    assert (post["author_name"], post["author_handle"], post["lang"]) == ("T", "blog.example", "en")
    assert post["title"] == "1234"
    assert post["raw"]["dc:creator"] == "A"


def test_an_item_without_a_date_is_a_bad_page_and_the_others_are_kept() -> None:
    body = rss(item("https://a.example/1"), item("https://a.example/2", date=None))
    pages, _ = collect(lambda r: httpx.Response(200, content=body), NewsCollector(BASE, [], [FEED]))
    bad, page = pages
    assert isinstance(bad, BadPage) and isinstance(page, Page)
    assert "has no date" in bad.error
    assert bad.payload.startswith("<item><title>https://a.example/2</title>")
    assert [p["source_id"] for p in page.posts] == ["https://a.example/1"]


# --- streams -------------------------------------------------------------------------------------


def test_each_edition_sends_its_own_languages_queries() -> None:
    collector = NewsCollector(BASE, ["en-CA", "fr-CA"], [])
    pages, requests = collect(lambda r: httpx.Response(200, content=rss()), collector)

    sent = [
        (
            r.url.path,
            r.url.params["q"],
            r.url.params["hl"],
            r.url.params["gl"],
            r.url.params["ceid"],
        )
        for r in requests
    ]
    assert sent == [
        ("/rss/search", "ICE stations Canada when:7d", "en-CA", "CA", "CA:en"),
        ("/rss/search", "HSI Canada when:7d", "en-CA", "CA", "CA:en"),
        ("/rss/search", "ICE au Canada when:7d", "fr-CA", "CA", "CA:fr"),
    ]
    assert [p.scope for p in pages] == [
        "google/en-CA/ICE stations Canada",
        "google/en-CA/HSI Canada",
        "google/fr-CA/ICE au Canada",
    ]
    assert all(isinstance(p, Page) and p.cursor is None for p in pages)


def test_an_edition_without_queries_in_its_language_sends_nothing() -> None:
    collector = NewsCollector(BASE, ["fr-CA"], [])
    query = TopicQuery("t", {"en": ["ICE stations Canada"]})
    pages, requests = collect(lambda r: httpx.Response(200, content=rss()), collector, query)
    assert (pages, requests) == ([], [])


def test_a_bad_edition_is_refused() -> None:
    with pytest.raises(ValueError, match="en_CA"):
        NewsCollector(BASE, ["en_CA"], [])


# --- conditional GET -----------------------------------------------------------------------------


def test_the_cursor_keeps_the_validators_and_the_newest_date() -> None:
    headers = {"ETag": 'W/"abc"', "Last-Modified": "Fri, 30 Jan 2026 22:00:00 GMT"}
    body = rss(
        item("https://a.example/1"), item("https://a.example/2", "Sat, 31 Jan 2026 01:00:00 GMT")
    )
    pages, requests = collect(
        lambda r: httpx.Response(200, content=body, headers=headers),
        NewsCollector(BASE, [], [FEED]),
    )
    [page] = pages
    assert isinstance(page, Page)
    assert "if-none-match" not in requests[0].headers
    assert NewsCursor.load(page.cursor) == NewsCursor(
        'W/"abc"', "Fri, 30 Jan 2026 22:00:00 GMT", datetime(2026, 1, 31, 1, tzinfo=UTC)
    )


def test_a_saved_cursor_is_sent_back_and_a_304_yields_no_posts_and_the_same_cursor() -> None:
    saved = NewsCursor(
        '"v1"', "Fri, 30 Jan 2026 22:00:00 GMT", datetime(2026, 1, 30, 21, tzinfo=UTC)
    ).dump()
    pages, requests = collect(
        lambda r: httpx.Response(304),
        NewsCollector(BASE, ["en-CA"], [FEED]),
        TopicQuery("t", {"en": ["ICE stations Canada"]}),
        {"google/en-CA/ICE stations Canada": saved, f"feed/{FEED}": saved},
    )
    assert [(r.headers["if-none-match"], r.headers["if-modified-since"]) for r in requests] == [
        ('"v1"', "Fri, 30 Jan 2026 22:00:00 GMT")
    ] * 2
    assert [(type(p), p.posts, p.cursor) for p in pages if isinstance(p, Page)] == [
        (Page, [], saved),
        (Page, [], saved),
    ]
    assert len(pages) == 2


def test_re_served_older_items_are_still_yielded() -> None:
    saved = NewsCursor('"v1"', None, datetime(2026, 2, 1, tzinfo=UTC)).dump()
    body = rss(item("https://a.example/old", "Thu, 29 Jan 2026 12:00:00 GMT"))
    pages, _ = collect(
        lambda r: httpx.Response(200, content=body, headers={"ETag": '"v2"'}),
        NewsCollector(BASE, [], [FEED]),
        cursors={f"feed/{FEED}": saved},
    )
    [page] = pages
    assert isinstance(page, Page)
    assert [p["source_id"] for p in page.posts] == ["https://a.example/old"]
    assert NewsCursor.load(page.cursor) == NewsCursor(
        '"v2"', None, datetime(2026, 2, 1, tzinfo=UTC)
    )


def test_an_unreadable_cursor_fetches_afresh() -> None:
    assert NewsCursor.load("{not json") == NewsCursor()
    assert NewsCursor.load('{"etag": 5}') == NewsCursor()
    assert NewsCursor().dump() is None


# --- unreadable bodies ---------------------------------------------------------------------------


def test_malformed_xml_is_a_bad_page_and_the_other_streams_go_on() -> None:
    broken = b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</channel>'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("q") == "ICE stations Canada when:7d":
            return httpx.Response(200, content=broken, headers=RSS_XML)
        return httpx.Response(200, content=rss(item("https://a.example/1")))

    pages, requests = collect(handler, NewsCollector(BASE, ["en-CA"], [FEED]))
    bad, second, feed = pages
    assert isinstance(bad, BadPage)
    assert bad.error.startswith("not an RSS or Atom feed (HTTP 200, application/rss+xml")
    assert "not XML: mismatched tag" in bad.error
    assert bad.payload == broken.decode()
    assert bad.scope == "google/en-CA/ICE stations Canada"
    assert isinstance(second, Page) and second.scope == "google/en-CA/HSI Canada"
    assert isinstance(feed, Page) and [p["source_id"] for p in feed.posts] == [
        "https://a.example/1"
    ]
    assert len(requests) == 3


def test_html_served_with_200_is_a_bad_page() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>Before you continue</title></head>"
        "<body>Consent<br></body></html>"
    )
    pages, _ = collect(
        lambda r: httpx.Response(200, text=html, headers={"content-type": "text/html"}),
        NewsCollector(BASE, [], [FEED]),
    )
    [bad] = pages
    assert isinstance(bad, BadPage)
    assert bad.error.startswith("not an RSS or Atom feed (HTTP 200, text/html")
    assert bad.payload == html


def test_well_formed_xml_that_is_no_feed_is_a_bad_page() -> None:
    body = b'<html xmlns="http://www.w3.org/1999/xhtml"><body>hi</body></html>'
    pages, _ = collect(lambda r: httpx.Response(200, content=body), NewsCollector(BASE, [], [FEED]))
    [bad] = pages
    assert isinstance(bad, BadPage)
    assert (
        "neither RSS nor Atom: the root element is <{http://www.w3.org/1999/xhtml}html>"
        in bad.error
    )


# --- HTTP ----------------------------------------------------------------------------------------


def test_a_dead_feed_is_a_bad_page_but_a_failing_google_news_is_raised() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="gone")

    pages, _ = collect(handler, NewsCollector(BASE, [], [FEED, "https://b.example/rss"]))
    assert [(type(p), p.scope) for p in pages] == [
        (BadPage, f"feed/{FEED}"),
        (BadPage, "feed/https://b.example/rss"),
    ]
    assert isinstance(pages[0], BadPage) and pages[0].payload == "gone"
    with pytest.raises(SourceHttpError):
        collect(handler, NewsCollector(BASE, ["en-CA"], []))


def test_a_moved_feed_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.example":
            return httpx.Response(301, headers={"Location": "https://new.example/feed"})
        return httpx.Response(200, content=rss(item("https://new.example/1")))

    pages, requests = collect(handler, NewsCollector(BASE, [], ["http://old.example/rss"]))
    [page] = pages
    assert isinstance(page, Page) and len(page.posts) == 1
    assert page.url == "https://new.example/feed"
    assert [str(r.url) for r in requests] == ["http://old.example/rss", "https://new.example/feed"]
