"""YouTube collector: video and comment mapping, pageToken paging, publishedAfter cursors, quota
errors, and the key kept out of every URL and error. Bodies follow the Data API v3 reference."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from collector_harness import Handler, run_pages

from collectors.base import BadPage, Page, TopicQuery
from collectors.http import SourceHttpError
from collectors.youtube import YouTubeCollector, youtube_queries

BASE = "https://www.googleapis.com"
KEY = "AIzaSy-secret-key"
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
QUERY = TopicQuery("ice-canada", {"en": ["ICE stations Canada"], "fr": ["HSI au Canada"]})
Q = '"ICE stations Canada"|"HSI au Canada"'


def collect(
    handler: Handler, max_pages: int = 5, cursors: Mapping[str, str | None] | None = None
) -> tuple[list[Page | BadPage], list[httpx.Request]]:
    collector = YouTubeCollector(BASE, KEY, max_pages=max_pages, now=lambda: NOW)
    return run_pages(collector, "youtube", handler, QUERY, cursors)


def video(video_id: str, published: str) -> dict[str, Any]:
    return {
        "kind": "youtube#searchResult",
        "etag": "e1",
        "id": {"kind": "youtube#video", "videoId": video_id},
        "snippet": {
            "publishedAt": published,
            "channelId": "UCchannel1",
            "title": "There are 5 ICE stations in Canada?! Here&#39;s the truth",
            "description": "ICE &amp; HSI offices in Ottawa, Toronto...",
            "channelTitle": "News &amp; Views",
            "liveBroadcastContent": "none",
            "publishTime": published,
        },
    }


def search(items: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"kind": "youtube#searchListResponse", "items": items}
    if next_token:
        page["nextPageToken"] = next_token
    return page


THREAD = {
    "kind": "youtube#commentThread",
    "id": "UgzThread1",
    "snippet": {
        "channelId": "UCchannel1",
        "videoId": "vid1",
        "topLevelComment": {
            "kind": "youtube#comment",
            "id": "UgzThread1",
            "snippet": {
                "channelId": "UCchannel1",
                "videoId": "vid1",
                "textDisplay": "It's 4 consulates and the embassy, not 5 stations",
                "authorDisplayName": "@viewer42",
                "authorChannelUrl": "http://www.youtube.com/@viewer42",
                "authorChannelId": {"value": "UCviewer42"},
                "likeCount": 7,
                "publishedAt": "2026-01-30T09:15:00Z",
                "updatedAt": "2026-01-30T09:15:00Z",
            },
        },
        "canReply": True,
        "totalReplyCount": 2,
        "isPublic": True,
    },
}


def google_error(status: int, reason: str, message: str) -> httpx.Response:
    error = {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}
    return httpx.Response(status, json={"error": error})


def api(search_pages: Mapping[str | None, dict[str, Any]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/youtube/v3/commentThreads":
            items = [THREAD] if request.url.params["videoId"] == "vid1" else []
            return httpx.Response(200, json={"items": items})
        return httpx.Response(200, json=search_pages[request.url.params.get("pageToken")])

    return handler


def test_a_video_and_its_comments_map_to_posts() -> None:
    pages, requests = collect(api({None: search([video("vid1", "2026-01-30T08:00:00Z")])}))
    [page] = pages
    assert isinstance(page, Page)
    clip, comment = page.posts
    assert {k: clip[k] for k in ("source", "source_id", "url", "kind", "title", "text")} == {
        "source": "youtube",
        "source_id": "vid1",
        "url": "https://www.youtube.com/watch?v=vid1",
        "kind": "post",
        "title": "There are 5 ICE stations in Canada?! Here's the truth",
        "text": "ICE & HSI offices in Ottawa, Toronto...",
    }
    assert (clip["author_id"], clip["author_name"]) == ("UCchannel1", "News & Views")
    assert clip["created_at"] == datetime(2026, 1, 30, 8, 0, tzinfo=UTC)
    assert clip["raw"]["id"]["videoId"] == "vid1"
    assert {
        k: comment[k]
        for k in ("kind", "source_id", "url", "parent_uid", "root_uid", "text", "likes", "replies")
    } == {
        "kind": "comment",
        "source_id": "UgzThread1",
        "url": "https://www.youtube.com/watch?v=vid1&lc=UgzThread1",
        "parent_uid": "youtube:vid1",
        "root_uid": "youtube:vid1",
        "text": "It's 4 consulates and the embassy, not 5 stations",
        "likes": 7,
        "replies": 2,
    }
    assert (comment["author_id"], comment["author_handle"], comment["author_name"]) == (
        "UCviewer42",
        "viewer42",
        "@viewer42",
    )

    search_request, comments_request = requests
    assert dict(search_request.url.params) == {
        "part": "snippet",
        "q": Q,
        "type": "video",
        "order": "date",
        "publishedAfter": "2026-01-24T12:00:00Z",  # NOW less 7 days: a first pass
        "maxResults": "50",
        "key": KEY,
    }
    assert dict(comments_request.url.params) == {
        "part": "snippet",
        "videoId": "vid1",
        "maxResults": "100",
        "order": "time",
        "textFormat": "plainText",
        "key": KEY,
    }
    assert page.scope == Q
    assert KEY not in page.url and "key=" not in page.url
    assert page.url.startswith("https://www.googleapis.com/youtube/v3/search?part=snippet")
    assert page.cursor == "2026-01-30T08:00:00Z"


def test_queries_are_quoted_phrases_or_ed_with_a_pipe() -> None:
    assert youtube_queries(["ICE Canada", "HSI", "ICE Canada"]) == ['"ICE Canada"|HSI']
    assert youtube_queries(["a" * 300, "b" * 300]) == ["a" * 300, "b" * 300]


def test_page_token_paging_and_the_cursor_on_the_last_page_only() -> None:
    pages, requests = collect(
        api(
            {
                None: search([video("vid2", "2026-01-31T10:00:00Z")], "P2"),
                "P2": search([video("vid1", "2026-01-30T08:00:00Z")]),
            }
        )
    )
    searches = [r for r in requests if r.url.path == "/youtube/v3/search"]
    assert [r.url.params.get("pageToken") for r in searches] == [None, "P2"]
    assert [[p["source_id"] for p in page.posts] for page in pages if isinstance(page, Page)] == [
        ["vid2"],
        ["vid1", "UgzThread1"],
    ]
    # A crash after page one re-reads the window: only the pass's last page moves the cursor.
    assert [p.cursor for p in pages if isinstance(p, Page)] == [None, "2026-01-31T10:00:00Z"]


def test_a_resumed_stream_asks_from_the_cursor_less_the_overlap() -> None:
    _, requests = collect(api({None: search([])}), cursors={Q: "2026-01-30T08:00:00Z"})
    assert requests[0].url.params["publishedAfter"] == "2026-01-29T20:00:00Z"


def test_quota_exceeded_fails_the_source_and_never_shows_the_key() -> None:
    quota = "The request cannot be completed because you have exceeded your quota."
    with pytest.raises(SourceHttpError) as raised:
        collect(lambda r: google_error(403, "quotaExceeded", quota))
    assert raised.value.status == 403
    assert "quotaExceeded" in str(raised.value)
    assert KEY not in str(raised.value) and KEY not in raised.value.url


def test_quota_exceeded_on_comments_also_fails_the_source() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/youtube/v3/commentThreads":
            return google_error(403, "quotaExceeded", "quota")
        return httpx.Response(200, json=search([video("vid1", "2026-01-30T08:00:00Z")]))

    with pytest.raises(SourceHttpError, match="quotaExceeded"):
        collect(handler)


def test_disabled_comments_leave_the_video() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/youtube/v3/commentThreads":
            return google_error(403, "commentsDisabled", "The video has disabled comments.")
        return httpx.Response(200, json=search([video("vid1", "2026-01-30T08:00:00Z")]))

    [page] = collect(handler)[0]
    assert isinstance(page, Page) and [p["source_id"] for p in page.posts] == ["vid1"]


def test_an_html_body_is_a_bad_page() -> None:
    [bad] = collect(lambda r: httpx.Response(200, text="<html>oops</html>"))[0]
    assert isinstance(bad, BadPage) and "not a YouTube search response" in bad.error
    assert KEY not in bad.url and KEY not in bad.error


def test_an_error_message_that_echoes_the_key_is_scrubbed() -> None:
    with pytest.raises(SourceHttpError) as raised:
        collect(lambda r: google_error(400, "keyInvalid", f"Bad API key {KEY}"))
    assert "keyInvalid" in str(raised.value) and KEY not in str(raised.value)
