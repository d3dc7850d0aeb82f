"""What the dashboard's pages show, as plain functions over a read-only DuckDB connection.

Every function takes a connection (opened by `Warehouse.reading()` for one batch of queries and
closed right after: the scheduler writes the same file) and filter values, queries only the
documented views (docs/views.md) with bound parameters, and returns Polars frames. The pages cache
their results; `bench/dashboard.py` times them. One function per page (`overview_page`,
`claim_page`...) runs that page's whole batch, so that a page opens the file once per refresh.

Times are UTC in and out; buckets are cut in the display time zone (`tz`), so that a "day" is a
day where the analysts are. A post's reach is counted as in the views (docs/views.md, "Reach").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

Grain = Literal["hour", "day"]
GRAINS: tuple[Grain, ...] = ("hour", "day")
NO_VARIANT = "(none)"  # how the mentions without a value are shown and linked
POSTS_LIMIT = 10_000  # rows of a post table (shown and exported)

REACH = " + ".join(
    f"greatest(coalesce(p.{c}, 0), 0)"
    for c in ("author_followers", "likes", "reposts", "replies", "quotes")
)
AUTHOR = "coalesce(p.author_id, p.author_handle)"
# Only web links become clickable: a post's url is data, and data may say `javascript:`.
SAFE_URL = "CASE WHEN regexp_matches(p.url, '^https?://', 'i') THEN p.url END"


@dataclass(frozen=True)
class Scope:
    """The sidebar's filters: which claims (the topic's), when, and which sources."""

    claim_ids: tuple[str, ...]
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    sources: tuple[str, ...] = ()  # empty: every source

    def where(
        self, alias: str = "m", time_column: str = "created_at"
    ) -> tuple[str, dict[str, Any]]:
        """SQL conditions on a claim_mentions-like relation `alias`, with their parameters."""
        conditions = [f"list_contains($claim_ids, {alias}.claim_id)"]
        params: dict[str, Any] = {"claim_ids": list(self.claim_ids)}
        conditions += self.time_and_sources(alias, time_column, params)
        return " AND ".join(conditions), params

    def time_and_sources(self, alias: str, time_column: str, params: dict[str, Any]) -> list[str]:
        conditions = []
        if self.since is not None:
            conditions.append(f"{alias}.{time_column} >= $since")
            params["since"] = self.since
        if self.until is not None:
            conditions.append(f"{alias}.{time_column} < $until")
            params["until"] = self.until
        if self.sources:
            conditions.append(f"list_contains($sources, {alias}.source)")
            params["sources"] = list(self.sources)
        return conditions


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    return con.execute(sql, params).pl()


def _bucket(grain: Grain, column: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}; found {grain!r}")
    return f"timezone($tz, date_trunc('{grain}', timezone($tz, {column})))"


def _variant_label(column: str = "variant") -> pl.Expr:
    return pl.col(column).fill_null(NO_VARIANT)


# --- shared pieces --------------------------------------------------------------------------------


def variant_stats(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """Per claim and variant, within the scope: posts, authors, reach, sources, first and last."""
    where, params = scope.where()
    return frame(
        con,
        f"""
        SELECT m.claim_id, m.variant, count(*) AS posts,
               count(DISTINCT {AUTHOR}) AS authors, sum({REACH})::BIGINT AS reach,
               count(DISTINCT m.source) AS sources,
               min(m.created_at) AS first_seen, max(m.created_at) AS last_seen
        FROM claim_mentions m JOIN posts p USING (post_uid)
        WHERE {where}
        GROUP BY ALL ORDER BY m.claim_id, posts DESC, m.variant""",
        params,
    ).with_columns(_variant_label())


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
        .select("claim_id", leading_variant="variant", leading_posts="posts")
    )


def spread(
    con: duckdb.DuckDBPyConnection, scope: Scope, grain: Grain, tz: str, claim_id: str | None = None
) -> pl.DataFrame:
    """Posts, authors and reach per claim, variant and bucket (`grain` in time zone `tz`)."""
    where, params = scope.where()
    params["tz"] = tz
    if claim_id is not None:
        where += " AND m.claim_id = $claim_id"
        params["claim_id"] = claim_id
    return frame(
        con,
        f"""
        SELECT m.claim_id, m.variant, {_bucket(grain, "m.created_at")} AS bucket,
               count(*) AS posts, count(DISTINCT {AUTHOR}) AS authors,
               sum({REACH})::BIGINT AS reach
        FROM claim_mentions m JOIN posts p USING (post_uid)
        WHERE {where}
        GROUP BY ALL ORDER BY m.claim_id, bucket, m.variant""",
        params,
    ).with_columns(_variant_label())


def corrections(
    con: duckdb.DuckDBPyConnection, scope: Scope, claim_id: str | None = None
) -> pl.DataFrame:
    """Every correction in the scope, newest first."""
    where, params = scope.where("c")
    if claim_id is not None:
        where += " AND c.claim_id = $claim_id"
        params["claim_id"] = claim_id
    return frame(
        con,
        f"""
        SELECT c.claim_id, c.created_at, c.author_handle, c.kind, c.variant, c.source,
               CASE WHEN regexp_matches(c.url, '^https?://', 'i') THEN c.url END AS url,
               c.post_uid
        FROM corrections c
        WHERE {where}
        ORDER BY c.created_at DESC, c.post_uid""",
        params,
    )


def generated_posts(con: duckdb.DuckDBPyConnection, scope: Scope) -> int:
    """How many of the posts counted in the scope the demo generated (0 for real data)."""
    where, params = scope.where()
    row = con.execute(
        f"""
        SELECT count(DISTINCT m.post_uid)
        FROM claim_mentions m JOIN post_provenance pp USING (post_uid)
        WHERE pp.provenance = 'generated' AND {where}""",
        params,
    ).fetchone()
    return int(row[0]) if row else 0


# --- freshness and the scheduler's pulse ----------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    posts: int
    latest_collected_at: datetime | None
    latest_created_at: datetime | None
    heartbeat: dict[str, Any] | None  # the latest heartbeats row, if any
    sources: tuple[str, ...]


def freshness(con: duckdb.DuckDBPyConnection) -> Freshness:
    row = con.execute(
        "SELECT count(*), max(collected_at), max(created_at) FROM posts"
    ).fetchone() or (0, None, None)
    beats = frame(con, "SELECT * FROM heartbeats ORDER BY beat_at DESC LIMIT 1", {})
    sources = con.execute("SELECT DISTINCT source FROM posts ORDER BY source").fetchall()
    return Freshness(
        posts=int(row[0]),
        latest_collected_at=row[1],
        latest_created_at=row[2],
        heartbeat=beats.row(0, named=True) if beats.height else None,
        sources=tuple(s[0] for s in sources),
    )


def is_alive(heartbeat: dict[str, Any] | None, interval: timedelta, now: datetime) -> bool:
    """A scheduler is alive when it has not stopped and beat within three heartbeat intervals."""
    if heartbeat is None or heartbeat["stopped_at"] is not None:
        return False
    beat_at: datetime = heartbeat["beat_at"]
    return now - beat_at <= 3 * interval


def reference_now(heartbeat: dict[str, Any] | None, alive: bool, wall: datetime) -> datetime:
    """ "Now" for "the last 24 hours": the wall clock, or a live demo's simulated clock."""
    if alive and heartbeat and heartbeat["mode"] == "demo" and heartbeat["clock_at"] is not None:
        clock_at: datetime = heartbeat["clock_at"]
        beat_at: datetime = heartbeat["beat_at"]
        return clock_at + (wall - beat_at)
    return wall


