"""Mastodon's protocol: the tag timeline and status search, paged by `max_id` / `min_id` /
`since_id` with the `Link` header, `X-RateLimit-*` headers, statuses and accounts in its shape."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from claimwatch.demo.protocols.common import Reply, Spend, iso, page_limit
from claimwatch.demo.traffic import StoryPost, matches, search_words

_TAG = re.compile(r"#(\w+)")


def tag_timeline(
    path: str,
    posts: list[StoryPost],
    query: dict[str, str],
    now: datetime,
    *,
    host: str | None,
    spend: Spend,
) -> Reply:
    """`GET /api/v1/timelines/tag/<tag>` over the visible `posts` (newest first)."""
    tag = unquote(path.rsplit("/", 1)[1]).casefold()
    statuses = [p for p in posts if tag in (t.casefold() for t in _TAG.findall(p.text))]
    return _page(path, statuses, query, now, "mastodon:tag", host=host, spend=spend)


def search(posts: list[StoryPost], query: dict[str, str], now: datetime, *, spend: Spend) -> Reply:
    """`GET /api/v2/search` over the visible `posts` (newest first): statuses only."""
    if query.get("type", "statuses") != "statuses":
        return Reply({"accounts": [], "statuses": [], "hashtags": []})
    words = search_words(query.get("q", ""))
    found = [p for p in posts if matches(p, words)]
    # Search turns min_id into a date filter and still lists newest first (Mastodon 4.2+).
    page = _id_window(found, query, _mastodon_id, default_limit=20, cap=40, immediate=False)
    body = {"accounts": [], "statuses": [_status(p, now) for p in page], "hashtags": []}
    return Reply(body, headers=_limits(spend), api="mastodon:search", served=len(page))


def _page(
    path: str,
    statuses: list[StoryPost],
    query: dict[str, str],
    now: datetime,
    api: str,
    *,
    host: str | None,
    spend: Spend,
) -> Reply:
    limit = page_limit(query, default=20, cap=40)
    page = _id_window(statuses, query, _mastodon_id, default_limit=20, cap=40)
    headers = _limits(spend)
    if page:
        base = f"http://{host}{path}"
        links = [f'<{base}?limit={limit}&min_id={page[0].native_id}>; rel="prev"']
        if len(page) == limit:
            links.insert(0, f'<{base}?limit={limit}&max_id={page[-1].native_id}>; rel="next"')
        headers["Link"] = ", ".join(links)
    return Reply([_status(p, now) for p in page], headers=headers, api=api, served=len(page))


def _limits(spend: Spend) -> dict[str, str]:
    limit, remaining, reset_in = spend()
    reset = datetime.now(UTC) + timedelta(seconds=reset_in)
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    }


def _mastodon_id(post: StoryPost) -> int:
    return int(post.native_id)


def _id_window(
    posts: list[StoryPost],
    query: dict[str, str],
    key: Callable[[StoryPost], int],
    *,
    default_limit: int,
    cap: int,
    immediate: bool = True,
) -> list[StoryPost]:
    """Mastodon's id paging over `posts` (newest first): `max_id` and `since_id` bound the page,
    `min_id` asks for the statuses immediately newer than it (`immediate`; else it bounds the page
    like `since_id`); always served newest first."""
    limit = page_limit(query, default=default_limit, cap=cap)
    ordered = sorted(posts, key=key, reverse=True)
    if "max_id" in query:
        ordered = [p for p in ordered if key(p) < _int(query["max_id"])]
    if "since_id" in query:
        ordered = [p for p in ordered if key(p) > _int(query["since_id"])]
    if "min_id" in query:
        newer = [p for p in ordered if key(p) > _int(query["min_id"])]
        return newer[-limit:] if immediate else newer[:limit]
    return ordered[:limit]


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _mastodon_html(post: StoryPost) -> str:
    domain = post.author.handle.split("@")[1]

    def tag_link(match: re.Match[str]) -> str:
        tag = match.group(1)
        return (
            f'<a href="https://{domain}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
            f"#<span>{tag}</span></a>"
        )

    return f"<p>{_TAG.sub(tag_link, html.escape(post.text, quote=False))}</p>"


def _account(post: StoryPost) -> dict[str, Any]:
    author = post.author
    user, domain = author.handle.split("@")
    return {
        "id": str(int(hashlib.sha1(author.user_id.encode()).hexdigest()[:15], 16)),
        "username": user,
        "acct": author.handle,
        "display_name": author.name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": "",
        "url": f"https://{domain}/@{user}",
        "uri": author.user_id,
        "avatar": f"https://{domain}/avatars/original/missing.png",
        "avatar_static": f"https://{domain}/avatars/original/missing.png",
        "header": f"https://{domain}/headers/original/missing.png",
        "header_static": f"https://{domain}/headers/original/missing.png",
        "followers_count": author.followers or 0,
        "following_count": 180,
        "statuses_count": 1200,
        "last_status_at": post.created_at.date().isoformat(),
        "emojis": [],
        "fields": [],
    }


def _status(post: StoryPost, now: datetime, nested: bool = False) -> dict[str, Any]:
    counts = post.counts_at(now)
    parent = post.parent
    content = _mastodon_html(post)
    quote: dict[str, Any] | None = None
    if post.kind == "quote" and parent is not None:
        link = parent.extra["url"]
        content = content[: -len("</p>")] + (
            f'<span class="quote-inline"><br><br>RE: <a href="{link}">{link}</a></span></p>'
        )
        quote = (
            {"state": "accepted", "quoted_status_id": parent.native_id}
            if nested
            else {"state": "accepted", "quoted_status": _status(parent, now, nested=True)}
        )
    domain = post.author.handle.split("@")[1]
    return {
        "id": post.native_id,
        "created_at": iso(post.created_at),
        "in_reply_to_id": parent.native_id if post.kind == "reply" and parent else None,
        "in_reply_to_account_id": _account(parent)["id"]
        if post.kind == "reply" and parent
        else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.lang,
        "uri": post.extra["uri"],
        "url": post.extra["url"],
        "replies_count": counts["replies"],
        "reblogs_count": counts["reposts"],
        "favourites_count": counts["likes"],
        "quotes_count": counts["quotes"],
        "edited_at": None,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": None,
        "account": _account(post),
        "media_attachments": [],
        "mentions": [],
        "tags": [
            {"name": tag.lower(), "url": f"https://{domain}/tags/{tag.lower()}"}
            for tag in _TAG.findall(post.text)
        ],
        "emojis": [],
        "quote": quote,
        "card": None,
        "poll": None,
    }
