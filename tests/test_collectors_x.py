"""X collector: mapping and linkage of a real recent-search page, next_token paging, since_id
resume and gaps. Every test goes through `httpx.MockTransport`; nothing waits."""

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
from collectors.http import SourceHttpError
from collectors.x import XCollector, or_queries, snowflake_time

RECORDED: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "recorded" / "x_recent_search.json").read_text()
)
BASE = "https://api.x.com"
NOW = datetime(2021, 9, 22, 17, 0, tzinfo=UTC)  # just after the recording
QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"], "fr": ["HSI au Canada"]})
OR_QUERY = "(ICE stations Canada) OR (HSI au Canada)"
RT, QUOTE, REPLY = "1440716856763977732", "1440715975020584960", "1440716745577140229"


def collect(
    handler: Handler, max_pages: int = 5, cursors: Mapping[str, str | None] | None = None
) -> tuple[list[Page | BadPage], list[httpx.Request]]:
    collector = XCollector(BASE, "secret-token", max_pages=max_pages, now=lambda: NOW)
    return run_pages(collector, "x", handler, QUERY, cursors)


def tid(minutes_before: int) -> str:
    """A snowflake id made `minutes_before` NOW."""
    ms = int((NOW - timedelta(minutes=minutes_before)).timestamp() * 1000)
    return str((ms - 1_288_834_974_657) << 22)


def body(ids: list[str], next_token: str | None) -> dict[str, Any]:
    """A search page of plain posts: the recording's quote tweet with new ids."""
    tweets = []
    for ident in ids:
        tweet = copy.deepcopy(RECORDED["data"][1])
        del tweet["referenced_tweets"]
        tweet.update(id=ident, conversation_id=ident)
        tweets.append(tweet)
    meta: dict[str, Any] = {"result_count": len(ids)}
    if next_token:
        meta["next_token"] = next_token
    return {"data": tweets, "includes": {"users": RECORDED["includes"]["users"]}, "meta": meta}


def cursor(newest: str, until: str | None = None, floor: str | None = None) -> str:
    state: dict[str, Any] = {"newest": newest}
    if until:
        state |= {"until": until, "floor": floor}
    return json.dumps(state, separators=(",", ":"))


# --- mapping of the real recording ---------------------------------------------------------------


def test_the_recorded_page_maps_and_links_retweet_quote_and_reply() -> None:
    pages, requests = collect(lambda r: httpx.Response(200, json=RECORDED), max_pages=1)
    [page] = only_pages(pages)
    posts = {p["source_id"]: p for p in page.posts}

    # The three results, then the three originals from includes.tweets.
    assert [p["source_id"] for p in page.posts] == [
        RT,
        QUOTE,
        REPLY,
        "1440713161355583489",
        "1440621713281093641",
        "1440660748275834882",
    ]
    rt = posts[RT]
    assert {k: rt[k] for k in ("kind", "parent_uid", "root_uid", "url", "author_handle")} == {
        "kind": "repost",
        "parent_uid": "x:1440713161355583489",
        "root_uid": "x:1440713161355583489",
        "url": "https://x.com/jacquip537/status/1440716856763977732",
        "author_handle": "jacquip537",
    }
    assert (rt["author_id"], rt["author_followers"]) == ("4100727022", 2485)
    assert rt["author_name"] == "Jacqui Pritchard,#RejoinEU #FBPE #JohnsonOut"
    # A retweet carries its original's full text, not X's truncated "RT @..." copy, and none of
    # the original's counts (X repeats retweet_count 22 on the retweet).
    assert rt["text"].startswith(". #BorisJohnson has revealed")
    assert rt["text"].endswith("https://t.co/IeqDhr3WET")
    assert (rt["likes"], rt["reposts"], rt["replies"], rt["quotes"]) == (None, None, None, None)
    assert rt["created_at"] == datetime(2021, 9, 22, 16, 37, 20, tzinfo=UTC)
    assert rt["raw"]["data"] == RECORDED["data"][0]
    assert rt["raw"]["includes"]["users"] == [RECORDED["includes"]["users"][0]]

    quote = posts[QUOTE]
    assert (quote["kind"], quote["parent_uid"], quote["root_uid"]) == (
        "quote",
        "x:1440660748275834882",
        None,
    )
    assert quote["text"].startswith("And @AngelaRayner & #NicolaSturgeon")  # &amp; decoded
    assert quote["url"] == "https://x.com/Munku1/status/1440715975020584960"

    reply = posts[REPLY]
    assert (reply["kind"], reply["parent_uid"], reply["root_uid"]) == (
        "reply",
        "x:1440621713281093641",
        "x:1440621713281093641",
    )
    assert (reply["lang"], reply["author_followers"]) == ("en", 1150)

    original = posts["1440713161355583489"]
    assert (original["kind"], original["author_handle"], original["author_followers"]) == (
        "post",
        "carolJhedges",
        24922,
    )
    assert (original["likes"], original["reposts"], original["replies"], original["quotes"]) == (
        20,
        22,
        1,
        0,
    )
    assert posts["1440621713281093641"]["lang"] is None  # X's "und"
    assert all(p["source"] == "x" for p in page.posts)

    [request] = requests
    assert request.headers["authorization"] == "Bearer secret-token"
    assert dict(request.url.params) == {
        "query": OR_QUERY,
        "max_results": "100",
        "tweet.fields": "created_at,lang,public_metrics,referenced_tweets,conversation_id,"
        "author_id,note_tweet",
        "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
        "user.fields": "username,name,public_metrics",
    }
    assert "secret-token" not in page.url
    # Only the results move the cursor; the page's next_token leaves what is below as a gap.
    assert page.cursor == cursor(RT, QUOTE, None)


