"""GDELT's protocol: the DOC API's `mode=artlist&format=json`, the `startdatetime` /
`enddatetime` window, `maxrecords`, and `{}` for a window with no article."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from claimwatch.demo.protocols.common import Reply
from claimwatch.demo.traffic import StoryPost, matches, search_words


def doc(posts: list[StoryPost], query: dict[str, str], now: datetime) -> Reply:
    """`GET /api/v2/doc/doc` over the visible `posts` (newest first)."""
    if query.get("mode", "").casefold() != "artlist" or query.get("format") != "json":
        return Reply(b"Invalid mode or format.", headers={"Content-Type": "text/html"})
    words = search_words(query.get("query", ""))
    start = _gdelt_time(query.get("startdatetime"), now - timedelta(days=90))
    end = min(_gdelt_time(query.get("enddatetime"), now), now)
    cap = min(int(query.get("maxrecords", "75")), 250)
    found = [p for p in posts if start <= p.created_at <= end and matches(p, words)][:cap]
    if not found:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return Reply(b"{}", headers=headers, api="gdelt", served=0)
    return Reply({"articles": [_article(p) for p in found]}, api="gdelt", served=len(found))


def _gdelt_time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return default


def _article(post: StoryPost) -> dict[str, Any]:
    return {
        "url": post.native_id if post.native_id.startswith("http") else post.author.user_id,
        "url_mobile": "",
        "title": post.title or post.text,
        "seendate": post.created_at.strftime("%Y%m%dT%H%M%SZ"),
        "socialimage": "",
        "domain": post.author.handle,
        "language": post.extra.get("language", "English"),
        "sourcecountry": "Canada",
    }
