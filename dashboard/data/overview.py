"""The Overview page's data (`dashboard/screens/overview.py`): every claim of the scope at a
glance, with its leading variant, its latest correction and its daily spread, and the digests
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import polars as pl

from dashboard.data.shared import (
    NO_VARIANT,
    FactsCache,
    Scope,
    distinct,
    facts_of,
    frame,
    generated_of,
    spread_of,
    variant_label,
    variant_stats_of,
)


@dataclass(frozen=True)
class OverviewData:
    claims: pl.DataFrame  # one row per claim of the scope that has mentions
    variants: pl.DataFrame  # variant_stats, with posts_24h and authors_24h
    daily: pl.DataFrame  # spread per day, every claim
    generated: int


def overview_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    now: datetime,
    tz: str,
    cache: FactsCache | None = None,
) -> OverviewData:
    """Per claim: variants, posts and authors overall and in the 24 hours before `now`, the
    leading variant, the latest correction; and each claim's daily spread."""
    facts = facts_of(con, cache)
    mentions = scope.filter(facts.mentions)
    recent = (pl.col("created_at") >= now - timedelta(hours=24)) & (pl.col("created_at") < now)
    totals = mentions.group_by("claim_id").agg(
        distinct("variant").alias("variants"),
        pl.len().cast(pl.Int64).alias("posts"),
        distinct("author").alias("authors"),
        recent.sum().cast(pl.Int64).alias("posts_24h"),
        pl.col("author").filter(recent).drop_nulls().n_unique().alias("authors_24h"),
        pl.col("created_at").min().alias("first_seen"),
        pl.col("created_at").max().alias("last_seen"),
    )
    recent_stats = (
        mentions.filter(recent)
        .group_by("claim_id", "variant")
        .agg(
            pl.len().cast(pl.Int64).alias("posts_24h"),
            distinct("author").cast(pl.Int64).alias("authors_24h"),
        )
        .with_columns(variant_label())
    )
    stats = (
        variant_stats_of(mentions)
        .join(recent_stats, on=["claim_id", "variant"], how="left")
        .with_columns(pl.col("posts_24h", "authors_24h").fill_null(0))
    )
    latest = (
        scope.filter(facts.corrections)
        .sort(["created_at", "post_uid"], descending=[True, False])
        .group_by("claim_id", maintain_order=True)
        .first()
    )
    claims = (
        totals.join(leading_variants(stats), on="claim_id", how="left")
        .join(
            latest.select(
                "claim_id",
                latest_correction_at="created_at",
                latest_correction_by="author_handle",
                latest_correction_kind="kind",
            ),
            on="claim_id",
            how="left",
        )
        .with_columns(pl.col("variants", "authors", "authors_24h").cast(pl.Int64))
        .sort("claim_id")
    )
    return OverviewData(
        claims=claims,
        variants=stats,
        daily=spread_of(mentions, "day", tz),
        generated=generated_of(mentions),
    )


def leading_variants(stats: pl.DataFrame) -> pl.DataFrame:
    """The leading variant of each claim, by the rule of `variant_summary.is_leading`: most posts,
    then larger reach, then seen first, then the smaller variant text; never the NULL variant."""
    return (
        stats.filter(pl.col("variant") != NO_VARIANT)
        .sort(
            ["claim_id", "posts", "reach", "first_seen", "variant"],
            descending=[False, True, True, False, False],
        )
        .group_by("claim_id", maintain_order=True)
        .first()
        .select("claim_id", leading_variant="variant", leading_label="shown", leading_posts="posts")
    )


def digests(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The daily digests written, newest first (view `digests`)."""
    return frame(
        con,
        "SELECT day, timezone, markdown_path, written_at, rewrites FROM digests ORDER BY day DESC",
        {},
    )
