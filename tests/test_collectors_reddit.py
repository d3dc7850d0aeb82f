"""Reddit collector: mapping of a real listing, paging, resume cursors, OAuth, unreadable pages.

Every test goes through `httpx.MockTransport`; `SourceHttp` sleeps on a no-op, so nothing waits.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from collector_harness import Handler, SourceRunner, only_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.http import SourceHttpError
from collectors.reddit import RedditCollector, RedditCursor, post_record, subreddit_queries

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
LISTING: dict[str, Any] = json.loads((RECORDED / "reddit_listing.json").read_text())
_HEADERS = json.loads((RECORDED / "reddit_listing.headers.json").read_text())["headers"]
RECORDED_HEADERS = {
    name: values[0]
    for name, values in _HEADERS.items()
    if name.lower().startswith("x-ratelimit-") or name.lower() == "content-type"
}

BASE = "https://www.reddit.com"
OAUTH = "https://oauth.reddit.com"
HOUR = 3600.0
T0 = 1_769_601_600.0  # 2026-01-28 12:00 UTC
ONE_QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"]})
TWO_QUERIES = TopicQuery("ice-canada", {"en": ["ICE stations Canada"], "fr": ["HSI au Canada"]})


collect = SourceRunner("reddit", ONE_QUERY)


def post(name: str, created: float, **fields: Any) -> dict[str, Any]:
    """A t3 `data` object: the first recorded child with a new id and time."""
    data: dict[str, Any] = copy.deepcopy(LISTING["data"]["children"][0]["data"])
    data.update(
        name=f"t3_{name}",
        id=name,
        created_utc=created,
        permalink=f"/r/canada/comments/{name}/x/",
        **fields,
    )
    return data


def listing(posts: list[dict[str, Any]], after: str | None, kind: str = "t3") -> dict[str, Any]:
    children = [{"kind": kind, "data": p} for p in posts]
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children}}


def paged(pages: dict[str | None, dict[str, Any]]) -> Handler:
    """A server that answers each `after` value with its listing."""
    return lambda request: httpx.Response(200, json=pages[request.url.params.get("after")])


def ids(pages: list[Page | BadPage]) -> list[str]:
    return [post["source_id"] for page in only_pages(pages) for post in page.posts]


def afters(requests: list[httpx.Request]) -> list[str | None]:
    return [r.url.params.get("after") for r in requests]


def cursor(newest: float, after: str | None = None, floor: float | None = None) -> str | None:
    return RedditCursor(newest, after, floor).dump()


# --- mapping -------------------------------------------------------------------------------------


def test_the_recorded_listing_maps_to_post_records() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=LISTING, headers=RECORDED_HEADERS)

    pages, _ = collect(handler, RedditCollector(BASE, OAUTH, [], max_pages=1))

    [page] = only_pages(pages)
    first, second, third = page.posts
    assert {k: v for k, v in first.items() if k != "raw"} == {
        "post_uid": "reddit:t3_1skjxta",
        "source": "reddit",
        "source_id": "t3_1skjxta",
        "url": "https://www.reddit.com/r/MMA/comments/1skjxta/ulberg_on_jiri_showing_mercy_thats_bullshit_total/",
        "kind": "post",
        "author_id": "airplane231",
        "author_handle": "airplane231",
        "author_name": None,
        "author_followers": None,
        "created_at": datetime(2026, 4, 13, 18, 44, 8, tzinfo=UTC),
        "collected_at": None,
        "lang": None,
        "title": first["raw"]["title"],
        "text": "https://x.com/arielhelwani/status/2043757261882044451",
        "parent_uid": None,
        "root_uid": None,
        "likes": 546,
        "replies": 495,
        "reposts": 0,
        "quotes": None,
    }
    assert first["title"].startswith("Ulberg on Jiri showing mercy: \u201cThat\u2019s bullshit")
    assert first["raw"] == LISTING["data"]["children"][0]["data"]
    assert (second["reposts"], second["likes"]) == (1, 2686)
    # A link/media post: no selftext, the title carries it.
    assert (third["text"], third["title"]) == ("", 'A medium rare "steak."')


def test_a_page_reports_the_recorded_rate_limit_scope_and_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=LISTING, headers=RECORDED_HEADERS)

    pages, _ = collect(handler, RedditCollector(BASE, OAUTH, [], max_pages=1))

    [page] = only_pages(pages)
    assert page.rate_limit is not None
    assert (page.rate_limit.remaining, page.rate_limit.limit) == (997, 1000)
    assert page.scope == "search/ICE stations Canada"
    assert page.url.startswith("https://www.reddit.com/search.json?q=ICE+stations+Canada")


def test_a_crosspost_is_a_repost_linked_to_its_parent() -> None:
    record = post_record("t3", post("cp1", T0, crosspost_parent="t3_1sk894v"))
    assert (record["kind"], record["parent_uid"], record["root_uid"]) == (
        "repost",
        "reddit:t3_1sk894v",
        "reddit:t3_1sk894v",
    )


def test_a_comment_points_at_its_parent_and_submission() -> None:
    comment = {
        "name": "t1_c1",
        "id": "c1",
        "parent_id": "t1_c0",
        "link_id": "t3_s1",
        "body": "There are 5 ICE stations in Canada",
        "author": "someone",
        "created_utc": T0,
        "score": 3,
        "permalink": "/r/canada/comments/s1/t/c1/",
    }
    pages, _ = collect(
        paged({None: listing([comment], None, kind="t1")}), RedditCollector(BASE, OAUTH, [])
    )
    [record] = only_pages(pages)[0].posts
    assert {k: record[k] for k in ("kind", "parent_uid", "root_uid", "text", "title")} == {
        "kind": "comment",
        "parent_uid": "reddit:t1_c0",
        "root_uid": "reddit:t3_s1",
        "text": "There are 5 ICE stations in Canada",
        "title": None,
    }
    assert record["url"] == "https://www.reddit.com/r/canada/comments/s1/t/c1/"


def test_a_deleted_author_is_no_author() -> None:
    record = post_record("t3", post("d1", T0, author="[deleted]"))
    assert (record["author_id"], record["author_handle"]) == (None, None)


def test_a_child_without_created_utc_is_reported_and_the_page_goes_on() -> None:
    broken = post("b1", T0)
    del broken["created_utc"]
    pages, _ = collect(
        paged({None: listing([broken, post("ok", T0)], None)}), RedditCollector(BASE, OAUTH, [])
    )
    bad, page = pages
    assert isinstance(bad, BadPage) and "created_utc" in bad.error
    assert json.loads(bad.payload)["data"]["name"] == "t3_b1"
    assert isinstance(page, Page) and [p["source_id"] for p in page.posts] == ["t3_ok"]


# --- requests ------------------------------------------------------------------------------------


def test_one_search_per_query_and_one_or_query_per_subreddit() -> None:
    pages, requests = collect(
        paged({None: listing([], None)}),
        RedditCollector(BASE, OAUTH, ["canada", "ottawa"]),
        TWO_QUERIES,
    )

    common = {"sort": "new", "t": "week", "limit": "100", "raw_json": "1"}
    either = "(ICE stations Canada) OR (HSI au Canada)"
    assert [(r.url.host, r.url.path, dict(r.url.params)) for r in requests] == [
        ("www.reddit.com", "/search.json", {"q": "ICE stations Canada", **common}),
        ("www.reddit.com", "/search.json", {"q": "HSI au Canada", **common}),
        ("www.reddit.com", "/r/canada/search.json", {"q": either, "restrict_sr": "1", **common}),
        ("www.reddit.com", "/r/ottawa/search.json", {"q": either, "restrict_sr": "1", **common}),
    ]
    assert [p.scope for p in only_pages(pages)] == [
        "search/ICE stations Canada",
        "search/HSI au Canada",
        f"r/canada/{either}",
        f"r/ottawa/{either}",
    ]
    assert all("authorization" not in r.headers for r in requests)
    assert all(p.cursor is None for p in only_pages(pages))  # nothing seen, nothing to resume


def test_or_queries_are_split_to_fit_reddits_512_characters() -> None:
    queries = ["a" * 200, "b" * 200, "c" * 200]
    assert subreddit_queries(queries) == [f"({'a' * 200}) OR ({'b' * 200})", "c" * 200]
    assert subreddit_queries(["only one"]) == ["only one"]


# --- paging and cursors --------------------------------------------------------------------------

THREE_PAGES = {
    None: listing([post("p1", T0), post("p2", T0 - 2 * HOUR)], "t3_p2"),
    "t3_p2": listing([post("p3", T0 - 4 * HOUR), post("p4", T0 - 6 * HOUR)], "t3_p4"),
    "t3_p4": listing([post("p5", T0 - 8 * HOUR)], None),
}


def test_after_paging_runs_to_the_end_of_the_listing() -> None:
    pages, requests = collect(paged(THREE_PAGES), RedditCollector(BASE, OAUTH, [], max_pages=5))

    assert afters(requests) == [None, "t3_p2", "t3_p4"]
    assert ids(pages) == ["t3_p1", "t3_p2", "t3_p3", "t3_p4", "t3_p5"]
    # Each page's cursor resumes below it; the last one, with the listing read, is the mark alone.
    assert [p.cursor for p in only_pages(pages)] == [
        cursor(T0, "t3_p2", None),
        cursor(T0, "t3_p4", None),
        cursor(T0),
    ]


def test_max_pages_leaves_a_gap_that_the_next_pass_reads() -> None:
    collector = RedditCollector(BASE, OAUTH, [], max_pages=2)
    first, requests = collect(paged(THREE_PAGES), collector)
    assert afters(requests) == [None, "t3_p2"]
    saved = only_pages(first)[-1].cursor
    assert saved == cursor(T0, "t3_p4", None)

    second, requests = collect(
        paged(THREE_PAGES), collector, cursors={"search/ICE stations Canada": saved}
    )

    # The top again (down to the mark), then on from the gap to the end.
    assert afters(requests) == [None, "t3_p4"]
    assert ids(second) == ["t3_p1", "t3_p2", "t3_p5"]
    assert only_pages(second)[-1].cursor == cursor(T0)


RESUME = {
    None: listing([post("n1", T0 + 3 * HOUR), post("n2", T0 + 2 * HOUR)], "t3_n2"),
    "t3_n2": listing([post("n3", T0 + HOUR), post("p1", T0 - 2 * HOUR)], "t3_p1"),
    "t3_p1": listing([post("p2", T0 - 4 * HOUR)], None),
}


def test_resume_stops_at_posts_already_seen() -> None:
    collector = RedditCollector(BASE, OAUTH, [])
    pages, requests = collect(
        paged(RESUME), collector, cursors={"search/ICE stations Canada": cursor(T0)}
    )

    # p1 is older than the saved mark less the hour of overlap: no third page, though after is set.
    assert afters(requests) == [None, "t3_n2"]
    assert ids(pages) == ["t3_n1", "t3_n2", "t3_n3", "t3_p1"]
    assert [p.cursor for p in only_pages(pages)] == [
        cursor(T0 + 3 * HOUR, "t3_n2", T0 - HOUR),  # what to save if the pass dies here
        cursor(T0 + 3 * HOUR),
    ]


def test_a_crash_after_the_first_page_rereads_never_skips() -> None:
    after_page_one = cursor(T0 + 3 * HOUR, "t3_n2", T0 - HOUR)
    pages, requests = collect(
        paged(RESUME),
        RedditCollector(BASE, OAUTH, []),
        cursors={"search/ICE stations Canada": after_page_one},
    )

    # The top down to the new mark (page two holds n3), then the gap again from after page one.
    assert afters(requests) == [None, "t3_n2", "t3_n2"]
    assert "t3_n3" in ids(pages)  # the post below page one that the dead pass never read
    assert "t3_p2" not in ids(pages)
    assert only_pages(pages)[-1].cursor == cursor(T0 + 3 * HOUR)


def test_the_end_of_the_listing_closes_a_pending_gap() -> None:
    saved = cursor(T0, "t3_old", T0 - 9 * HOUR)
    server = paged({None: listing([post("n1", T0 + HOUR), post("p1", T0 - 2 * HOUR)], None)})
    pages, requests = collect(
        server, RedditCollector(BASE, OAUTH, []), cursors={"search/ICE stations Canada": saved}
    )
    assert afters(requests) == [None]  # nothing below: t=week has no older posts to give
    assert only_pages(pages)[-1].cursor == cursor(T0 + HOUR)


def test_an_unreadable_cursor_reads_afresh() -> None:
    assert RedditCursor.load("not json") == RedditCursor()
    assert RedditCursor.load("1769601600") == RedditCursor(newest=T0)


# --- OAuth ---------------------------------------------------------------------------------------


class FakeReddit:
    """Token endpoint on www, listings on oauth; `refuse` lists tokens the listings answer 401."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = refuse or set()
        self.issued: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/access_token":
            assert (request.method, request.url.host) == ("POST", "www.reddit.com")
            self.issued.append(f"tok{len(self.issued) + 1}")
            body = {"access_token": self.issued[-1], "token_type": "bearer", "expires_in": 86400}
            return httpx.Response(200, json=body)
        assert request.url.host == "oauth.reddit.com"
        if request.headers["authorization"].removeprefix("bearer ") in self.refuse:
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        return httpx.Response(200, json=listing([post("o1", T0)], None))


