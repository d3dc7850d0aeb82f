"""Generated posts for benchmarks: realistic sizes and mixes, most of them not about the story."""

from __future__ import annotations

import duckdb
import pyarrow as pa

# Everyday words of Canadian posts, shared with bench/matching.py.
EVERYDAY_WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "for",
    "on",
    "that",
    "with",
    "this",
    "was",
    "at",
    "by",
    "from",
    "city",
    "council",
    "hockey",
    "game",
    "ice",
    "rink",
    "weather",
    "snow",
    "traffic",
    "election",
    "vote",
    "budget",
    "housing",
    "rent",
    "coffee",
    "music",
    "film",
    "Canada",
    "Ottawa",
    "Toronto",
    "Calgary",
]
_WORDS = [
    *EVERYDAY_WORDS,
    "Montreal",
    "Vancouver",
    "ICE",
    "HSI",
    "stations",
    "offices",
    "border",
    "immigration",
    "embassy",
    "consulate",
    "agents",
    "police",
    "arrest",
    "report",
    "news",
    "today",
    "breaking",
    "le",
    "la",
    "les",
    "des",
    "une",
    "est",
    "dans",
    "pour",
    "avec",
    "sur",
    "pas",
    "plus",
    "cinq",
    "quatre",
    "bureaux",
    "postes",
]
_SOURCES = ["bluesky", "mastodon", "reddit", "x", "news", "hackernews"]
_KINDS = ["post", "post", "post", "reply", "repost", "quote", "article", "comment"]


def generate_posts(n: int, seed: float = 0.42, offset: int = 0) -> pa.Table:
    """`n` posts with ids offset..offset+n-1: 15-60 words each, six sources, replies and quotes."""
    con = duckdb.connect()
    try:
        con.execute("SELECT setseed(?)", [seed])
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        words = "[" + ", ".join(f"'{w}'" for w in _WORDS) + "]"
        table = con.execute(
            f"""
            WITH templates AS (
                SELECT list(array_to_string(list_transform(range(15 + (hash(j) % 46)::INT),
                       k -> {words}[(1 + hash(j * 100 + k) % {len(_WORDS)})::BIGINT]), ' ')) AS t
                FROM range(50000) r(j)),
            base AS (
                SELECT i, hash(i) AS h,
                       {_list(_SOURCES)}[(1 + hash(i) % {len(_SOURCES)})::BIGINT] AS source,
                       {_list(_KINDS)}[(1 + hash(i * 7) % {len(_KINDS)})::BIGINT] AS kind
                FROM range(?, ?) t(i))
            SELECT source, i::VARCHAR AS source_id,
                   'https://example.org/' || source || '/' || i AS url, kind,
                   'a' || (h % 200000) AS author_id, 'user' || (h % 200000) AS author_handle,
                   'User ' || (h % 200000) AS author_name,
                   (h % 50000)::BIGINT AS author_followers,
                   TIMESTAMPTZ '2026-01-20' + to_seconds((i * 37) % (14 * 86400)) AS created_at,
                   TIMESTAMPTZ '2026-02-05' AS collected_at,
                   CASE WHEN h % 5 = 0 THEN 'fr' ELSE 'en' END AS lang,
                   (SELECT t FROM templates)[(1 + h % 50000)::BIGINT] || ' #' || i AS text,
                   CASE WHEN kind = 'article' THEN 'Headline ' || i END AS title,
                   CASE WHEN kind IN ('reply', 'repost', 'quote', 'comment') AND i > 0
                        THEN source || ':' || (h % i) END AS parent_uid,
                   NULL::VARCHAR AS root_uid,
                   (h % 1000)::BIGINT AS likes, (h % 97)::BIGINT AS reposts,
                   (h % 31)::BIGINT AS replies, (h % 7)::BIGINT AS quotes
            FROM base""",
            [offset, offset + n],
        ).to_arrow_table()
        return table
    finally:
        con.close()


def _list(items: list[str]) -> str:
    return "[" + ", ".join(f"'{x}'" for x in items) + "]"