def test_a_long_post_uses_note_tweet() -> None:
    long = body([tid(5)], None)
    long["data"][0]["note_tweet"] = {"text": "the whole text, over 280 characters &amp; more"}
    [page] = only_pages(collect(lambda r: httpx.Response(200, json=long))[0])
    assert page.posts[0]["text"] == "the whole text, over 280 characters & more"


# --- queries -------------------------------------------------------------------------------------


def test_queries_are_or_ed_within_512_characters() -> None:
    assert or_queries(["a" * 200, "b" * 200, "c" * 200]) == [
        f"({'a' * 200}) OR ({'b' * 200})",
        "c" * 200,
    ]
    assert or_queries(["only one"]) == ["only one"]


# --- paging and cursors --------------------------------------------------------------------------


def test_next_token_pages_to_the_end() -> None:
    a, b, c = tid(10), tid(20), tid(30)
    by_token = {None: body([a, b], "t2"), "t2": body([c], None)}
    pages, requests = collect(
        lambda r: httpx.Response(200, json=by_token[r.url.params.get("next_token")])
    )
    assert [r.url.params.get("next_token") for r in requests] == [None, "t2"]
    assert [[p["source_id"] for p in page.posts] for page in only_pages(pages)] == [[a, b], [c]]
    assert [p.cursor for p in only_pages(pages)] == [cursor(a, b, None), cursor(a)]


def test_since_id_resumes_above_the_mark() -> None:
    mark, new = tid(60), tid(5)
    pages, requests = collect(
        lambda r: httpx.Response(200, json=body([new], None)), cursors={OR_QUERY: cursor(mark)}
    )
    assert [r.url.params.get("since_id") for r in requests] == [mark]
    assert [p.cursor for p in only_pages(pages)] == [cursor(new)]


def test_max_pages_leaves_a_gap_the_next_pass_reads() -> None:
    mark, a, b, c, d = tid(300), tid(10), tid(20), tid(30), tid(40)
    top = {None: body([a, b], "t2"), "t2": body([c, d], None)}
    first, _ = collect(
        lambda r: httpx.Response(200, json=top[r.url.params.get("next_token")]),
        max_pages=1,
        cursors={OR_QUERY: cursor(mark)},
    )
    saved = only_pages(first)[-1].cursor
    assert saved == cursor(a, b, mark)  # below b and above the old mark is unread

    new = tid(1)

    def second(request: httpx.Request) -> httpx.Response:
        if "until_id" in request.url.params:
            return httpx.Response(200, json=body([c, d], None))
        return httpx.Response(200, json=body([new], None))

    pages, requests = collect(second, cursors={OR_QUERY: saved})
    assert [(r.url.params.get("since_id"), r.url.params.get("until_id")) for r in requests] == [
        (a, None),
        (mark, b),
    ]
    assert [p.cursor for p in only_pages(pages)] == [cursor(new, b, mark), cursor(new)]


def test_a_mark_older_than_the_7_day_window_is_not_sent() -> None:
    stale = tid(8 * 24 * 60)
    assert snowflake_time(stale) is not None
    _, requests = collect(
        lambda r: httpx.Response(200, json=body([], None)),
        cursors={OR_QUERY: cursor(stale, tid(9 * 24 * 60), None)},
    )
    assert ["since_id" in r.url.params or "until_id" in r.url.params for r in requests] == [False]


# --- failures ------------------------------------------------------------------------------------


def test_a_body_without_data_or_meta_is_a_bad_page() -> None:
    errors = {"errors": [{"message": "something went wrong"}]}
    [bad] = collect(lambda r: httpx.Response(200, json=errors))[0]
    assert isinstance(bad, BadPage) and "neither data nor meta" in bad.error


def test_an_empty_result_is_an_empty_page() -> None:
    [page] = only_pages(
        collect(lambda r: httpx.Response(200, json={"meta": {"result_count": 0}}))[0]
    )
    assert (page.posts, page.cursor) == ([], None)


def test_a_refused_token_fails_the_source_without_showing_it() -> None:
    with pytest.raises(SourceHttpError) as raised:
        collect(lambda r: httpx.Response(401, json={"title": "Unauthorized"}))
    assert raised.value.status == 401
    assert "secret-token" not in str(raised.value)