def test_oauth_asks_one_token_with_basic_auth_and_sends_it_as_bearer() -> None:
    reddit = FakeReddit()
    collector = RedditCollector(BASE, OAUTH, ["canada"], client_id="cid", client_secret="sec")
    pages, requests = collect(reddit, collector)

    token_calls = [r for r in requests if r.url.path == "/api/v1/access_token"]
    assert len(token_calls) == 1
    assert (
        token_calls[0].headers["authorization"] == "Basic " + base64.b64encode(b"cid:sec").decode()
    )
    assert token_calls[0].content == b"grant_type=client_credentials"
    listings = [r for r in requests if r.method == "GET"]
    assert [(r.url.host, r.url.path) for r in listings] == [
        ("oauth.reddit.com", "/search.json"),
        ("oauth.reddit.com", "/r/canada/search.json"),
    ]
    assert {r.headers["authorization"] for r in listings} == {"bearer tok1"}
    assert ids(pages) == ["t3_o1", "t3_o1"]


def test_a_401_gets_a_new_token_once_and_repeats_the_request() -> None:
    reddit = FakeReddit(refuse={"tok1"})
    collector = RedditCollector(BASE, OAUTH, ["canada"], client_id="cid", client_secret="sec")
    pages, requests = collect(reddit, collector)

    assert reddit.issued == ["tok1", "tok2"]
    assert [r.headers["authorization"] for r in requests if r.method == "GET"] == [
        "bearer tok1",
        "bearer tok2",
        "bearer tok2",
    ]
    assert ids(pages) == ["t3_o1", "t3_o1"]


