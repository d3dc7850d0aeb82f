"""Hacker News collector: hit mapping, comment linkage, paging, resume cursors and gaps, bad bodies.

Bodies follow the Algolia `search_by_date` shape in SOURCES.md; every test goes through
`httpx.MockTransport`, and `SourceHttp` sleeps on a no-op.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from collector_harness import SourceRunner, only_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.hackernews import HackerNewsCollector, HackerNewsCursor

BASE = "https://hn.algolia.com"
T0 = 1_769_774_400  # 2026-01-30 12:00 UTC
DAY = 86_400
ONE_QUERY = TopicQuery("ice-canada", {"en": ["ICE Canada"]})
SCOPE = "search/ICE Canada"


def hn(**options: Any) -> HackerNewsCollector:
    return HackerNewsCollector(BASE, clock=lambda: float(T0), **options)


collect = SourceRunner("hackernews", ONE_QUERY)


def story(object_id: int, created: int, **fields: Any) -> dict[str, Any]:
    return {
        "_tags": ["story", "author_maple", f"story_{object_id}"],
        "author": "maple",
        "created_at": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": created,
        "num_comments": 2,
        "objectID": str(object_id),
        "points": 15,
        "story_id": object_id,
        "story_text": None,
        "title": "ICE stations in Canada?",
        "url": "https://www.cbc.ca/news/politics/ice-hsi-canada",
        **fields,
    }


def comment(object_id: int, created: int, parent: int, story_id: int) -> dict[str, Any]:
    return {
        "_tags": ["comment", "author_loon", f"story_{story_id}"],
        "author": "loon",
        "comment_text": "<p>There are <i>five</i> HSI offices.<p>Not &quot;stations&quot;.",
        "created_at_i": created,
        "objectID": str(object_id),
        "parent_id": parent,
        "story_id": story_id,
        "story_title": "ICE stations in Canada?",
        "points": None,
    }


def result(hits: list[dict[str, Any]], page: int, nb_pages: int, nb_hits: int) -> dict[str, Any]:
    return {
        "hits": hits,
        "nbHits": nb_hits,
        "page": page,
        "nbPages": nb_pages,
        "hitsPerPage": 100,
        "query": "ICE Canada",
    }


def params(request: httpx.Request) -> tuple[str, str]:
    return request.url.params["numericFilters"], request.url.params["page"]


# --- mapping -------------------------------------------------------------------------------------


def test_stories_and_comments_map_to_post_records_with_their_linkage() -> None:
    body = result(
        [
            comment(102, T0 - 60, parent=101, story_id=100),
            story(100, T0 - 120, story_text="<p>Ask HN: are there <b>ICE</b> offices in Canada?"),
            story(99, T0 - 180),
        ],
        page=0,
        nb_pages=1,
        nb_hits=3,
    )
    pages, requests = collect(lambda r: httpx.Response(200, json=body), hn())

    [page] = only_pages(pages)
    reply, ask, link = page.posts
    assert {k: v for k, v in reply.items() if k != "raw"} == {
        "post_uid": "hackernews:102",
        "source": "hackernews",
        "source_id": "102",
        "url": "https://news.ycombinator.com/item?id=102",
        "kind": "comment",
        "author_id": "loon",
        "author_handle": "loon",
        "author_name": None,
        "author_followers": None,
        "created_at": datetime(2026, 1, 30, 11, 59, tzinfo=UTC),
        "collected_at": None,
        "lang": None,
        "text": 'There are five HSI offices.\nNot "stations".',
        "title": None,
        "parent_uid": "hackernews:101",
        "root_uid": "hackernews:100",
        "likes": None,
        "reposts": None,
        "replies": None,
        "quotes": None,
    }
    assert reply["raw"] == comment(102, T0 - 60, parent=101, story_id=100)
    assert (ask["kind"], ask["title"], ask["text"]) == (
        "post",
        "ICE stations in Canada?",
        "Ask HN: are there ICE offices in Canada?",
    )
    assert (ask["parent_uid"], ask["root_uid"], ask["likes"], ask["replies"]) == (None, None, 15, 2)
    assert link["text"] == "ICE stations in Canada?"  # a link story's text is its title
    assert link["url"] == "https://news.ycombinator.com/item?id=99"

    [request] = requests
    assert request.url.path == "/api/v1/search_by_date"
    assert dict(request.url.params) == {
        "query": "ICE Canada",
        "tags": "(story,comment)",
        "numericFilters": f"created_at_i>{T0 - 7 * DAY}",
        "hitsPerPage": "100",
        "page": "0",
    }
    assert page.cursor == json.dumps({"newest": T0 - 60}, separators=(",", ":"))


# --- paging and cursors --------------------------------------------------------------------------


def three_pages(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params["page"])
    hits = [story(300 - page, T0 - 100 * page)]
    return httpx.Response(200, json=result(hits, page=page, nb_pages=3, nb_hits=3))


def test_paging_reads_to_the_last_page_and_each_cursor_keeps_what_is_unread() -> None:
    pages, requests = collect(three_pages, hn(max_pages=5))

    mark = T0 - 7 * DAY
    assert [params(r) for r in requests] == [(f"created_at_i>{mark}", str(n)) for n in range(3)]
    assert [p.cursor for p in only_pages(pages)] == [
        HackerNewsCursor(T0, (mark, T0)).dump(),
        HackerNewsCursor(T0, (mark, T0 - 100)).dump(),
        HackerNewsCursor(T0).dump(),
    ]
    assert [post["source_id"] for p in only_pages(pages) for post in p.posts] == [
        "300",
        "299",
        "298",
    ]


def test_a_pass_cut_short_leaves_a_gap_that_the_next_pass_reads_after_the_top() -> None:
    first, _ = collect(three_pages, hn(max_pages=2))
    saved = only_pages(first)[-1].cursor
    mark = T0 - 7 * DAY
    assert saved == HackerNewsCursor(T0, (mark, T0 - 100)).dump()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["numericFilters"] == f"created_at_i>{T0 - 600}":  # the top
            return httpx.Response(200, json=result([], page=0, nb_pages=0, nb_hits=0))
        hits = [story(298, T0 - 200)]
        return httpx.Response(200, json=result(hits, page=0, nb_pages=1, nb_hits=1))

    second, requests = collect(handler, hn(max_pages=5), cursors={SCOPE: saved})

    assert [params(r) for r in requests] == [
        (f"created_at_i>{T0 - 600}", "0"),
        (f"created_at_i>{mark},created_at_i<={T0 - 100}", "0"),
    ]
    top, gap = only_pages(second)
    assert top.cursor == saved  # nothing new on top: the gap is still pending
    assert [p["source_id"] for p in gap.posts] == ["298"]
    assert gap.cursor == HackerNewsCursor(T0).dump()


def test_a_resumed_pass_asks_only_for_hits_after_the_cursor_less_the_overlap() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hits = [story(400, T0 + 50)]
        return httpx.Response(200, json=result(hits, page=0, nb_pages=1, nb_hits=1))

    pages, requests = collect(handler, hn(), cursors={SCOPE: json.dumps({"newest": T0})})

    assert [params(r) for r in requests] == [(f"created_at_i>{T0 - 600}", "0")]
    [page] = only_pages(pages)
    assert page.cursor == HackerNewsCursor(T0 + 50).dump()


def test_an_empty_first_pass_saves_no_cursor_and_a_bare_number_is_a_cursor() -> None:
    empty = result([], page=0, nb_pages=0, nb_hits=0)
    [page], _ = collect(lambda r: httpx.Response(200, json=empty), hn())
    assert isinstance(page, Page) and (page.posts, page.cursor) == ([], None)

    _, requests = collect(lambda r: httpx.Response(200, json=empty), hn(), cursors={SCOPE: "123"})
    assert params(requests[0]) == (f"created_at_i>{123 - 600}", "0")
    assert HackerNewsCursor.load("garbage{") == HackerNewsCursor()


def test_algolias_1000_hit_cap_leaves_the_rest_to_a_walk_below_the_oldest_hit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "<=" in request.url.params["numericFilters"]:
            return httpx.Response(200, json=result([story(1, T0 - 900)], 0, 1, 1))
        # the last page Algolia serves, with more hits beyond it
        return httpx.Response(200, json=result([story(2, T0 - 500)], 0, 1, nb_hits=5000))

    pages, requests = collect(handler, hn(hits_per_page=1, max_pages=3))

    mark = T0 - 7 * DAY
    assert [params(r) for r in requests] == [
        (f"created_at_i>{mark}", "0"),
        (f"created_at_i>{mark},created_at_i<={T0 - 500}", "0"),
    ]
    capped, rest = only_pages(pages)
    assert capped.cursor == HackerNewsCursor(T0 - 500, (mark, T0 - 500)).dump()
    assert rest.cursor == HackerNewsCursor(T0 - 500).dump()


# --- bad bodies ----------------------------------------------------------------------------------


def test_a_non_json_body_is_a_bad_page_and_the_next_stream_goes_on() -> None:
    query = TopicQuery("ice-canada", {"en": ["ICE Canada"], "fr": ["HSI au Canada"]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["query"] == "ICE Canada":
            return httpx.Response(
                200, text="<html>502 Bad Gateway</html>", headers={"content-type": "text/html"}
            )
        return httpx.Response(200, json=result([story(7, T0)], 0, 1, 1))

    pages, _ = collect(handler, hn(), query)

    bad, page = pages
    assert isinstance(bad, BadPage)
    assert bad.scope == SCOPE
    assert bad.payload == "<html>502 Bad Gateway</html>"
    assert isinstance(page, Page) and page.scope == "search/HSI au Canada"
    assert [p["source_id"] for p in page.posts] == ["7"]


def test_a_hit_without_created_at_i_is_a_bad_page_and_the_page_goes_on() -> None:
    body = result([story(5, T0), {"objectID": "6", "author": "x"}], 0, 1, 2)
    pages, _ = collect(lambda r: httpx.Response(200, json=body), hn())

    bad, page = pages
    assert isinstance(bad, BadPage) and "created_at_i" in bad.error
    assert isinstance(page, Page) and [p["source_id"] for p in page.posts] == ["5"]