# --- the pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewData:
    claims: pl.DataFrame  # one row per claim of the scope that has mentions
    variants: pl.DataFrame  # variant_stats
    daily: pl.DataFrame  # spread per day, every claim
    generated: int


def overview_page(
    con: duckdb.DuckDBPyConnection, scope: Scope, now: datetime, tz: str
) -> OverviewData:
    """Per claim: variants, posts and authors overall and in the 24 hours before `now`, the
    leading variant, the latest correction; and each claim's daily spread."""
    where, params = scope.where()
    params["day_ago"] = now - timedelta(hours=24)
    params["now"] = now
    totals = frame(
        con,
        f"""
        SELECT m.claim_id, count(DISTINCT m.variant) AS variants, count(*) AS posts,
               count(DISTINCT {AUTHOR}) AS authors,
               count(*) FILTER (WHERE m.created_at >= $day_ago AND m.created_at < $now)
                   AS posts_24h,
               count(DISTINCT {AUTHOR}) FILTER (
                   WHERE m.created_at >= $day_ago AND m.created_at < $now) AS authors_24h,
               min(m.created_at) AS first_seen, max(m.created_at) AS last_seen
        FROM claim_mentions m JOIN posts p USING (post_uid)
        WHERE {where}
        GROUP BY m.claim_id""",
        params,
    )
    stats = variant_stats(con, scope)
    fixes = corrections(con, scope)
    latest = fixes.group_by("claim_id", maintain_order=True).first()
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
        .sort("claim_id")
    )
    return OverviewData(
        claims=claims,
        variants=stats,
        daily=spread(con, scope, "day", tz),
        generated=generated_posts(con, scope),
    )