def test_a_second_401_is_raised() -> None:
    reddit = FakeReddit(refuse={"tok1", "tok2", "tok3"})
    collector = RedditCollector(BASE, OAUTH, [], client_id="cid", client_secret="sec")
    with pytest.raises(SourceHttpError) as raised:
        collect(reddit, collector)
    assert raised.value.status == 401
    assert reddit.issued == ["tok1", "tok2"]


def test_an_expiring_token_is_renewed() -> None:
    now = [0.0]
    reddit = FakeReddit()

    def handler(request: httpx.Request) -> httpx.Response:
        now[0] += 30_000.0  # each request takes 30000 s of the token's 86400
        return reddit(request)

    collector = RedditCollector(
        BASE, OAUTH, ["a1", "b2", "c3"], client_id="cid", client_secret="sec", clock=lambda: now[0]
    )
    collect(handler, collector)
    assert reddit.issued == ["tok1", "tok2"]


def test_half_a_credential_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        RedditCollector(BASE, OAUTH, [], client_id="cid")


# --- unreadable pages ----------------------------------------------------------------------------


def test_html_with_status_200_is_a_bad_page_and_the_other_streams_go_on() -> None:
    html = "<!doctype html><html><body>Our CDN was unable to reach our servers</body></html>"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "ICE stations Canada":
            return httpx.Response(200, text=html, headers={"content-type": "text/html"})
        return httpx.Response(200, json=listing([post("ok", T0)], None))

    pages, requests = collect(handler, RedditCollector(BASE, OAUTH, ["canada"]), TWO_QUERIES)

    bad, *rest = pages
    assert isinstance(bad, BadPage)
    assert bad.scope == "search/ICE stations Canada"
    assert bad.payload == html
    assert "not a Reddit listing" in bad.error and "text/html" in bad.error
    assert [p.scope for p in only_pages(rest)] == [
        "search/HSI au Canada",
        "r/canada/(ICE stations Canada) OR (HSI au Canada)",
    ]
    assert len(requests) == 3


def test_json_without_children_is_a_bad_page() -> None:
    body = {"kind": "Listing", "data": {"after": None}}
    pages, _ = collect(lambda r: httpx.Response(200, json=body), RedditCollector(BASE, OAUTH, []))
    [bad] = pages
    assert isinstance(bad, BadPage) and "data.children" in bad.error


def test_a_missing_subreddit_is_a_bad_page_and_the_others_go_on() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/r/gone/"):
            return httpx.Response(404, json={"message": "Not Found", "error": 404})
        return httpx.Response(200, json=listing([post("ok", T0)], None))

    pages, _ = collect(handler, RedditCollector(BASE, OAUTH, ["gone", "canada"]))

    assert [(type(p).__name__, p.scope) for p in pages] == [
        ("Page", "search/ICE stations Canada"),
        ("BadPage", "r/gone/ICE stations Canada"),
        ("Page", "r/canada/ICE stations Canada"),
    ]


def test_a_blocked_site_wide_search_fails_the_source() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="<html>blocked</html>")

    with pytest.raises(SourceHttpError) as raised:
        collect(handler, RedditCollector(BASE, OAUTH, ["canada"]))
    assert raised.value.status == 403
