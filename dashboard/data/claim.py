"""The Claim page's data (`dashboard/screens/claim.py`): one claim's spread per variant, the
variants' numbers, the corrections and their effect (`variant_summary`'s rules), and the posts
behind a point of its charts.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from dashboard.data.shared import (
    Cache,
    Grain,
    PostQuery,
    PostsData,
    Scope,
    chosen_posts,
    facts_of,
    generated_of,
    spread_of,
    variant_label,
    variant_stats_of,
)


@dataclass(frozen=True)
class ClaimData:
    spread: pl.DataFrame
    variants: pl.DataFrame  # variant_stats of the claim, within the scope
    summary: pl.DataFrame  # the corrections' effect per variant (all time, all sources)
    corrections: pl.DataFrame
    generated: int


def claim_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    claim_id: str,
    grain: Grain,
    tz: str,
    cache: Cache | None = None,
) -> ClaimData:
    facts = facts_of(con, cache)
    one = scope.only(claim_id)
    mentions = one.filter(facts.mentions)
    every = facts.mentions.filter(pl.col("claim_id") == claim_id)
    fixes = facts.corrections.filter(pl.col("claim_id") == claim_id)
    return ClaimData(
        spread=spread_of(mentions, grain, tz),
        variants=variant_stats_of(mentions),
        summary=summary_of(every, fixes),
        corrections=one.filter(fixes).sort(["created_at", "post_uid"], descending=[True, False]),
        generated=generated_of(mentions),
    )


def _hours(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds() / 3_600_000_000


def summary_of(mentions: pl.DataFrame, corrections: pl.DataFrame) -> pl.DataFrame:
    """`variant_summary`'s correction columns for the claims of `mentions` (all their mentions,
    all time): the first correction, the share of each variant's posts at or after it, and the
    variant's rate (posts per hour) before and after it. The rules are in docs/views.md."""
    first_fix = corrections.group_by("claim_id").agg(
        pl.col("created_at").min().alias("first_correction_at")
    )
    last_post = mentions.group_by("claim_id").agg(pl.col("created_at").max().alias("last_post"))
    fixed = pl.col("first_correction_at")
    rated = (
        mentions.join(first_fix, on="claim_id", how="left")
        .group_by("claim_id", "variant")
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            pl.col("created_at").min().alias("first_seen"),
            fixed.first(),
            (pl.col("created_at") < fixed).sum().cast(pl.Int64).alias("before"),
            (pl.col("created_at") >= fixed).sum().cast(pl.Int64).alias("after"),
        )
        .join(last_post, on="claim_id")
    )
    return rated.select(
        "claim_id",
        variant_label(),
        fixed,
        pl.when(fixed.is_not_null()).then(pl.col("after")).alias("posts_after_correction"),
        pl.when(fixed.is_not_null())
        .then(pl.col("after") / pl.col("posts"))
        .alias("share_after_correction"),
        pl.when(fixed > pl.col("first_seen"))
        .then(pl.col("before") / _hours(pl.col("first_seen"), fixed))
        .alias("rate_before"),
        pl.when(pl.col("last_post") > fixed)
        .then(pl.col("after") / _hours(fixed, pl.col("last_post")))
        .alias("rate_after"),
    ).with_columns(rate_fell=pl.col("rate_after") < pl.col("rate_before"))


def point_posts(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    query: PostQuery,
    cache: Cache | None = None,
) -> PostsData:
    """The posts behind a point of a chart (the Claim page), without their text: the Posts page
    shows the text and the links."""
    mentions = chosen_posts(scope.only(query.claim_id).filter(facts_of(con, cache).mentions), query)
    posts = (
        mentions.sort("created_at", "post_uid")
        .head(query.limit)
        .select(
            "created_at",
            "source",
            "author_handle",
            "kind",
            "stance",
            "matched_text",
            "reach",
            "provenance",
            "post_uid",
        )
    )
    return PostsData(posts=posts, total=mentions.height, generated=generated_of(mentions))