@dataclass(frozen=True)
class ClaimData:
    spread: pl.DataFrame
    variants: pl.DataFrame  # variant_stats of the claim, within the scope
    summary: pl.DataFrame  # variant_summary of the claim (all time, all sources)
    corrections: pl.DataFrame
    generated: int


def claim_page(
    con: duckdb.DuckDBPyConnection, scope: Scope, claim_id: str, grain: Grain, tz: str
) -> ClaimData:
    one = Scope((claim_id,), scope.since, scope.until, scope.sources)
    summary = frame(
        con,
        """
        SELECT variant, first_seen, last_seen, posts, authors, reach, is_leading,
               first_correction_at, posts_after_correction, share_after_correction,
               rate_before, rate_after, rate_fell
        FROM variant_summary WHERE claim_id = $claim_id
        ORDER BY posts DESC, variant""",
        {"claim_id": claim_id},
    ).with_columns(_variant_label())
    return ClaimData(
        spread=spread(con, one, grain, tz),
        variants=variant_stats(con, one),
        summary=summary,
        corrections=corrections(con, one),
        generated=generated_posts(con, one),
    )


@dataclass(frozen=True)
class PostQuery:
    """Which posts: a claim, optionally a variant (NO_VARIANT for the NULL one), a time window
    (a bucket), and words to look for in the text, the author or the matched text."""

    claim_id: str
    variant: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    search: str = ""
    limit: int = POSTS_LIMIT


@dataclass(frozen=True)
class PostsData:
    posts: pl.DataFrame
    total: int  # posts matching, before the limit
    generated: int  # how many of those the demo generated


def posts_page(con: duckdb.DuckDBPyConnection, scope: Scope, query: PostQuery) -> PostsData:
    where, params = scope.where()
    where += " AND m.claim_id = $claim_id"
    params["claim_id"] = query.claim_id
    if query.variant == NO_VARIANT:
        where += " AND m.variant IS NULL"
    elif query.variant is not None:
        where += " AND m.variant = $variant"
        params["variant"] = query.variant
    if query.start is not None:
        where += " AND m.created_at >= $start"
        params["start"] = query.start
    if query.end is not None:
        where += " AND m.created_at < $end"
        params["end"] = query.end
    if query.search.strip():
        where += (
            " AND (contains(lower(p.text), $needle) OR contains(lower(p.title), $needle)"
            " OR contains(lower(m.author_handle), $needle)"
            " OR contains(lower(m.matched_text), $needle))"
        )
        params["needle"] = query.search.strip().lower()
    matched = f"""
        FROM claim_mentions m JOIN posts p USING (post_uid)
        LEFT JOIN post_provenance pp USING (post_uid)
        WHERE {where}"""
    counts = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE pp.provenance = 'generated') {matched}", params
    ).fetchone() or (0, 0)
    params["limit"] = query.limit
    posts = frame(
        con,
        f"""
        SELECT m.created_at, m.source, m.author_handle, p.kind, m.variant, m.stance,
               m.matched_text, p.text, {SAFE_URL} AS url,
               coalesce(pp.provenance, 'collected') AS provenance, {REACH} AS reach,
               m.post_uid
        {matched}
        ORDER BY m.created_at, m.post_uid
        LIMIT $limit""",
        params,
    ).with_columns(_variant_label())
    return PostsData(posts=posts, total=int(counts[0]), generated=int(counts[1] or 0))


