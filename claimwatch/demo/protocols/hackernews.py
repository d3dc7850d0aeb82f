"""Hacker News' protocol (Algolia): `/api/v1/search_by_date`, `numericFilters=created_at_i>...`,
`tags`, `page` / `nbPages`, stories and comments as Algolia's hits."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from claimwatch.demo.protocols.common import Reply, iso, page_limit
from claimwatch.demo.traffic import StoryPost, matches, search_words


def search_by_date(
    posts: list[StoryPost], query: dict[str, str], now: datetime, *, params: str
) -> Reply:
    """`GET /api/v1/search_by_date` over the visible `posts` (newest first); `params` is the
    request's query string, which Algolia echoes."""
    words = search_words(query.get("query", ""))
    kinds = set(re.findall(r"\w+", query.get("tags", "story,comment")))
    lo, hi = _numeric_filters(query.get("numericFilters", ""))
    found = [
        p
        for p in posts
        if ("comment" if p.kind == "comment" else "story") in kinds
        and (lo is None or p.created_at.timestamp() > lo)
        and (hi is None or p.created_at.timestamp() <= hi)
        and matches(p, words)
    ]
    per_page = page_limit(query, default=20, cap=1000, name="hitsPerPage")
    found = found[:1000]  # Algolia serves at most 1000 hits of a query
    page = int(query.get("page", "0"))
    hits = found[page * per_page : (page + 1) * per_page]
    body = {
        "hits": [_hn_hit(p, now) for p in hits],
        "nbHits": len(found),
        "page": page,
        "nbPages": -(-len(found) // per_page),
        "hitsPerPage": per_page,
        "exhaustiveNbHits": True,
        "query": query.get("query", ""),
        "params": params,
        "processingTimeMS": 1,
    }
    return Reply(body, api="hackernews", served=len(hits))


def _numeric_filters(value: str) -> tuple[float | None, float | None]:
    lo = hi = None
    for part in value.split(","):
        if m := re.fullmatch(r"created_at_i\s*(>=|>|<=|<)\s*(\d+)", part.strip()):
            number = float(m.group(2))
            if m.group(1).startswith(">"):
                lo = number - (1 if m.group(1) == ">=" else 0)
            else:
                hi = number - (1 if m.group(1) == "<" else 0)
    return lo, hi


def _hn_hit(post: StoryPost, now: datetime) -> dict[str, Any]:
    counts = post.counts_at(now)
    story = post.parent if post.kind == "comment" else post
    hit: dict[str, Any] = {
        "created_at": iso(post.created_at),
        "created_at_i": int(post.created_at.timestamp()),
        "author": post.author.handle,
        "objectID": post.native_id,
        "updated_at": iso(post.created_at),
        "_tags": [
            "comment" if post.kind == "comment" else "story",
            f"author_{post.author.handle}",
            f"story_{story.native_id if story else post.native_id}",
        ],
    }
    if post.kind == "comment" and post.parent is not None:
        hit |= {
            "comment_text": html.escape(post.text),
            "parent_id": int(post.parent.native_id),
            "story_id": int(post.parent.native_id),
            "story_title": post.parent.title,
            "story_url": None,
        }
    else:
        hit |= {
            "title": post.title,
            "url": None,
            "story_text": f"<p>{html.escape(post.text)}",
            "points": counts["likes"],
            "num_comments": counts["replies"],
            "story_id": int(post.native_id),
        }
    return hit
