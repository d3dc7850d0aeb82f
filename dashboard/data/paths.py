"""The Spread paths page's data (`dashboard/screens/paths.py`): how a variant travelled, as
trees of replies, quotes and reposts, its top spreaders, its copies across sources and the first
post on each source.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from dashboard.data.shared import Cache, Scope, facts_of, generated_of, of_variant


@dataclass(frozen=True)
class PathsData:
    cascades: pl.DataFrame  # one row per tree of replies, quotes and reposts
    tree: pl.DataFrame  # every post of the variant with its root and depth
    spreaders: pl.DataFrame
    crossposts: pl.DataFrame
    first_by_source: pl.DataFrame
    generated: int


def paths_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    claim_id: str,
    variant: str | None,
    cache: Cache | None = None,
) -> PathsData:
    """How a variant (or every variant, `variant` None) travelled."""
    facts = facts_of(con, cache)
    posts = of_variant(scope.only(claim_id).filter(facts.mentions), variant).select(
        "post_uid",
        "parent_uid",
        "kind",
        "source",
        "author_handle",
        "author",
        "created_at",
        "reach",
        "copy_of",
        "provenance",
    )
    originals = facts.mentions.filter(pl.col("claim_id") == claim_id).select(
        copy_of="post_uid", from_source="source"
    )
    crossposts = (
        posts.filter(pl.col("copy_of").is_not_null())
        .join(originals, on="copy_of")
        .filter(pl.col("from_source") != pl.col("source"))
        .group_by("from_source", to_source="source")
        .agg(
            pl.len().cast(pl.Int64).alias("copies"),
            pl.col("created_at").min().alias("first_copy_at"),
        )
        .sort(["copies", "from_source", "to_source"], descending=[True, False, False])
    )
    tree = with_depth(posts)
    return PathsData(
        cascades=cascades(tree),
        tree=tree,
        spreaders=top_spreaders(posts),
        crossposts=crossposts,
        first_by_source=first_by_source(posts),
        generated=generated_of(posts),
    )


def with_depth(posts: pl.DataFrame, max_depth: int = 64) -> pl.DataFrame:
    """Each post's tree: walk the `parent_uid` links up through the posts of the set; the root is
    the first post whose parent is not in the set (a post it answers that does not mention the
    variant still roots the tree: it is the post the variant was spread under), else the post.
    Depth 0 is the root; a chain longer than `max_depth` (or a loop) stops there."""
    links = posts.select(up_uid="post_uid", up_parent="parent_uid")
    walk = posts.select(
        "post_uid", top=pl.col("post_uid"), up=pl.col("parent_uid"), depth=pl.lit(0, pl.Int32)
    )
    uids = posts.get_column("post_uid").unique()
    for _ in range(max_depth):
        climbing = walk.filter(pl.col("up").is_not_null() & pl.col("up").is_in(uids))
        if climbing.height == 0:
            break
        stepped = (
            climbing.join(links, left_on="up", right_on="up_uid", how="left")
            .with_columns(top=pl.col("up"), up=pl.col("up_parent"), depth=pl.col("depth") + 1)
            .select("post_uid", "top", "up", "depth")
        )
        walk = walk.join(stepped, on="post_uid", how="anti").vstack(stepped)
    # the walk stops at `top`, the highest post of the set; its parent `up` (outside the set)
    # roots the tree when there is one
    rooted = walk.with_columns(
        root=pl.coalesce("up", "top"),
        depth=pl.col("depth") + pl.col("up").is_not_null().cast(pl.Int32),
    ).select("post_uid", "root", "depth")
    return posts.join(rooted, on="post_uid", how="left")


def cascades(tree: pl.DataFrame) -> pl.DataFrame:
    """One row per tree with more than its root: size, replies, quotes, reposts, depth, reach."""
    kinds = [
        pl.col("kind").eq(kind).sum().alias(plural)
        for kind, plural in (("reply", "replies"), ("quote", "quotes"), ("repost", "reposts"))
    ]
    return (
        tree.group_by("root")
        .agg(
            pl.len().alias("posts"),
            *kinds,
            pl.col("depth").max().alias("depth"),
            pl.col("author").n_unique().alias("authors"),
            pl.col("source").n_unique().alias("sources"),
            pl.col("reach").sum().alias("reach"),
            pl.col("created_at").min().alias("first_at"),
            pl.col("created_at").max().alias("last_at"),
        )
        .filter(pl.col("depth") > 0)
        .sort(["posts", "reach", "root"], descending=[True, True, False])
    )


def top_spreaders(posts: pl.DataFrame, limit: int = 25) -> pl.DataFrame:
    return (
        posts.group_by("author")
        .agg(
            pl.col("author_handle").first().alias("author_handle"),
            pl.col("reach").sum().alias("reach"),
            pl.len().alias("posts"),
            pl.col("source").unique().sort().str.join(", ").alias("sources"),
            pl.col("created_at").min().alias("first_at"),
        )
        .sort(["reach", "posts", "author"], descending=[True, True, False])
        .head(limit)
        .drop("author")
    )


def first_by_source(posts: pl.DataFrame) -> pl.DataFrame:
    return (
        posts.sort(["created_at", "post_uid"])
        .group_by("source", maintain_order=True)
        .agg(
            pl.col("created_at").first().alias("first_seen"),
            pl.col("author_handle").first().alias("first_author"),
            pl.col("post_uid").first().alias("first_post"),
            pl.len().alias("posts"),
        )
        .sort("first_seen")
    )