@dataclass(frozen=True)
class PathsData:
    cascades: pl.DataFrame  # one row per tree of replies, quotes and reposts
    tree: pl.DataFrame  # every post of the variant with its parent, root and depth
    spreaders: pl.DataFrame
    crossposts: pl.DataFrame
    first_by_source: pl.DataFrame
    generated: int


def paths_page(
    con: duckdb.DuckDBPyConnection, scope: Scope, claim_id: str, variant: str | None
) -> PathsData:
    """How a variant (or every variant, `variant` None) travelled."""
    where, params = scope.where()
    where += " AND m.claim_id = $claim_id"
    params["claim_id"] = claim_id
    if variant == NO_VARIANT:
        where += " AND m.variant IS NULL"
    elif variant is not None:
        where += " AND m.variant = $variant"
        params["variant"] = variant
    posts = frame(
        con,
        f"""
        SELECT m.post_uid, p.parent_uid, p.root_uid, p.kind, m.source, m.author_handle,
               {AUTHOR} AS author, m.created_at, {REACH} AS reach, m.copy_of, {SAFE_URL} AS url
        FROM claim_mentions m JOIN posts p USING (post_uid)
        WHERE {where}""",
        params,
    )
    crossposts = frame(
        con,
        f"""
        WITH mine AS (
            SELECT m.post_uid, m.copy_of, m.source, m.created_at
            FROM claim_mentions m WHERE {where})
        SELECT o.source AS from_source, c.source AS to_source, count(*) AS copies,
               min(c.created_at) AS first_copy_at
        FROM mine c JOIN claim_mentions o
             ON o.post_uid = c.copy_of AND o.claim_id = $claim_id
        WHERE o.source <> c.source
        GROUP BY ALL ORDER BY copies DESC, from_source, to_source""",
        params,
    )
    tree = with_depth(posts)
    return PathsData(
        cascades=cascades(tree),
        tree=tree,
        spreaders=top_spreaders(posts),
        crossposts=crossposts,
        first_by_source=first_by_source(posts),
        generated=generated_posts(con, Scope((claim_id,), scope.since, scope.until, scope.sources))
        if variant is None
        else _generated_of_variant(con, where, params),
    )


def _generated_of_variant(
    con: duckdb.DuckDBPyConnection, where: str, params: dict[str, Any]
) -> int:
    row = con.execute(
        f"""
        SELECT count(*) FROM claim_mentions m JOIN post_provenance pp USING (post_uid)
        WHERE pp.provenance = 'generated' AND {where}""",
        params,
    ).fetchone()
    return int(row[0]) if row else 0


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
            pl.col("url").first().alias("first_url"),
            pl.len().alias("posts"),
        )
        .sort("first_seen")
    )


@dataclass(frozen=True)
class SourcesData:
    runs: pl.DataFrame  # the latest run of each source and topic
    jobs: pl.DataFrame
    heartbeats: pl.DataFrame
    per_source: pl.DataFrame  # posts per source and bucket
    generated: int
    recent_failures: pl.DataFrame = field(default_factory=pl.DataFrame)


