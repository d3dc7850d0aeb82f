"""X's protocol: `/2/tweets/search/recent` with the app's Bearer token, the last week, paged by
`next_token`, `since_id` / `until_id`, `x-rate-limit-*` headers, tweets with their referenced
tweets and users in `includes`."""

from __future__ import annotations

import base64
import html
import time
from datetime import datetime, timedelta
from typing import Any

from claimwatch.demo.protocols.common import Reply, Spend, iso, page_limit
from claimwatch.demo.traffic import StoryPost, matches, search_words

_WEEK = timedelta(days=7)


def search(
    posts: list[StoryPost],
    query: dict[str, str],
    now: datetime,
    *,
    authorized: bool,
    spend: Spend,
) -> Reply:
    """`GET /2/tweets/search/recent` over the visible `posts`, for a request `authorized` by the
    app's Bearer token."""
    if not authorized:
        return Reply(
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            401,
        )
    words = search_words(query.get("query", ""))
    since_id, until_id = query.get("since_id"), query.get("until_id")
    found = [
        p
        for p in posts
        if p.created_at >= now - _WEEK
        and matches(p, words)
        and (since_id is None or int(p.native_id) > int(since_id))
        and (until_id is None or int(p.native_id) < int(until_id))
    ]
    found.sort(key=lambda p: int(p.native_id), reverse=True)
    limit = page_limit(query, default=10, cap=100, name="max_results")
    start = _x_offset(query.get("next_token"))
    page = found[start : start + limit]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta |= {"newest_id": page[0].native_id, "oldest_id": page[-1].native_id}
    if start + limit < len(found):
        meta["next_token"] = _x_token(start + limit)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [_tweet(p, now) for p in page]
        body["includes"] = _x_includes(page, now)
    limit_total, remaining, reset_in = spend()
    return Reply(
        body,
        headers={
            "x-rate-limit-limit": str(limit_total),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time() + reset_in)),
        },
        api="x",
        served=len(page),
    )


def _x_token(offset: int) -> str:
    return base64.b32encode(f"offset:{offset}".encode()).decode().rstrip("=").lower()


def _x_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return int(base64.b32decode(padded).decode().removeprefix("offset:"))
    except ValueError:
        return 0


def _tweet(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    parent = post.parent
    text = post.text
    tweet: dict[str, Any] = {
        "id": post.native_id,
        "author_id": post.author.user_id,
        "created_at": iso(post.created_at),
        "conversation_id": post.native_id,
        "lang": post.lang,
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "edit_history_tweet_ids": [post.native_id],
        "public_metrics": {
            "retweet_count": counts["reposts"],
            "reply_count": counts["replies"],
            "like_count": counts["likes"],
            "quote_count": counts["quotes"],
            "bookmark_count": 0,
            "impression_count": counts["likes"] * 40,
        },
    }
    if parent is not None:
        kind = {"repost": "retweeted", "reply": "replied_to", "quote": "quoted"}[post.kind]
        tweet["referenced_tweets"] = [{"type": kind, "id": parent.native_id}]
        if post.kind == "repost":
            text = f"RT @{parent.author.handle}: {parent.text}"
            text = text if len(text) <= 140 else text[:139] + "…"
            tweet["public_metrics"] = _tweet(parent, now)["public_metrics"]  # X repeats them
        if post.kind == "reply":
            tweet["conversation_id"] = parent.native_id
            tweet["in_reply_to_user_id"] = parent.author.user_id
            text = f"@{parent.author.handle} {text}"
        if post.kind == "quote":
            text = f"{text} https://t.co/{post.native_id[-10:]}"
    if len(text) > 280:
        tweet["note_tweet"] = {"text": text}
        text = text[:279] + "…"
    tweet["text"] = html.escape(text, quote=False)  # X escapes &, < and >
    return tweet


def _x_user(post: StoryPost) -> dict[str, Any]:
    author = post.author
    return {
        "id": author.user_id,
        "name": author.name,
        "username": author.handle,
        "created_at": "2015-11-02T23:37:36.000Z",
        "protected": False,
        "verified": False,
        "public_metrics": {
            "followers_count": author.followers or 0,
            "following_count": 300,
            "tweet_count": 5000,
            "listed_count": 3,
        },
    }


def _x_includes(page: list[StoryPost], now: datetime) -> dict[str, Any]:
    referenced = {p.parent.native_id: p.parent for p in page if p.parent is not None}
    users = {p.author.user_id: _x_user(p) for p in [*page, *referenced.values()]}
    includes: dict[str, Any] = {"users": list(users.values())}
    if referenced:
        includes["tweets"] = [_tweet(p, now) for p in referenced.values()]
    return includes
