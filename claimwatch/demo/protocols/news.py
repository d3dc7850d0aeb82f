"""Google News' protocol: `/rss/search?q=... when:7d&hl&gl&ceid`, one RSS page of an edition's
articles, with an `ETag` and a 304 for `If-None-Match`."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from claimwatch.demo.protocols.common import Reply
from claimwatch.demo.traffic import StoryPost, matches, search_words


def search(
    posts: list[StoryPost], query: dict[str, str], now: datetime, *, if_none_match: str | None
) -> Reply:
    """`GET /rss/search` over the visible `posts` (newest first)."""
    q = query.get("q", "")
    words = search_words(q)
    edition = query.get("hl", "en-CA")
    days = re.search(r"when:(\d+)d", q)
    since = now - timedelta(days=int(days.group(1))) if days else now - timedelta(days=3650)
    items = [
        p
        for p in posts
        if p.created_at >= since and p.extra.get("edition") == edition and matches(p, words)
    ][:100]
    body = _rss(q, edition, items, now).encode()
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    if if_none_match == etag:
        return Reply(b"", 304, {"ETag": etag}, api="news", served=len(items))
    headers = {"Content-Type": "application/xml; charset=utf-8", "ETag": etag}
    return Reply(body, headers=headers, api="news", served=len(items))


def _rss(q: str, edition: str, items: list[StoryPost], now: datetime) -> str:
    lang, region = edition.split("-")
    link = (
        f"https://news.google.com/search?q={quote(q)}&hl={edition}&gl={region}&ceid={region}:{lang}"
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        "<generator>NFE/5.0</generator>",
        f"<title>{escape(q)} - Google News</title>",
        f"<link>{escape(link)}</link>",
        f"<language>{edition}</language>",
        "<webMaster>news-webmaster@google.com</webMaster>",
        f"<copyright>{now.year} Google LLC</copyright>",
        f"<lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate>",
        "<description>Google News</description>",
    ]
    for post in items:
        outlet, site = post.extra["outlet"]
        article = f"https://news.google.com/rss/articles/{post.native_id}?oc=5"
        if post.title is not None:
            description = (
                f'<a href="{article}" target="_blank">{html.escape(post.title)}</a>'
                f'&nbsp;&nbsp;<font color="#6f6f6f">{html.escape(outlet)}</font>'
            )
            title = f"<title>{escape(post.title)} - {escape(outlet)}</title>"
        else:  # the real article: its headline is not known, its quoted text is
            description, title = html.escape(post.text), ""
        parts.append(
            f"<item>{title}<link>{escape(article)}</link>"
            f'<guid isPermaLink="false">{escape(post.native_id)}</guid>'
            f"<pubDate>{format_datetime(post.created_at, usegmt=True)}</pubDate>"
            f"<description>{escape(description)}</description>"
            f'<source url="{escape(site)}">{escape(outlet)}</source></item>'
        )
    parts.append("</channel></rss>")
    return "".join(parts)