def sources_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    grain: Grain,
    tz: str,
    by: Literal["collected_at", "created_at"] = "collected_at",
) -> SourcesData:
    if by not in ("collected_at", "created_at"):
        raise ValueError(f"by must be collected_at or created_at; found {by!r}")
    runs = frame(
        con,
        """
        SELECT source, topic, started_at, finished_at, status, fetched, new, error,
               TRY_CAST(json_extract(rate_limit, '$.remaining') AS BIGINT) AS rate_limit_left,
               TRY_CAST(json_extract(rate_limit, '$.limit') AS BIGINT) AS rate_limit,
               json_extract_string(rate_limit, '$.reset_at') AS rate_limit_reset_at, run_id
        FROM collector_runs
        QUALIFY row_number() OVER (
            PARTITION BY source, topic ORDER BY started_at DESC, run_id DESC) = 1
        ORDER BY source, topic""",
        {},
    )
    jobs = frame(
        con,
        """
        SELECT job_id, kind, source, topic, next_run_at, interval_s, base_interval_s,
               interval_s > base_interval_s AS backing_off, failures, last_run_at, last_status,
               last_error, updated_at
        FROM scheduler_jobs ORDER BY kind, job_id""",
        {},
    )
    beats = frame(con, "SELECT * FROM heartbeats ORDER BY beat_at DESC", {})
    params: dict[str, Any] = {}
    scoped = Scope((), scope.since, scope.until, scope.sources)
    where = " AND ".join(scoped.time_and_sources("p", by, params)) or "true"
    per_source = frame(
        con,
        f"""
        SELECT p.source, {_bucket(grain, f"p.{by}")} AS bucket, count(*) AS posts
        FROM posts p WHERE {where}
        GROUP BY ALL ORDER BY bucket, p.source""",
        params | {"tz": tz},
    )
    generated = con.execute(
        f"""
        SELECT count(*) FROM posts p JOIN post_provenance pp USING (post_uid)
        WHERE pp.provenance = 'generated' AND {where}""",
        params,
    ).fetchone()
    failures = frame(
        con,
        """
        SELECT source, topic, started_at, status, error FROM collector_runs
        WHERE status IN ('failed', 'partial') ORDER BY started_at DESC LIMIT 50""",
        {},
    )
    return SourcesData(
        runs=runs,
        jobs=jobs,
        heartbeats=beats,
        per_source=per_source,
        generated=int(generated[0]) if generated else 0,
        recent_failures=failures,
    )


def view_columns(con: duckdb.DuckDBPyConnection, views: Sequence[str]) -> pl.DataFrame:
    """The documented views' columns and types, for the SQL page's schema list."""
    return frame(
        con,
        """
        SELECT table_name AS view, column_name AS column, data_type AS type
        FROM duckdb_columns()
        WHERE schema_name = 'main' AND list_contains($views, table_name)
        ORDER BY view, column_index""",
        {"views": list(views)},
    )


def fill_gaps(
    spread: pl.DataFrame, grain: Grain, tz: str, by: Sequence[str] = ("claim_id", "variant")
) -> pl.DataFrame:
    """`spread` with a row of zeros for every bucket between its first and last where a series
    (`by`) had no post: a curve must drop to 0 on a quiet day, not jump over it. Buckets are
    stepped on the wall clock of `tz`, so a day is a calendar day there even across DST."""
    if spread.height == 0:
        return spread
    measures = [c for c in ("posts", "authors", "reach") if c in spread.columns]
    local = spread.with_columns(pl.col("bucket").dt.convert_time_zone(tz))
    first: datetime = local.select(pl.col("bucket").min()).item()
    last: datetime = local.select(pl.col("bucket").max()).item()
    grid = pl.datetime_range(
        first, last, interval="1h" if grain == "hour" else "1d", time_zone=tz, eager=True
    )
    series = spread.select(*by).unique()
    full = series.join(pl.DataFrame({"bucket": grid}), how="cross")
    return (
        full.join(local, on=[*by, "bucket"], how="left")
        .with_columns(pl.col(m).fill_null(0) for m in measures)
        .with_columns(pl.col("bucket").dt.convert_time_zone("UTC"))
        .sort([*by, "bucket"])
    )


def bucket_bounds(start: datetime, grain: Grain, tz: str) -> tuple[datetime, datetime]:
    """The UTC start and end of the bucket that starts at `start`: a local day can be 23 or 25
    hours long, so the end is computed on the wall clock of `tz`."""
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    if grain == "hour":
        return start.astimezone(UTC), start.astimezone(UTC) + timedelta(hours=1)
    end = (local.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
