"""Bluesky collector: mapping of a real postView, session auth and renewal, paging, resume cursors,
unreadable pages.

Every test goes through `httpx.MockTransport`; `SourceHttp` sleeps on a no-op, so nothing waits.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from collector_harness import Handler, only_pages, run_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.bluesky import BlueskyCollector, BlueskyCursor, post_records
from collectors.http import SourceHttpError

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
THREAD: dict[str, Any] = json.loads((RECORDED / "bluesky_get_post_thread_quote.json").read_text())
QUOTE_VIEW: dict[str, Any] = THREAD["thread"]["post"]

BASE = "https://bsky.test"
DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"
T0 = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
ONE_QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"]})


def iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def view(rkey: str, when: datetime, text: str = "ICE stations in Canada") -> dict[str, Any]:
    """A plain postView: the recorded one, with its embed removed and a new rkey and time."""
    post: dict[str, Any] = copy.deepcopy(QUOTE_VIEW)
    post.pop("embed")
    post["record"].pop("embed")
    post["uri"] = f"at://{DID}/app.bsky.feed.post/{rkey}"
    post["record"].update(createdAt=iso(when), text=text)
    post["indexedAt"] = iso(when)
    return post


def results(posts: list[dict[str, Any]], cursor: str | None) -> httpx.Response:
    body: dict[str, Any] = {"posts": posts}
    if cursor is not None:
        body["cursor"] = cursor
    return httpx.Response(200, json=body)


def session(access: str = "access-1", refresh: str = "refresh-1") -> httpx.Response:
    return httpx.Response(
        200, json={"accessJwt": access, "refreshJwt": refresh, "handle": "me.test", "did": DID}
    )


def collect(
    search: Handler,
    collector: BlueskyCollector | None = None,
    query: TopicQuery = ONE_QUERY,
    cursors: Mapping[str, str | None] | None = None,
    auth: Handler | None = None,
) -> tuple[list[Page | BadPage], list[httpx.Request]]:
    """One pass against `search` (searchPosts) and `auth` (session calls; default: one session)."""
    collector = collector or BlueskyCollector(BASE, "me.test", "app-pass")

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/xrpc/app.bsky.feed.searchPosts":
            return search(request)
        if auth is not None:
            return auth(request)
        assert request.url.path == "/xrpc/com.atproto.server.createSession"
        return session()

    return run_pages(collector, "bluesky", route, query, cursors)


def searches(requests: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in requests if r.url.path.endswith("searchPosts")]


# --- mapping -------------------------------------------------------------------------------------


def test_recorded_quote_via_record_with_media_maps_and_yields_the_quoted_post() -> None:
    quote, quoted = post_records(QUOTE_VIEW)

    assert quote["post_uid"] == f"bluesky:at://{DID}/app.bsky.feed.post/3kaheyt6vpc22"
    assert quote["source"] == "bluesky"
    assert quote["source_id"] == f"at://{DID}/app.bsky.feed.post/3kaheyt6vpc22"
    assert quote["url"] == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert quote["kind"] == "quote"
    assert quote["parent_uid"] == f"bluesky:at://{DID}/app.bsky.feed.post/3kahesw26il2z"
    assert quote["root_uid"] == quote["parent_uid"]
    assert quote["author_id"] == DID
    assert quote["author_handle"] == "test.marshal.dev"
    assert quote["author_name"] == "Python SDK"
    assert quote["author_followers"] is None
    assert quote["created_at"] == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert quote["lang"] == "en"
    assert quote["text"] == ""
    assert (quote["likes"], quote["reposts"], quote["replies"]) == (0, 0, 0)
    assert quote["quotes"] is None  # this recording predates quoteCount
    assert quote["raw"] is QUOTE_VIEW

    assert quoted["source_id"] == f"at://{DID}/app.bsky.feed.post/3kahesw26il2z"
    assert quoted["kind"] == "post"
    assert quoted["text"] == "test"
    assert quoted["parent_uid"] is None
    assert quoted["created_at"] == datetime(2023, 9, 28, 12, 46, 18, 414000, tzinfo=UTC)
    assert quoted["url"] == "https://bsky.app/profile/test.marshal.dev/post/3kahesw26il2z"
    assert quoted["raw"]["$type"] == "app.bsky.embed.record#viewRecord"


def test_reply_points_at_parent_and_root() -> None:
    post = view("reply1", T0)
    post["record"]["reply"] = {
        "root": {"uri": "at://did:plc:root/app.bsky.feed.post/r00t", "cid": "x"},
        "parent": {"uri": "at://did:plc:par/app.bsky.feed.post/p4r", "cid": "y"},
    }
    post["replyCount"], post["likeCount"], post["quoteCount"] = 2, 7, 1

    (reply,) = post_records(post)

    assert reply["kind"] == "reply"
    assert reply["parent_uid"] == "bluesky:at://did:plc:par/app.bsky.feed.post/p4r"
    assert reply["root_uid"] == "bluesky:at://did:plc:root/app.bsky.feed.post/r00t"
    assert (reply["likes"], reply["replies"], reply["quotes"]) == (7, 2, 1)


def test_bad_created_at_falls_back_to_indexed_at_and_missing_handle_uses_did() -> None:
    post = view("x1", T0)
    post["record"]["createdAt"] = "yesterday"
    post["author"]["handle"] = "handle.invalid"
    post["record"]["langs"] = []

    (record,) = post_records(post)

    assert record["created_at"] == T0
    assert record["url"] == f"https://bsky.app/profile/{DID}/post/x1"
    assert record["lang"] is None
    assert record["kind"] == "post"


# --- auth ----------------------------------------------------------------------------------------


def test_one_session_for_all_streams_and_bearer_on_every_search() -> None:
    query = TopicQuery("ice-canada", {"en": ["ICE stations"], "fr": ["HSI au Canada"]}, ["HSI"])

    pages, requests = collect(lambda r: results([view("a", T0)], None), query=query)

    logins = [r for r in requests if r.url.path.endswith("createSession")]
    assert len(logins) == 1
    assert json.loads(logins[0].content) == {"identifier": "me.test", "password": "app-pass"}
    sent = searches(requests)
    assert [r.url.params["q"] for r in sent] == ["ICE stations", "HSI au Canada", "#HSI"]
    assert {r.headers["Authorization"] for r in sent} == {"Bearer access-1"}
    assert {r.url.params["sort"] for r in sent} == {"latest"}
    assert [p.scope for p in pages] == [
        "search/ICE stations",
        "search/HSI au Canada",
        "search/#HSI",
    ]


def test_expired_token_refreshes_the_session_and_retries_once() -> None:
    calls: list[str] = []

    def auth(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.url.path.rsplit('.', 1)[1]} {request.headers.get('Authorization')}")
        if request.url.path.endswith("createSession"):
            return session("access-1", "refresh-1")
        return session("access-2", "refresh-2")

    def search(request: httpx.Request) -> httpx.Response:
        calls.append(f"search {request.headers['Authorization']}")
        if request.headers["Authorization"] == "Bearer access-1":
            return httpx.Response(400, json={"error": "ExpiredToken", "message": "Token expired"})
        return results([view("a", T0)], None)

    pages, _ = collect(search, auth=auth)

    assert calls == [
        "createSession None",
        "search Bearer access-1",
        "refreshSession Bearer refresh-1",
        "search Bearer access-2",
    ]
    assert isinstance(pages[0], Page)
    assert pages[0].posts[0]["source_id"].endswith("/a")


def test_failed_refresh_logs_in_again() -> None:
    logins: list[str] = []

    def auth(request: httpx.Request) -> httpx.Response:
        logins.append(request.url.path.rsplit(".", 1)[1])
        if request.url.path.endswith("refreshSession"):
            return httpx.Response(400, json={"error": "ExpiredToken"})
        return session(f"access-{len(logins)}")

    def search(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer access-1":
            return httpx.Response(401, json={"error": "AuthenticationRequired"})
        return results([], None)

    pages, _ = collect(search, auth=auth)

    assert logins == ["createSession", "refreshSession", "createSession"]
    assert len(pages) == 1 and isinstance(pages[0], Page)


def test_a_403_on_search_is_raised_not_taken_for_no_posts() -> None:
    def search(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "Forbidden"})

    with pytest.raises(SourceHttpError) as caught:
        collect(search)
    assert caught.value.status == 403


# --- paging and cursors --------------------------------------------------------------------------


def three_pages(request: httpx.Request) -> httpx.Response:
    """Six posts, two a page, newest first; the cursor is opaque."""
    cursor = request.url.params.get("cursor")
    if cursor is None:
        return results([view("p6", T0), view("p5", T0 - timedelta(hours=1))], "c2")
    if cursor == "c2":
        return results(
            [view("p4", T0 - timedelta(hours=2)), view("p3", T0 - timedelta(hours=3))], "c3"
        )
    assert cursor == "c3"
    return results([view("p2", T0 - timedelta(hours=4)), view("p1", T0 - timedelta(hours=5))], None)


def test_cursor_paging_to_the_end_over_three_pages() -> None:
    pages, requests = collect(three_pages)

    assert [r.url.params.get("cursor") for r in searches(requests)] == [None, "c2", "c3"]
    assert {r.url.params["limit"] for r in searches(requests)} == {"100"}
    assert all(isinstance(p, Page) for p in pages)
    ids = [p["source_id"].rsplit("/", 1)[1] for page in only_pages(pages) for p in page.posts]
    assert ids == ["p6", "p5", "p4", "p3", "p2", "p1"]
    cursors = [json.loads(p.cursor or "null") for p in only_pages(pages)]
    # Each page's state is as if the pass stopped after it: the unread rest is a gap.
    assert cursors[0] == {
        "newest": "2026-01-28T12:00:00.000Z",
        "until": "2026-01-28T11:00:01.000Z",
        "floor": None,
    }
    assert cursors[1] == {
        "newest": "2026-01-28T12:00:00.000Z",
        "until": "2026-01-28T09:00:01.000Z",
        "floor": None,
    }
    assert cursors[2] == {"newest": "2026-01-28T12:00:00.000Z"}  # the end: no gap


def test_resume_stops_at_posts_already_seen() -> None:
    saved = BlueskyCursor(newest=T0 - timedelta(hours=2)).dump()

    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") is None:
            return results([view("new2", T0), view("new1", T0 - timedelta(hours=1))], "c2")
        # below the mark (newest - 15 min overlap): read before
        return results(
            [view("old2", T0 - timedelta(hours=2)), view("old1", T0 - timedelta(hours=3))], "c3"
        )

    pages, requests = collect(search, cursors={"search/ICE stations Canada": saved})

    assert [r.url.params.get("cursor") for r in searches(requests)] == [None, "c2"]
    assert len(pages) == 2
    assert json.loads(only_pages(pages)[-1].cursor or "") == {"newest": "2026-01-28T12:00:00.000Z"}


def test_a_pass_cut_by_max_pages_leaves_a_gap_the_next_pass_reads_with_until() -> None:
    collector = BlueskyCollector(BASE, "me.test", "app-pass", limit=2, max_pages=1)
    first, _ = collect(three_pages, collector)
    saved = only_pages(first)[0].cursor
    assert json.loads(saved or "")["until"] == "2026-01-28T11:00:01.000Z"

    collector = BlueskyCollector(BASE, "me.test", "app-pass", limit=2, max_pages=3)

    def search(request: httpx.Request) -> httpx.Response:
        if "until" not in request.url.params:  # the top: a newer post, then one read before
            return results(
                [view("p7", T0 + timedelta(hours=1)), view("p5", T0 - timedelta(hours=1))], "more"
            )
        assert request.url.params["until"] == "2026-01-28T11:00:01.000Z"
        if request.url.params.get("cursor") is None:
            return results(
                [view("p4", T0 - timedelta(hours=2)), view("p3", T0 - timedelta(hours=3))], "c3"
            )
        return three_pages(request)

    pages, requests = collect(search, collector, cursors={"search/ICE stations Canada": saved})

    sent = searches(requests)
    assert [(r.url.params.get("until"), r.url.params.get("cursor")) for r in sent] == [
        (None, None),
        ("2026-01-28T11:00:01.000Z", None),
        ("2026-01-28T11:00:01.000Z", "c3"),
    ]
    ids = [p["source_id"][-2:] for page in only_pages(pages) for p in page.posts]
    assert ids == ["p7", "p5", "p4", "p3", "p2", "p1"]
    cursors = [json.loads(p.cursor or "") for p in only_pages(pages)]
    # down to the mark: the old gap is still pending
    assert cursors[0] == {
        "newest": "2026-01-28T13:00:00.000Z",
        "until": "2026-01-28T11:00:01.000Z",
        "floor": None,
    }
    # part of the gap read: it now starts below p3
    assert cursors[1] == {
        "newest": "2026-01-28T13:00:00.000Z",
        "until": "2026-01-28T09:00:01.000Z",
        "floor": None,
    }
    assert cursors[2] == {"newest": "2026-01-28T13:00:00.000Z"}  # the end: the gap closed


def test_cursor_load_accepts_a_bare_timestamp_and_starts_afresh_on_garbage() -> None:
    assert BlueskyCursor.load("2026-01-28T12:00:00Z") == BlueskyCursor(newest=T0)
    assert BlueskyCursor.load("{not json") == BlueskyCursor()
    assert BlueskyCursor.load(None).dump() is None


# --- unreadable pages ----------------------------------------------------------------------------


def test_truncated_json_is_a_bad_page_and_other_streams_go_on() -> None:
    query = TopicQuery("ice-canada", {"en": ["broken", "fine"]})

    def search(request: httpx.Request) -> httpx.Response:
        if request.url.params["q"] == "broken":
            return httpx.Response(
                200, text='{"posts": [{"uri": "at://', headers={"content-type": "application/json"}
            )
        return results([view("ok", T0)], None)

    pages, _ = collect(search, query=query)

    assert len(pages) == 2
    bad, good = pages
    assert isinstance(bad, BadPage)
    assert bad.scope == "search/broken"
    assert bad.payload == '{"posts": [{"uri": "at://'
    assert isinstance(good, Page)
    assert good.scope == "search/fine"
    assert [p["source_id"][-2:] for p in good.posts] == ["ok"]


def test_a_body_without_posts_is_a_bad_page() -> None:
    pages, _ = collect(lambda r: httpx.Response(200, json={"hitsTotal": 0}))

    assert len(pages) == 1 and isinstance(pages[0], BadPage)
    assert "no posts list" in pages[0].error
