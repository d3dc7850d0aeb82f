"""The Overview page's data (`dashboard/screens/overview.py`): every claim of the scope at a
glance, and its story: how its variants raced against the corrections, when each variant was
first seen and peaked, the first authority correction and how each variant spread before and
after it; and the digests written.

The turning point of a claim is its first authority correction; a claim no authority corrected
turns at its first fact-check, else at its first correction of any kind (`turns` says which). It
is taken over all time and all sources, as the view `variant_summary` takes the claim's first
correction, and each variant's spread around it follows that view's rules (`summary_of`), with
this correction in place of the first of any kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import polars as pl

from claims.marks import KINDS, authority_names
from config import Authority
from dashboard.data.claim import summary_of
from dashboard.data.shared import (
    NO_VARIANT,
    Cache,
    Grain,
    Scope,
    bucket_of,
    distinct,
    facts_of,
    fill_gaps,
    frame,
    generated_of,
    spread_of,
    variant_label,
    variant_stats_of,
)

RACE_BY_HOUR = timedelta(days=7)  # a longer time range races by day: a week is 168 hours
TURN = ["turn_kind", "turn_at", "turn_by", "turn_handle", "turn_source", "turn_url"]


@dataclass(frozen=True)
class OverviewData:
    claims: pl.DataFrame  # one row per claim of the scope that has mentions
    variants: pl.DataFrame  # variant_stats with posts_24h, authors_24h, the peak, the turn's effect
    race: pl.DataFrame  # per claim, series (a variant, or the corrections) and bucket: so_far
    grain: Grain  # the race's and the peaks' buckets
    turns: pl.DataFrame  # per corrected claim: its turning point (all time, all sources)
    corrections: pl.DataFrame  # within the scope: authority, factcheck, community; newest first
    generated: int


def overview_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    now: datetime,
    tz: str,
    authorities: Sequence[Authority] = (),
    cache: Cache | None = None,
) -> OverviewData:
    """Per claim: variants, posts and authors overall and in the 24 hours before `now`, the
    leading variant, the latest correction, and the story (the module's docstring). Corrections
    by one of `authorities` are named as the config names them."""
    facts = facts_of(con, cache)
    mentions = scope.filter(facts.mentions)
    every = facts.mentions.filter(pl.col("claim_id").is_in(list(scope.claim_ids)))
    names = _names(authorities)
    fixes = named(scope.filter(facts.corrections), names)
    turns = turns_of(
        named(facts.corrections, names).filter(pl.col("claim_id").is_in(list(scope.claim_ids)))
    )
    grain = race_grain(mentions)
    spread = spread_of(mentions, grain, tz)
    stats = (
        variant_stats_of(mentions)
        .join(_recent_stats(mentions, now), on=["claim_id", "variant"], how="left")
        .with_columns(pl.col("posts_24h", "authors_24h").fill_null(0))
        .join(peaks_of(spread), on=["claim_id", "variant"], how="left")
        .join(_after_turn(every, turns), on=["claim_id", "variant"], how="left")
    )
    claims = (
        _totals(mentions, now)
        .join(leading_variants(stats), on="claim_id", how="left")
        .join(_latest(fixes), on="claim_id", how="left")
        .join(_first_authority(turns), on="claim_id", how="left")
        .with_columns(pl.col("variants", "authors", "authors_24h").cast(pl.Int64))
        .sort("claim_id")
    )
    return OverviewData(
        claims=claims,
        variants=stats,
        race=race_of(spread, fixes, grain, tz),
        grain=grain,
        turns=turns,
        corrections=short_list(fixes),
        generated=generated_of(mentions),
    )


def _recent(now: datetime) -> pl.Expr:
    return (pl.col("created_at") >= now - timedelta(hours=24)) & (pl.col("created_at") < now)


def _totals(mentions: pl.DataFrame, now: datetime) -> pl.DataFrame:
    recent = _recent(now)
    return mentions.group_by("claim_id").agg(
        distinct("variant").alias("variants"),
        pl.len().cast(pl.Int64).alias("posts"),
        distinct("author").alias("authors"),
        recent.sum().cast(pl.Int64).alias("posts_24h"),
        pl.col("author").filter(recent).drop_nulls().n_unique().alias("authors_24h"),
        pl.col("created_at").min().alias("first_seen"),
        pl.col("created_at").max().alias("last_seen"),
    )


def _recent_stats(mentions: pl.DataFrame, now: datetime) -> pl.DataFrame:
    return (
        mentions.filter(_recent(now))
        .group_by("claim_id", "variant")
        .agg(
            pl.len().cast(pl.Int64).alias("posts_24h"),
            distinct("author").cast(pl.Int64).alias("authors_24h"),
        )
        .with_columns(variant_label())
    )


def _latest(corrections: pl.DataFrame) -> pl.DataFrame:
    return (
        corrections.sort(["created_at", "post_uid"], descending=[True, False])
        .group_by("claim_id", maintain_order=True)
        .first()
        .select(
            "claim_id",
            latest_correction_at="created_at",
            latest_correction_by="author_handle",
            latest_correction_kind="kind",
        )
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


# --- the story ---------------------------------------------------------------------------------


def _names(authorities: Sequence[Authority]) -> pl.DataFrame:
    """Who each configured authority is, once per account (claims may share authorities)."""
    return authority_names(authorities).unique(["source", "handle_key"], keep="first")


def named(corrections: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """`corrections` with `who`: the authority's name from the config, else the author's handle."""
    keyed = corrections.with_columns(handle_key=pl.col("author_handle").str.to_lowercase())
    return (
        keyed.join(names, on=["source", "handle_key"], how="left", maintain_order="left")
        .with_columns(who=pl.coalesce("name", "author_handle", pl.lit("?")))
        .drop("handle_key", "name")
    )


def _kind_rank() -> pl.Expr:
    """Authority first, then fact-check, then community: the order of every short list."""
    ranks = {kind: i for i, kind in enumerate(KINDS)}
    return pl.col("kind").replace_strict(ranks, default=len(KINDS), return_dtype=pl.Int32)


def turns_of(corrections: pl.DataFrame) -> pl.DataFrame:
    """Each claim's turning point (the module's docstring), columns `TURN`."""
    return (
        corrections.sort(
            [_kind_rank(), pl.col("created_at"), pl.col("post_uid")],
        )
        .group_by("claim_id", maintain_order=True)
        .first()
        .select(
            "claim_id",
            turn_kind="kind",
            turn_at="created_at",
            turn_by="who",
            turn_handle="author_handle",
            turn_source="source",
            turn_url="url",
        )
    )


def _first_authority(turns: pl.DataFrame) -> pl.DataFrame:
    authority = turns.filter(pl.col("turn_kind") == "authority")
    return authority.select("claim_id", first_authority_at="turn_at", first_authority_by="turn_by")


def _after_turn(every: pl.DataFrame, turns: pl.DataFrame) -> pl.DataFrame:
    """Each variant's share of posts at or after its claim's turn, and its posts per hour before
    and after it (over every mention of the claim: all time, all sources)."""
    at_turn = turns.select("claim_id", created_at="turn_at")
    return summary_of(every, at_turn).select(
        "claim_id",
        "variant",
        "share_after_correction",
        "rate_before",
        "rate_after",
        "rate_fell",
    )


def race_grain(mentions: pl.DataFrame) -> Grain:
    """Hours for a story of up to a week, days beyond."""
    if mentions.height == 0:
        return "hour"
    times = pl.col("created_at")
    span: timedelta = mentions.select(times.max() - times.min()).item()
    return "hour" if span <= RACE_BY_HOUR else "day"


def peaks_of(spread: pl.DataFrame) -> pl.DataFrame:
    """Per claim and variant, the bucket with the most posts (a tie: the earliest) and its posts."""
    return (
        spread.sort(
            ["claim_id", "variant", "posts", "bucket"], descending=[False, False, True, False]
        )
        .group_by("claim_id", "variant", maintain_order=True)
        .first()
        .select("claim_id", "variant", peak="bucket", peak_posts="posts")
    )


def race_of(spread: pl.DataFrame, corrections: pl.DataFrame, grain: Grain, tz: str) -> pl.DataFrame:
    """The race: per claim, each variant's posts so far at every bucket of the time axis (quiet
    buckets included), and the corrections' so far on the same buckets (series `corrections`).
    The mentions without a value race only in a claim that has no variant (a claim without a
    quantity): elsewhere they are no side of the race.
    Columns claim_id, series (`variant` or `corrections`), variant, shown, bucket, posts (in the
    bucket), so_far."""
    if spread.height == 0:
        return pl.DataFrame(
            schema={
                "claim_id": pl.String,
                "series": pl.String,
                "variant": pl.String,
                "shown": pl.String,
                "bucket": pl.Datetime("us", "UTC"),
                "posts": pl.Int64,
                "so_far": pl.Int64,
            }
        )
    valued = pl.col("variant") != NO_VARIANT
    racing = spread.filter(valued | ~valued.any().over("claim_id"))
    variants = fill_gaps(
        racing.select("claim_id", "variant", "shown", "bucket", "posts"), grain, tz
    ).with_columns(series=pl.lit("variant"))
    buckets = variants.select("claim_id", "bucket").unique()
    fixes = (
        corrections.with_columns(bucket=bucket_of(grain, tz))
        .group_by("claim_id", "bucket")
        .agg(pl.len().cast(pl.Int64).alias("posts"))
    )
    corrected = (
        buckets.join(fixes, on=["claim_id", "bucket"], how="left")
        .with_columns(
            pl.col("posts").fill_null(0),
            series=pl.lit("corrections"),
            variant=pl.lit(None, pl.String),
            shown=pl.lit("corrections"),
        )
        .filter(pl.col("posts").sum().over("claim_id") > 0)
    )
    return (
        pl.concat([variants, corrected], how="diagonal_relaxed")
        .sort("claim_id", "series", "variant", "bucket", nulls_last=True)
        .with_columns(
            pl.col("posts").cum_sum().over("claim_id", "series", "variant").alias("so_far")
        )
        .select("claim_id", "series", "variant", "shown", "bucket", "posts", "so_far")
    )


def short_list(corrections: pl.DataFrame) -> pl.DataFrame:
    """The corrections as every short list shows them: authorities', then fact-checkers', then
    the community's, each newest first."""
    return corrections.sort(
        [pl.col("claim_id"), _kind_rank(), pl.col("created_at"), pl.col("post_uid")],
        descending=[False, False, True, False],
    ).select(
        "claim_id",
        "kind",
        "who",
        "created_at",
        "source",
        "variant",
        "url",
        "author_handle",
        "post_uid",
    )


def digests(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every version of the daily digests written, the newest day first and each day's latest
    version first (views `digest_versions` and `digests`): `latest` marks the one `digests`
    points at."""
    return frame(
        con,
        """
        SELECT v.day, v.version, v.version = d.version AS latest, v.timezone, v.markdown_path,
               v.written_at, v.changes, d.rewrites
        FROM digest_versions v JOIN digests d USING (day)
        ORDER BY v.day DESC, v.version DESC""",
        {},
    )
