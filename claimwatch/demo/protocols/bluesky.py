"""Bluesky's protocol: `createSession` / `refreshSession`, then `app.bsky.feed.searchPosts` with
the Bearer token, paged by its opaque `cursor`, `until` / `since`, `ratelimit-*` headers with a
unix reset and a policy, post views and authors in the AT Protocol's shape."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from claimwatch.demo.protocols.common import Reply, Spend, iso, page_limit
from claimwatch.demo.traffic import StoryPost, matches, search_words


def session(
    body: bytes, *, refresh: bool, authorized: bool, issue_token: Callable[[], str]
) -> Reply:
    """`POST createSession` (a login in `body`) or `refreshSession` (`authorized` by its token)."""
    if refresh:
        if not authorized:
            return Reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
    else:
        try:
            login = json.loads(body or b"{}")
        except ValueError:
            login = {}
        if not login.get("identifier") or not login.get("password"):
            return Reply(
                {
                    "error": "AuthenticationRequired",
                    "message": "Invalid identifier or password",
                },
                401,
            )
    handle = "demo-reader.bsky.example"
    return Reply(
        {
            "accessJwt": issue_token(),
            "refreshJwt": issue_token(),
            "handle": handle,
            "did": "did:plc:demoreader0000000000000",
            "active": True,
        }
    )


def search(
    posts: list[StoryPost],
    query: dict[str, str],
    now: datetime,
    *,
    authorized: bool,
    spend: Spend,
    window: float,
) -> Reply:
    """`GET app.bsky.feed.searchPosts` over the visible `posts` (newest first), for a request
    `authorized` by a session's token; `window` is the budget's in real seconds."""
    if not authorized:
        return Reply({"error": "AuthMissing", "message": "Authentication Required"}, 401)
    words = search_words(query.get("q", ""))
    until = _atproto_time(query.get("until"))
    since = _atproto_time(query.get("since"))
    found = [
        p
        for p in posts
        if matches(p, words)
        and (until is None or _sort_at(p) < until)
        and (since is None or _sort_at(p) >= since)
    ]
    limit = page_limit(query, default=25, cap=100)
    start = int(query.get("cursor") or 0)
    page = found[start : start + limit]
    body: dict[str, Any] = {"posts": [_post_view(p, now) for p in page]}
    if start + limit < len(found):
        body["cursor"] = str(start + limit)
    body["hitsTotal"] = len(found)
    limit_total, remaining, reset_in = spend()
    return Reply(
        body,
        headers={
            "ratelimit-limit": str(limit_total),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(time.time() + reset_in)),
            "ratelimit-policy": f"{limit_total};w={max(int(window), 1)}",
        },
        api="bluesky",
        served=len(page),
    )


def _atproto_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _indexed_at(post: StoryPost) -> datetime:
    """Search indexes a post a few seconds after it is made."""
    lag = int(hashlib.sha1(post.native_id.encode()).hexdigest()[:4], 16) % 20
    return post.created_at + timedelta(seconds=2 + lag)


def _sort_at(post: StoryPost) -> datetime:
    return min(post.created_at, _indexed_at(post))


def _post_view(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": iso(post.created_at),
        "langs": [post.lang],
        "text": post.text,
    }
    view: dict[str, Any] = {
        "uri": post.extra["uri"],
        "cid": "bafyrei" + hashlib.sha256(post.extra["uri"].encode()).hexdigest()[:52],
        "author": _bluesky_author(post),
        "record": record,
        "replyCount": counts["replies"],
        "repostCount": counts["reposts"],
        "likeCount": counts["likes"],
        "quoteCount": counts["quotes"],
        "indexedAt": iso(_indexed_at(post)),
        "labels": [],
    }
    parent = post.parent
    if parent is not None and post.kind == "reply":
        ref = {"uri": parent.extra["uri"], "cid": _cid(parent)}
        root = parent
        while root.parent is not None and root.kind == "reply":
            root = root.parent
        record["reply"] = {"parent": ref, "root": {"uri": root.extra["uri"], "cid": _cid(root)}}
    elif parent is not None and post.kind == "quote":
        ref = {"uri": parent.extra["uri"], "cid": _cid(parent)}
        record["embed"] = {"$type": "app.bsky.embed.record", "record": ref}
        quoted = _post_view(parent, now)
        view["embed"] = {
            "$type": "app.bsky.embed.record#view",
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted["uri"],
                "cid": quoted["cid"],
                "author": quoted["author"],
                "value": quoted["record"],
                "labels": [],
                "likeCount": quoted["likeCount"],
                "replyCount": quoted["replyCount"],
                "repostCount": quoted["repostCount"],
                "quoteCount": quoted["quoteCount"],
                "indexedAt": quoted["indexedAt"],
                "embeds": [],
            },
        }
    return view


def _cid(post: StoryPost) -> str:
    return "bafyrei" + hashlib.sha256(post.extra["uri"].encode()).hexdigest()[:52]


def _bluesky_author(post: StoryPost) -> dict[str, Any]:
    return {
        "did": post.author.user_id,
        "handle": post.author.handle,
        "displayName": post.author.name,
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{post.author.user_id}/demo@jpeg",
        "labels": [],
        "createdAt": "2023-04-26T19:05:34.249Z",
    }
