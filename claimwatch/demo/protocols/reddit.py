"""Reddit's protocol: `/search.json` and `/r/<sub>/search.json`, paged by the `after` fullname,
the `t` window, `x-ratelimit-*` headers in seconds, submissions in Reddit's Listing shape."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from claimwatch.demo.protocols.common import Reply, Spend, page_limit
from claimwatch.demo.traffic import StoryPost, matches, search_words


def search(
    path: str, posts: list[StoryPost], query: dict[str, str], now: datetime, *, spend: Spend
) -> Reply:
    """`GET /search.json` or `/r/<sub>/search.json` over the visible `posts` (newest first)."""
    words = search_words(query.get("q", ""))
    window = {"hour": 1 / 24, "day": 1, "week": 7, "month": 31, "year": 366}.get(
        query.get("t", "all"), 100_000
    )
    since = now - timedelta(days=window)
    subreddit = path.split("/")[2].casefold() if path.startswith("/r/") else None
    found = [
        p
        for p in posts
        if p.created_at >= since
        and matches(p, words)
        and (subreddit is None or str(p.extra["subreddit"]).casefold() == subreddit)
    ]
    limit = page_limit(query, default=25, cap=100)
    after = query.get("after")
    start = next((i + 1 for i, p in enumerate(found) if p.source_id == after), 0)
    page = found[start : start + limit]
    more = start + limit < len(found)
    body = {
        "kind": "Listing",
        "data": {
            "after": page[-1].source_id if page and more else None,
            "dist": len(page),
            "modhash": "",
            "geo_filter": "",
            "children": [{"kind": "t3", "data": _submission(p, now)} for p in page],
            "before": None,
        },
    }
    limit_total, remaining, reset_in = spend()
    return Reply(
        body,
        headers={
            "x-ratelimit-remaining": f"{remaining:.1f}",
            "x-ratelimit-reset": str(int(reset_in)),
            "x-ratelimit-used": str(limit_total - remaining),
        },
        api="reddit",
        served=len(page),
    )


def _submission(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    sub = str(post.extra["subreddit"])
    slug = re.sub(r"[^a-z0-9]+", "_", (post.title or "").lower())[:50].strip("_")
    permalink = f"/r/{sub}/comments/{post.native_id}/{slug}/"
    parent = post.parent
    data: dict[str, Any] = {
        "approved_at_utc": None,
        "subreddit": sub,
        "selftext": post.text,
        "author_fullname": "t2_" + hashlib.sha1(post.author.handle.encode()).hexdigest()[:8],
        "saved": False,
        "gilded": 0,
        "clicked": False,
        "title": post.title or "",
        "subreddit_name_prefixed": f"r/{sub}",
        "hidden": False,
        "downs": 0,
        "name": post.source_id,
        "upvote_ratio": 0.93,
        "ups": counts["likes"],
        "total_awards_received": 0,
        "score": counts["likes"],
        "edited": False,
        "is_self": parent is None,
        "created": post.created_at.timestamp(),
        "domain": f"self.{sub}" if parent is None else f"self.{parent.extra['subreddit']}",
        "selftext_html": None,
        "likes": None,
        "archived": False,
        "no_follow": False,
        "over_18": False,
        "locked": False,
        "subreddit_id": "t5_" + hashlib.sha1(sub.encode()).hexdigest()[:6],
        "id": post.native_id,
        "author": post.author.handle,
        "num_comments": counts["replies"],
        "permalink": permalink,
        "url": f"https://www.reddit.com{permalink}",
        "subreddit_subscribers": 1_000_000,
        "created_utc": post.created_at.timestamp(),
        "num_crossposts": counts["reposts"],
        "is_video": False,
        "lang_hint": post.lang,
    }
    if parent is not None:
        data["crosspost_parent"] = parent.source_id
        data["crosspost_parent_list"] = [_submission(parent, now)]
    return data
