"""The Posts page's data (`dashboard/screens/posts.py`): the posts of a claim, a variant and a
time window, with their text and link, and the words searched for in them.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.data.shared import (
    Cache,
    PostQuery,
    PostsData,
    Scope,
    chosen_posts,
    details,
    facts_of,
    generated_of,
    row_label,
)


def posts_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    query: PostQuery,
    cache: Cache | None = None,
) -> PostsData:
    """The posts of the Posts page, with their text and link; `search` looks in the text, the
    title, the author and the matched words, ignoring case."""
    facts = facts_of(con, cache)
    texts = (
        cache.details(con, query.claim_id) if cache is not None else details(con, query.claim_id)
    )
    mentions = chosen_posts(scope.only(query.claim_id).filter(facts.mentions), query).join(
        texts, on="post_uid", how="left"
    )
    needle = query.search.strip().lower()
    if needle:
        mentions = mentions.filter(
            pl.any_horizontal(
                pl.col(c).str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
                for c in ("text", "title", "author_handle", "matched_text")
            )
        )
    posts = (
        mentions.sort("created_at", "post_uid")
        .head(query.limit)
        .select(
            "created_at",
            "source",
            "author_handle",
            "kind",
            row_label(),
            "stance",
            "matched_text",
            "text",
            "url",
            "provenance",
            "reach",
            "post_uid",
        )
    )
    return PostsData(posts=posts, total=mentions.height, generated=generated_of(mentions))
