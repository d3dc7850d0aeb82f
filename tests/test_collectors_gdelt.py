"""GDELT collector: article mapping, queries, time windows and their splitting, error bodies.

Bodies follow the DOC 2.0 `artlist` shape in SOURCES.md; every test goes through
`httpx.MockTransport`, and `SourceHttp` and the collector sleep on a no-op.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from collector_harness import SourceRunner, no_sleep, only_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.gdelt import GdeltCollector, gdelt_queries, load_cursor
from collectors.http import SourceHttpError

BASE = "https://api.gdeltproject.org"
NOW = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
ONE_QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"]})


def collector(**options: Any) -> GdeltCollector:
    options.setdefault("window", timedelta(hours=6))
    options.setdefault("lookback", timedelta(hours=6))
    return GdeltCollector(BASE, now=lambda: NOW, sleep=no_sleep, **options)


collect = SourceRunner("gdelt", ONE_QUERY)


def article(n: int, seendate: str = "20260130T093000Z", **fields: Any) -> dict[str, Any]:
    return {
        "url": f"https://www.cbc.ca/news/politics/ice-{n}",
        "url_mobile": "",
        "title": f"ICE in Canada, story {n}",
        "seendate": seendate,
        "socialimage": "",
        "domain": "cbc.ca",
        "language": "English",
        "sourcecountry": "Canada",
        **fields,
    }


def window_of(request: httpx.Request) -> tuple[str, str]:
    return request.url.params["startdatetime"], request.url.params["enddatetime"]


# --- mapping and the request ---------------------------------------------------------------------


def test_an_article_maps_to_a_post_record_and_the_request_is_a_windowed_artlist() -> None:
    body = {
        "articles": [
            article(1),
            article(2, language="French", title="L'ICE au Canada", domain="lapresse.ca"),
            article(3, language="Tagalog"),
        ]
    }
    pages, requests = collect(lambda r: httpx.Response(200, json=body), collector())

    [page] = only_pages(pages)
    first, second, third = page.posts
    assert first == {
        "post_uid": "gdelt:https://www.cbc.ca/news/politics/ice-1",
        "source": "gdelt",
        "source_id": "https://www.cbc.ca/news/politics/ice-1",
        "url": "https://www.cbc.ca/news/politics/ice-1",
        "kind": "article",
        "author_id": "cbc.ca",
        "author_handle": "cbc.ca",
        "author_name": "cbc.ca",
        "author_followers": None,
        "created_at": datetime(2026, 1, 30, 9, 30, tzinfo=UTC),
        "collected_at": None,
        "lang": "en",
        "text": "ICE in Canada, story 1",
        "title": "ICE in Canada, story 1",
        "parent_uid": None,
        "root_uid": None,
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
        "raw": article(1),
    }
    assert (second["lang"], second["text"], second["author_handle"]) == (
        "fr",
        "L'ICE au Canada",
        "lapresse.ca",
    )
    assert third["lang"] == "tagalog"
    assert page.cursor == "2026-01-30T12:00:00+00:00"
    assert page.scope == '"ICE stations Canada"'

    [request] = requests
    assert request.url.path == "/api/v2/doc/doc"
    assert dict(request.url.params) == {
        "query": '"ICE stations Canada"',
        "mode": "artlist",
        "format": "json",
        "maxrecords": "250",
        "startdatetime": "20260130060000",
        "enddatetime": "20260130120000",
        "sort": "datedesc",
    }


def test_queries_are_quoted_cleaned_deduplicated_and_or_grouped() -> None:
    queries = ["ICE stations Canada", "bureaux de l'ICE", "ICE", "ice stations  canada", "UN"]
    assert gdelt_queries(queries) == ['("ICE stations Canada" OR "bureaux de l ICE" OR ICE)']
    assert gdelt_queries(["HSI Canada"]) == ['"HSI Canada"']
    assert gdelt_queries(["ICE stations Canada", "HSI Canada", "ICE Canada"], max_chars=40) == [
        '("ICE stations Canada" OR "HSI Canada")',
        '"ICE Canada"',
    ]


def test_an_article_without_a_seendate_is_a_bad_page_and_the_others_are_kept() -> None:
    body = {"articles": [article(1), article(2, seendate="yesterday")]}
    pages, _ = collect(lambda r: httpx.Response(200, json=body), collector())

    bad, page = pages
    assert isinstance(bad, BadPage) and "seendate" in bad.error
    assert isinstance(page, Page)
    assert [p["source_id"] for p in page.posts] == ["https://www.cbc.ca/news/politics/ice-1"]


# --- windows -------------------------------------------------------------------------------------


def test_a_full_window_is_split_in_halves_so_no_article_is_lost() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start, end = window_of(request)
        if (start, end) == ("20260130060000", "20260130120000"):
            return httpx.Response(200, json={"articles": [article(n) for n in range(250)]})
        if (start, end) == ("20260130060000", "20260130090000"):
            return httpx.Response(200, json={"articles": [article(1000, "20260130T070000Z")]})
        if (start, end) == ("20260130090000", "20260130120000"):
            return httpx.Response(200, json={"articles": [article(2000, "20260130T110000Z")]})
        raise AssertionError(f"unexpected window {start}-{end}")

    pages, requests = collect(handler, collector())

    assert [window_of(r) for r in requests] == [
        ("20260130060000", "20260130120000"),
        ("20260130060000", "20260130090000"),
        ("20260130090000", "20260130120000"),
    ]
    first, second = only_pages(pages)
    assert [p["source_id"][-4:] for p in first.posts] == ["1000"]
    assert [p["source_id"][-4:] for p in second.posts] == ["2000"]
    assert (first.cursor, second.cursor) == (
        "2026-01-30T09:00:00+00:00",
        "2026-01-30T12:00:00+00:00",
    )


def test_a_window_still_full_at_the_deepest_split_is_kept_as_it_is() -> None:
    full = {"articles": [article(n) for n in range(250)]}
    pages, requests = collect(
        lambda r: httpx.Response(200, json=full), collector(max_split_depth=0)
    )

    [page] = only_pages(pages)
    assert len(requests) == 1
    assert len(page.posts) == 250
    assert page.cursor == "2026-01-30T12:00:00+00:00"


def test_a_pass_resumes_from_the_cursor_less_the_overlap_and_stops_after_max_pages() -> None:
    cursor = "2026-01-29T12:15:00+00:00"
    pages, requests = collect(
        lambda r: httpx.Response(200, json={}),
        collector(max_pages=2),
        cursors={'"ICE stations Canada"': cursor},
    )

    assert [window_of(r) for r in requests] == [
        ("20260129120000", "20260129180000"),
        ("20260129180000", "20260130000000"),
    ]
    assert [p.cursor for p in only_pages(pages)] == [
        "2026-01-29T18:00:00+00:00",
        "2026-01-30T00:00:00+00:00",
    ]


def test_an_empty_result_is_no_articles_not_an_error() -> None:
    pages, _ = collect(lambda r: httpx.Response(200, json={}), collector())

    [page] = only_pages(pages)
    assert page.posts == []
    assert page.cursor == "2026-01-30T12:00:00+00:00"


# --- error bodies --------------------------------------------------------------------------------


def test_an_html_error_body_is_a_bad_page_and_the_next_stream_goes_on() -> None:
    query = TopicQuery("ice-canada", {"en": ["ICE stations Canada", "HSI Canada"]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["query"] == '"ICE stations Canada"':
            html = "<html><body>Your query was too short or too long.</body></html>"
            return httpx.Response(200, text=html, headers={"content-type": "text/html"})
        return httpx.Response(200, json={"articles": [article(1)]})

    pages, requests = collect(handler, collector(max_query_chars=30), query)

    bad, page = pages
    assert isinstance(bad, BadPage)
    assert bad.scope == '"ICE stations Canada"'
    assert "text/html" in bad.error
    assert "too short or too long" in bad.payload
    assert isinstance(page, Page)
    assert page.scope == '"HSI Canada"'
    assert len(page.posts) == 1
    assert len(requests) == 2


def test_a_plain_text_error_body_is_a_bad_page_with_its_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="Invalid query.", headers={"content-type": "text/plain"})

    [bad], _ = collect(handler, collector())

    assert isinstance(bad, BadPage)
    assert "Invalid query." in bad.error
    assert bad.payload == "Invalid query."


def test_the_rate_limit_text_waits_and_tries_once_more() -> None:
    slow_down = "Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com."
    answers = [httpx.Response(200, text=slow_down), httpx.Response(200, json={})]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gdelt = GdeltCollector(BASE, lookback=timedelta(hours=6), now=lambda: NOW, sleep=sleep)
    pages, requests = collect(lambda r: answers.pop(0), gdelt)

    assert len(requests) == 2
    assert waits == [5.0]
    [page] = only_pages(pages)
    assert page.cursor == "2026-01-30T12:00:00+00:00"


def test_the_rate_limit_text_twice_fails_the_source() -> None:
    slow_down = "Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com."
    with pytest.raises(SourceHttpError, match="rate-limited"):
        collect(lambda r: httpx.Response(200, text=slow_down), collector())


def test_cursors_load_as_aware_utc_and_garbage_reads_afresh() -> None:
    assert load_cursor("2026-01-30T12:00:00+00:00") == NOW
    assert load_cursor("2026-01-30T12:00:00") == NOW
    assert load_cursor("not a time") is None
    assert load_cursor(None) is None
