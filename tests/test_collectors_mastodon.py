"""MastodonCollector: mapping of real recorded statuses, paging, cursors, boosts, quotes, failures.

Requests go through `httpx.MockTransport`: either the recorded bodies and headers as they are, or
`FakeInstance`, which pages like Mastodon does (timelines: `max_id`/`min_id` with `Link` headers,
`min_id` giving the statuses *immediately* newer; search: newest first, `min_id`/`max_id` turned
into date filters truncated to the second, as Mastodon 4.2+ does). Sleeps are no-ops.
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pyarrow as pa
import pytest
from collector_harness import Handler, mock_http

from collectors.base import BadPage, Page, TopicQuery
from collectors.http import SourceHttpError
from collectors.mastodon import MastodonCollector, MastodonStreamsError, status_posts
from warehouse.schema import POST_ARROW_SCHEMA

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
T0 = datetime(2026, 1, 27, 15, 0, tzinfo=UTC)
TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"  # the recorded timeline's tag
LIMITS = {
    "X-RateLimit-Limit": "300",
    "X-RateLimit-Remaining": "250",
    "X-RateLimit-Reset": "2026-01-27T15:05:00.000Z",
}


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def recorded_response(name: str) -> httpx.Response:
    """The recorded body, byte for byte, with its content type, Link and rate-limit headers."""
    headers = recorded(name.replace(".json", ".headers.json"))["headers"]
    kept = {
        k: v[0]
        for k, v in headers.items()
        if k.lower() in ("content-type", "link") or k.lower().startswith("x-ratelimit")
    }
    return httpx.Response(200, content=(RECORDED / name).read_bytes(), headers=kept)


def sid(minutes: float) -> str:
    """A Mastodon snowflake id for T0 + `minutes`: milliseconds << 16."""
    when = T0 + timedelta(minutes=minutes)
    return str(int(when.timestamp() * 1000) << 16)


def status(
    minutes: float,
    text: str = "There are 5 ICE stations in Canada",
    *,
    origin: str = "origin.example",
    local_id: str | None = None,
    acct: str = "story@origin.example",
) -> dict[str, Any]:
    """A status made from the recorded template: posted at T0 + `minutes` on `origin`."""
    made = copy.deepcopy(recorded("mastodon_tag_timeline_localhost.json")[0])
    number = sid(minutes)
    made.update(
        id=local_id or number,
        uri=f"https://{origin}/users/story/statuses/{number}",
        url=f"https://{origin}/@story/{number}",
        created_at=(T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        content=f"<p>{text}</p>",
        language="en",
        favourites_count=7,
        reblogs_count=3,
        replies_count=2,
        quotes_count=1,
    )
    made["account"].update(
        acct=acct,
        uri=f"https://{origin}/users/{acct.split('@')[0]}",
        url=f"https://{origin}/@{acct.split('@')[0]}",
        display_name="Story Teller",
        followers_count=120,
    )
    return made


class FakeInstance:
    """One Mastodon instance: tag timelines and status search, paged as Mastodon pages them."""

    def __init__(
        self,
        base: str,
        tags: dict[str, list[dict[str, Any]]] | None = None,
        search: list[dict[str, Any]] | None = None,
    ) -> None:
        self.base = base
        self.tags = {tag.lower(): statuses for tag, statuses in (tags or {}).items()}
        self.search = search or []
        self.requests: list[httpx.URL] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        path = request.url.path
        if path.startswith("/api/v1/timelines/tag/"):
            tag = unquote(path.rsplit("/", 1)[1]).lower()
            return self.timeline(request.url, self.tags.get(tag, []))
        if path == "/api/v2/search":
            return self.searched(request.url)
        return httpx.Response(404, json={"error": "Record not found"})

    def timeline(self, url: httpx.URL, statuses: list[dict[str, Any]]) -> httpx.Response:
        params, limit = url.params, int(url.params.get("limit", "20"))
        ordered = sorted(statuses, key=lambda s: int(s["id"]), reverse=True)
        if "max_id" in params:
            ordered = [s for s in ordered if int(s["id"]) < int(params["max_id"])]
        if "min_id" in params:  # the statuses immediately newer than min_id
            page = [s for s in ordered if int(s["id"]) > int(params["min_id"])][-limit:]
        else:
            page = ordered[:limit]
        links = []
        base = f"{self.base}{url.path}?limit={limit}"
        if len(page) == limit:  # Mastodon sends `next` only after a full page
            links.append(f'<{base}&max_id={page[-1]["id"]}>; rel="next"')
        if page:
            links.append(f'<{base}&min_id={page[0]["id"]}>; rel="prev"')
        headers = {**LIMITS, **({"Link": ", ".join(links)} if links else {})}
        return httpx.Response(200, json=page, headers=headers)

    def searched(self, url: httpx.URL) -> httpx.Response:
        params, limit = url.params, int(url.params.get("limit", "20"))

        def millis(status_id: str) -> int:
            return int(status_id) >> 16

        found = sorted(self.search, key=lambda s: int(s["id"]), reverse=True)
        if "min_id" in params:  # after:"<second of min_id>"
            after = millis(params["min_id"]) // 1000 * 1000
            found = [s for s in found if millis(s["id"]) > after]
        if "max_id" in params:  # before:"<second of max_id>"
            before = millis(params["max_id"]) // 1000 * 1000
            found = [s for s in found if millis(s["id"]) < before]
        body = {"accounts": [], "statuses": found[:limit], "hashtags": []}
        return httpx.Response(200, json=body, headers=LIMITS)


def routes(*instances: FakeInstance) -> Handler:
    by_host = {httpx.URL(i.base).netloc: i for i in instances}
    return lambda request: by_host[request.url.netloc](request)


def collect(
    handler: Handler,
    collector: MastodonCollector,
    query: TopicQuery,
    cursors: dict[str, str | None] | None = None,
) -> tuple[list[Page | BadPage], SourceHttpError | None]:
    """Every page `collector` yields, and the error it ended with, if any."""

    async def main() -> tuple[list[Page | BadPage], SourceHttpError | None]:
        pages: list[Page | BadPage] = []
        async with mock_http("mastodon", handler) as http:
            try:
                async for page in collector.pages(query, cursors or {}, http):
                    pages.append(page)
            except SourceHttpError as error:
                return pages, error
        return pages, None

    return asyncio.run(main())


def tags_only(*tags: str) -> TopicQuery:
    return TopicQuery("ice-canada", {}, list(tags))


def good(pages: list[Page | BadPage]) -> list[Page]:
    return [p for p in pages if isinstance(p, Page)]


# --- mapping the recorded bodies ----------------------------------------------------------------


def test_recorded_tag_timeline_maps_to_post_records() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return recorded_response("mastodon_tag_timeline_localhost.json")

    collector = MastodonCollector(["http://localhost:3000"], [TAG], max_pages=1)
    pages, error = collect(handler, collector, tags_only())

    assert error is None
    [page] = pages
    assert isinstance(page, Page)
    assert page.scope == f"localhost:3000/tag/{TAG}"
    assert page.cursor == "117020581413876942"  # the newest id (the Link's rel="prev" min_id)
    assert seen[0].params["limit"] == "40"
    assert page.rate_limit is not None
    assert (page.rate_limit.limit, page.rate_limit.remaining) == (300, 299)
    assert page.rate_limit.reset_at == datetime(2026, 8, 1, 13, 55, 0, 976542, tzinfo=UTC)
    body = recorded("mastodon_tag_timeline_localhost.json")
    assert [p["raw"] for p in page.posts] == body
    first = {k: v for k, v in page.posts[0].items() if k != "raw"}
    assert first == {
        "source": "mastodon",
        "source_id": "http://localhost:3000/ap/users/117020566092212359/statuses/117020581413876942",
        "url": "http://localhost:3000/@mastodonpy_test_2/117020581413876942",
        "kind": "post",
        "author_id": "http://localhost:3000/ap/users/117020566092212359",
        "author_handle": "mastodonpy_test_2@localhost:3000",
        "author_name": None,
        "author_followers": 0,
        "created_at": datetime(2026, 8, 1, 13, 52, 47, 767000, tzinfo=UTC),
        "lang": "ja",
        "text": f"Toot number 29! #{TAG}",
        "title": None,
        "parent_uid": None,
        "root_uid": None,
        "likes": 0,
        "reposts": 0,
        "replies": 0,
        "quotes": 0,
    }
    # The records load into the warehouse's Arrow schema as the runner passes them.
    rows = [{**p, "raw": json.dumps(p["raw"])} for p in page.posts]
    table = pa.Table.from_pylist(rows, schema=POST_ARROW_SCHEMA)
    assert table.column("created_at")[2].as_py() == datetime(
        2026, 8, 1, 13, 52, 47, 511000, tzinfo=UTC
    )


def test_recorded_search_maps_to_post_records() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return recorded_response("mastodon_search_v2.json")

    collector = MastodonCollector(["https://mastodon.social"], [])
    query = TopicQuery("t", {"en": ["halcy"]})
    pages, error = collect(handler, collector, query)

    assert error is None
    [page] = pages  # two statuses, fewer than the limit: the whole result
    assert isinstance(page, Page)
    assert page.scope == "mastodon.social/search/halcy"
    assert page.cursor == "116388149027005349"
    assert dict(seen[0].params) == {
        "q": "halcy",
        "type": "statuses",
        "resolve": "false",
        "limit": "40",
    }
    greg, jo = page.posts
    assert greg["source_id"] == "https://icosahedron.website/users/greg/statuses/116388148912635764"
    assert greg["url"] == "https://icosahedron.website/@greg/116388148912635764"
    assert greg["kind"] == "reply"
    assert greg["parent_uid"] is None  # in_reply_to_id names no uri; it stays in raw
    assert greg["raw"]["in_reply_to_id"] == "116387888508422624"
    assert greg["author_id"] == "https://icosahedron.website/users/greg"
    assert greg["author_handle"] == "greg@icosahedron.website"
    assert (greg["author_name"], greg["author_followers"]) == ("Greg", 455)
    assert greg["created_at"] == datetime(2026, 4, 11, 21, 16, 53, tzinfo=UTC)
    assert greg["text"] == (
        "@cancel @halcy not only is this the classic hip-hop / funk sample but it's ALSO the dnb"
        " sample (just sped up real fast) - e.g. heard right at the start of Squarepusher - Come"
        " On My Selector https://www.youtube.com/watch?v=MWCSw_cNxKc"
    )
    assert (jo["likes"], jo["reposts"], jo["replies"], jo["quotes"]) == (4, 1, 0, 0)
    assert jo["author_handle"] == "Jo@social.sublingual.xyz"
    assert jo["text"] == "@halcy me when im riding my horse in stop and go traffic"


def test_recorded_quote_yields_the_quoted_post_and_points_at_it() -> None:
    body = recorded("mastodon_status_quote.json")
    quoting, quoted = status_posts(body, "mastodon.social")

    assert quoting["kind"] == "quote"
    assert quoting["source_id"] == (
        "https://bsky.brid.gy/convert/ap/at://did:plc:5syfqzormjkutgo5hi2u2gpr"
        "/app.bsky.feed.post/3lwlunj3oqs22"
    )
    assert quoting["parent_uid"] == "mastodon:" + quoted["source_id"]
    assert quoted["source_id"] == (
        "https://bsky.brid.gy/convert/ap/at://did:plc:5syfqzormjkutgo5hi2u2gpr"
        "/app.bsky.feed.post/3lwlumdwf522i"
    )
    # The "RE: <link>" fallback for clients without quotes is not part of the text.
    assert quoting["text"] == (
        "actual reply that quotes a post that quotes a post bsky.app/profile/h4lc..."
    )
    assert quoting["author_handle"] == "h4lcy.bsky.social@bsky.brid.gy"
    assert quoting["author_name"] is None  # display_name is ""
    assert quoting["raw"] == body
    # The quoted post quotes in turn, but Mastodon sends only that quote's local id.
    assert (quoted["kind"], quoted["parent_uid"]) == ("quote", None)
    assert quoted["text"] == "actual reply that quotes a bsky post bsky.app/profile/h4lc..."
    assert quoted["raw"] == body["quote"]["quoted_status"]
    assert quoted["created_at"] == datetime(2025, 8, 17, 12, 20, 5, 117000, tzinfo=UTC)


def test_a_quote_not_accepted_is_a_plain_reply() -> None:
    body = recorded("mastodon_status_quote.json")
    body["quote"] = {"state": "pending", "quoted_status": None}

    [post] = status_posts(body, "mastodon.social")

    assert (post["kind"], post["parent_uid"]) == ("reply", None)


def test_a_quote_on_a_timeline_page_brings_its_quoted_post() -> None:
    body = recorded("mastodon_status_quote.json")
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": [body]})

    pages, _ = collect(instance, MastodonCollector([instance.base], []), tags_only("ICECanada"))

    [page] = good(pages)
    assert [p["kind"] for p in page.posts] == ["quote", "quote"]
    assert page.posts[0]["parent_uid"] == "mastodon:" + page.posts[1]["source_id"]


# --- text ---------------------------------------------------------------------------------------


def test_html_becomes_plain_text_and_escaped_markup_stays_literal() -> None:
    made = status(1)
    made["spoiler_text"] = "CW: politics"
    made["content"] = (
        '<p>There are 5 <a href="https://mastodon.social/tags/ICE" class="mention hashtag">'
        "#<span>ICE</span></a> stations &amp; more<br>I wrote &lt;script&gt;alert(1)&lt;/script&gt;"
        "</p><p>second paragraph</p>"
    )

    [post] = status_posts(made, "mastodon.social")

    assert post["text"] == (
        "CW: politics\nThere are 5 #ICE stations & more\nI wrote <script>alert(1)</script>\n"
        "second paragraph"
    )


# --- identity across instances ------------------------------------------------------------------


def test_the_same_status_through_two_instances_is_one_post() -> None:
    seen_on_social = status(1, local_id="111")
    seen_on_mstdn = status(1, local_id="999")  # same status, that instance's own id
    local = status(2, origin="mstdn.ca", acct="bob")
    social = FakeInstance("https://mastodon.social", tags={"ICECanada": [seen_on_social]})
    mstdn = FakeInstance("https://mstdn.ca", tags={"ICECanada": [seen_on_mstdn, local]})
    collector = MastodonCollector([social.base, mstdn.base], [])

    pages, _ = collect(routes(social, mstdn), collector, tags_only("ICECanada"))

    first, second = good(pages)
    assert (first.scope, second.scope) == (
        "mastodon.social/tag/ICECanada",
        "mstdn.ca/tag/ICECanada",
    )
    from_social = first.posts[0]
    from_mstdn = next(p for p in second.posts if p["raw"]["id"] == "999")
    assert from_social["source_id"] == from_mstdn["source_id"]
    assert from_social["source_id"] == seen_on_social["uri"]
    assert (
        from_social["author_id"] == from_mstdn["author_id"] == "https://origin.example/users/story"
    )
    assert from_social["author_handle"] == from_mstdn["author_handle"] == "story@origin.example"
    bob = next(p for p in second.posts if p["raw"] is not None and p["raw"]["id"] != "999")
    assert bob["author_handle"] == "bob@mstdn.ca"  # a local account gets its instance's domain


# --- boosts -------------------------------------------------------------------------------------


def test_a_boost_yields_the_original_and_a_repost_linked_to_it() -> None:
    original = status(1, "HSI agents in Canada carry no firearms")
    boost = status(5, "", origin="mastodon.social", acct="booster")
    boost.update(
        uri=f"https://mastodon.social/users/booster/statuses/{sid(5)}/activity",
        url=None,
        content="",
        language=None,
        reblog=original,
        favourites_count=0,
        reblogs_count=0,
        replies_count=0,
        quotes_count=0,
    )
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": [boost]})

    pages, _ = collect(instance, MastodonCollector([instance.base], []), tags_only("ICECanada"))

    [page] = good(pages)
    repost, post = page.posts
    assert post["source_id"] == original["uri"]
    assert (post["kind"], post["parent_uid"], post["likes"]) == ("post", None, 7)
    assert post["author_handle"] == "story@origin.example"
    assert repost["kind"] == "repost"
    assert repost["source_id"] == boost["uri"]
    assert repost["parent_uid"] == "mastodon:" + original["uri"]
    assert repost["author_handle"] == "booster@mastodon.social"
    assert repost["created_at"] == T0 + timedelta(minutes=5)
    # A boost spreads the original's words: it carries them, so it is matched and counted.
    assert repost["text"] == "HSI agents in Canada carry no firearms"
    assert repost["lang"] == "en"
    assert repost["raw"] == boost


# --- paging and cursors -------------------------------------------------------------------------


def test_first_run_follows_link_next_to_the_end() -> None:
    statuses = [status(m, f"post {m}") for m in range(1, 6)]
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": statuses})
    collector = MastodonCollector([instance.base], [], limit=2)

    pages, error = collect(instance, collector, tags_only("ICECanada"))

    assert error is None
    assert [p.get("max_id") for p in (u.params for u in instance.requests)] == [
        None,
        sid(4),
        sid(2),
    ]
    assert [[p["text"] for p in page.posts] for page in good(pages)] == [
        ["post 5", "post 4"],
        ["post 3", "post 2"],
        ["post 1"],
    ]
    # Nothing is saved until the backfill is done; then the newest id seen.
    assert [page.cursor for page in good(pages)] == [None, None, sid(5)]


def test_first_run_stops_after_max_pages() -> None:
    statuses = [status(m) for m in range(1, 11)]
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": statuses})
    collector = MastodonCollector([instance.base], [], limit=2, max_pages=2)

    pages, _ = collect(instance, collector, tags_only("ICECanada"))

    assert len(instance.requests) == 2
    assert [page.cursor for page in good(pages)] == [None, sid(10)]


def test_the_next_page_is_asked_of_the_configured_instance_whatever_the_link_host() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if "max_id" in request.url.params:
            return httpx.Response(200, json=[], headers=LIMITS)
        return recorded_response("mastodon_tag_timeline_localhost.json")  # Link: localhost:3000

    collector = MastodonCollector(["https://mastodon.social"], [TAG], max_pages=3)
    pages, _ = collect(handler, collector, tags_only())

    assert [u.host for u in seen] == ["mastodon.social", "mastodon.social"]
    assert seen[1].params["max_id"] == "117020581339834938"
    assert seen[1].params["limit"] == "40"
    assert [page.cursor for page in good(pages)] == [None, "117020581413876942"]


def test_resume_sends_min_id_and_walks_up_oldest_first() -> None:
    statuses = [status(m, f"post {m}") for m in range(0, 5)]
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": statuses})
    collector = MastodonCollector([instance.base], [], limit=2, lookback=timedelta(0))
    cursors: dict[str, str | None] = {"mastodon.social/tag/ICECanada": sid(1)}

    pages, _ = collect(instance, collector, tags_only("ICECanada"), cursors)

    assert [u.params.get("min_id") for u in instance.requests] == [sid(1), sid(3)]
    assert all("max_id" not in u.params for u in instance.requests)
    assert [[p["text"] for p in page.posts] for page in good(pages)] == [
        ["post 3", "post 2"],  # the statuses immediately newer than the cursor
        ["post 4"],
    ]
    assert [page.cursor for page in good(pages)] == [sid(3), sid(4)]


def test_resume_with_nothing_new_keeps_the_cursor() -> None:
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": [status(1)]})
    collector = MastodonCollector([instance.base], [], lookback=timedelta(0))
    cursors: dict[str, str | None] = {"mastodon.social/tag/ICECanada": sid(1)}

    pages, _ = collect(instance, collector, tags_only("ICECanada"), cursors)

    [page] = good(pages)
    assert (page.posts, page.cursor) == ([], sid(1))


def test_resume_looks_back_for_statuses_federated_late() -> None:
    late = status(25, "arrived late")  # published before the cursor, delivered after it was saved
    statuses = [status(20, "old"), late, status(30, "cursor"), status(31, "new")]
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": statuses})
    collector = MastodonCollector([instance.base], [])  # lookback: 10 minutes
    cursors: dict[str, str | None] = {"mastodon.social/tag/ICECanada": sid(30)}

    pages, _ = collect(instance, collector, tags_only("ICECanada"), cursors)

    assert instance.requests[0].params["min_id"] == sid(20)  # 10 minutes below the cursor
    texts = [p["text"] for page in good(pages) for p in page.posts]
    assert "arrived late" in texts
    assert "old" not in texts
    assert good(pages)[-1].cursor == sid(31)


def test_a_busy_lookback_window_cannot_stall_the_stream() -> None:
    window = [status(21 + m / 10) for m in range(10)]  # many re-reads below the cursor
    statuses = [*window, status(30, "cursor"), status(31, "new")]
    instance = FakeInstance("https://mastodon.social", tags={"ICECanada": statuses})
    collector = MastodonCollector([instance.base], [], limit=1, max_pages=2)
    cursors: dict[str, str | None] = {"mastodon.social/tag/ICECanada": sid(30)}

    pages, _ = collect(instance, collector, tags_only("ICECanada"), cursors)

    min_ids = [u.params["min_id"] for u in instance.requests]
    assert min_ids[2] == sid(30)  # after max_pages pages below the cursor: on from the cursor
    assert [p["text"] for p in good(pages)[2].posts] == ["new"]
    assert good(pages)[-1].cursor == sid(31)


def test_search_walks_down_with_max_id_one_second_later_and_skips_nothing() -> None:
    statuses = [status(m, f"match {m}") for m in range(1, 6)]
    instance = FakeInstance("https://mastodon.social", search=statuses)
    collector = MastodonCollector([instance.base], [], limit=2, max_pages=10)
    query = TopicQuery("t", {"en": ["ICE stations Canada"]})

    pages, _ = collect(instance, collector, query)

    one_second = 1000 << 16
    max_ids = [u.params.get("max_id") for u in instance.requests]
    assert max_ids[:2] == [None, str(int(sid(4)) + one_second)]
    texts = {p["text"] for page in good(pages) for p in page.posts}
    assert texts == {f"match {m}" for m in range(1, 6)}
    assert [page.cursor for page in good(pages)][-1] == sid(5)
    assert all(page.cursor is None for page in good(pages)[:-1])


def test_search_resume_walks_down_to_the_cursor_and_saves_the_newest_last() -> None:
    statuses = [status(m, f"match {m}") for m in range(1, 6)]
    instance = FakeInstance("https://mastodon.social", search=statuses)
    collector = MastodonCollector([instance.base], [], limit=2, lookback=timedelta(0))
    query = TopicQuery("t", {"en": ["ICE stations Canada"]})
    cursors: dict[str, str | None] = {"mastodon.social/search/ICE stations Canada": sid(3)}

    pages, _ = collect(instance, collector, query, cursors)

    assert all(u.params["min_id"] == sid(3) for u in instance.requests)
    texts = {p["text"] for page in good(pages) for p in page.posts}
    assert texts == {"match 4", "match 5"}
    cursors_carried = [page.cursor for page in good(pages)]
    assert cursors_carried[:-1] == [sid(3)] * (len(cursors_carried) - 1)
    assert cursors_carried[-1] == sid(5)
    assert good(pages)[-1].posts == []  # it stops at an empty page, not at a short one


# --- streams ------------------------------------------------------------------------------------


def test_streams_dedupe_hashtags_and_queries_case_insensitively() -> None:
    collector = MastodonCollector(
        ["https://mastodon.social/", "http://localhost:3000"], ["icecanada", "cdnpoli"]
    )
    query = TopicQuery(
        "ice-canada",
        {"en": ["ICE stations Canada"], "fr": ["ice stations canada", "ICE au Canada"]},
        ["ICECanada"],
    )

    scopes = [s.scope for s in collector.streams(query)]

    assert scopes == [
        "mastodon.social/tag/ICECanada",
        "mastodon.social/tag/cdnpoli",
        "mastodon.social/search/ICE stations Canada",
        "mastodon.social/search/ICE au Canada",
        "localhost:3000/tag/ICECanada",
        "localhost:3000/tag/cdnpoli",
        "localhost:3000/search/ICE stations Canada",
        "localhost:3000/search/ICE au Canada",
    ]


# --- bad pages and failures ---------------------------------------------------------------------


def test_a_truncated_page_is_a_bad_page_and_the_other_streams_go_on() -> None:
    healthy = FakeInstance(
        "https://mastodon.social",
        tags={"ICECanada": [status(m) for m in range(1, 4)], "cdnpoli": [status(9, "cdnpoli")]},
    )
    truncated = (RECORDED / "mastodon_tag_timeline_localhost.json").read_text()[:500]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ICECanada") and "max_id" in request.url.params:
            healthy.requests.append(request.url)
            return httpx.Response(200, text=truncated, headers=LIMITS)
        return healthy(request)

    collector = MastodonCollector([healthy.base], ["cdnpoli"], limit=2)
    pages, error = collect(handler, collector, tags_only("ICECanada"))

    assert error is None
    first, bad, other = pages
    assert isinstance(first, Page) and first.cursor is None
    assert isinstance(bad, BadPage)
    assert bad.scope == "mastodon.social/tag/ICECanada"
    assert bad.payload == truncated
    assert "not JSON" in bad.error
    assert "max_id=" in bad.url
    assert isinstance(other, Page) and other.scope == "mastodon.social/tag/cdnpoli"
    assert [p["text"] for p in other.posts] == ["cdnpoli"]
    ice_requests = [u for u in healthy.requests if u.path.endswith("/ICECanada")]
    assert len(ice_requests) == 2  # the stream stopped at its bad page


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/api/v1/timelines/tag/ICECanada", {"error": "oops"}, "expected a JSON list"),
        ("/api/v2/search", [], "statuses list"),
        ("/api/v2/search", {"accounts": []}, "statuses list"),
        ("/api/v1/timelines/tag/ICECanada", [{"id": "1", "content": "no uri"}], "no uri"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_bad_page(path: str, body: object, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"statuses": []} if "search" in request.url.path else [])

    collector = MastodonCollector(["https://mastodon.social"], [])
    pages, error = collect(handler, collector, TopicQuery("t", {"en": ["ICE"]}, ["ICECanada"]))

    assert error is None
    bad = [p for p in pages if isinstance(p, BadPage)]
    assert len(bad) == 1 and expected in bad[0].error
    assert len(pages) == 2  # the other stream still yielded its page


def test_a_search_refused_with_401_does_not_stop_the_hashtag_timelines() -> None:
    social = FakeInstance("https://mastodon.social", tags={"ICECanada": [status(1, "on social")]})
    mstdn = FakeInstance("https://mstdn.ca", tags={"ICECanada": [status(2, "on mstdn")]})
    refusal = {"error": "Search queries are not supported without authentication"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mastodon.social" and request.url.path == "/api/v2/search":
            social.requests.append(request.url)
            return httpx.Response(401, json=refusal)
        return routes(social, mstdn)(request)

    collector = MastodonCollector([social.base, mstdn.base], [])
    query = TopicQuery("t", {"en": ["ICE Canada", "HSI Canada"]}, ["ICECanada"])
    pages, error = collect(handler, collector, query)

    assert error is None
    assert [p.scope for p in good(pages)] == [
        "mastodon.social/tag/ICECanada",
        "mstdn.ca/tag/ICECanada",
        "mstdn.ca/search/ICE Canada",
        "mstdn.ca/search/HSI Canada",
    ]
    assert [p["text"] for p in good(pages)[0].posts] == ["on social"]
    searches = [u for u in social.requests if u.path == "/api/v2/search"]
    assert len(searches) == 1  # after the refusal, the instance's other search is not asked
    assert [(s.scope, s.status) for s in collector.skipped] == [
        ("mastodon.social/search/ICE Canada", 401),
        ("mastodon.social/search/HSI Canada", None),
    ]


def test_a_dead_instance_fails_its_streams_and_the_others_are_still_read() -> None:
    mstdn = FakeInstance("https://mstdn.ca", tags={"ICECanada": [status(2, "on mstdn")]})
    dead_requests: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mastodon.social":
            dead_requests.append(request.url)
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        return mstdn(request)

    collector = MastodonCollector(["https://mastodon.social", mstdn.base], ["cdnpoli"])
    pages, error = collect(handler, collector, TopicQuery("t", {"en": ["ICE"]}, ["ICECanada"]))

    assert [p.scope for p in good(pages)] == [
        "mstdn.ca/tag/ICECanada",
        "mstdn.ca/tag/cdnpoli",
        "mstdn.ca/search/ICE",
    ]
    assert isinstance(error, MastodonStreamsError)
    assert error.status == 503
    assert list(error.failures) == ["mastodon.social/tag/ICECanada"]
    assert "1 of 6 streams failed" in str(error)
    assert "2 more stream(s)" in str(error)
    assert {u.path for u in dead_requests} == {"/api/v1/timelines/tag/ICECanada"}  # retried, alone
