"""What several of the dashboard's pages use: the sidebar's `Scope`, the facts every page counts
with and their cache, the counts per claim and variant, time buckets on the display clock, the
data's freshness, and the posts' query.

Why a cache of facts. Every documented view over mentions joins the posts by `post_uid`, so any
query of `claim_mentions`, `corrections`, `variant_spread` or `variant_summary` scans the whole
posts table: about 1 s at 5 million posts on a small machine, several per page. So the mentions
are read once, with the post fields the pages need (`load_facts`: one join of the store's tables,
plus the corrections' own rows), and kept in memory (`FactsCache`), with the pages computed from
them. All of it is valid for one `data_stamp` (posts stored, runs, provenance marks, jobs,
digests: a few milliseconds to read): each page run reads it once, in its `Snapshot` (with the
heartbeats and the sidebar's counts, and the facts when its page counts with them), and every
number the page shows is computed for that stamp (`StampedCache`), so a page never mixes two
states of the warehouse. Everything is read again when the stamp changes, or after `max_age_s`
(engagement counts of posts collected again change reach without changing the stamp). Without a
cache (`cache=None`) a page reads everything itself, which is what a cold start costs.

Times are UTC in and out; buckets are cut on the wall clock of the display time zone (`tz`), so
that a "day" is a day where the analysts are. A post's reach, the authors and the leading variant
follow the views' rules (docs/views.md); tests check the results against the views.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

log = logging.getLogger(__name__)
Reader = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
Grain = Literal["hour", "day"]
GRAINS: tuple[Grain, ...] = ("hour", "day")
NO_VARIANT = "(none)"  # how the mentions without a value are shown and linked
POSTS_LIMIT = 10_000  # rows of a post table (shown and exported)
FACTS_MAX_AGE_S = 600.0
RESULTS_KEPT = 256  # page results kept for the current stamp

REACH = " + ".join(
    f"greatest(coalesce(p.{c}, 0), 0)"
    for c in ("author_followers", "likes", "reposts", "replies", "quotes")
)


def _safe_url(column: str) -> str:
    """Only web links become clickable: a post's url is data, and data may say `javascript:`."""
    return f"CASE WHEN regexp_matches({column}, '^https?://', 'i') THEN {column} END"


# What every page counts with: each mention with its post's fields, in one join of the store's
# tables. The views (docs/views.md) are what users query; each of them over mentions joins the
# 5M posts again (`claim_mentions` and `corrections` each scan them, 0.7-0.8 s at 5M), so the
# dashboard, which reads them all at once, joins once itself. Not the text and title: reading
# those for 5M posts doubles the time; `details` reads them for one claim.
FACTS_SQL = f"""
    SELECT m.claim_id, m.variant, m.variant_label, m.stance, m.post_uid,
           p.created_at, p.source, p.author_handle, m.matched_text, m.copy_of,
           coalesce(p.author_id, p.author_handle) AS author,
           ({REACH})::BIGINT AS reach, p.kind, p.parent_uid, {_safe_url("p.url")} AS url,
           coalesce(pp.provenance, 'collected') AS provenance
    FROM store.claim_mentions m JOIN store.posts p USING (post_uid)
    LEFT JOIN store.post_provenance pp USING (post_uid)"""
# The corrections' own columns; their time, source, author and link come from the facts (a
# correction is a mention of the claim).
CORRECTIONS_SQL = "SELECT post_uid, claim_id, variant, kind FROM store.corrections"
CORRECTIONS_FULL_SQL = f"""
    SELECT c.claim_id, c.created_at, c.author_handle, c.kind, c.variant, c.source,
           {_safe_url("c.url")} AS url, c.post_uid
    FROM corrections c"""
DETAILS_SQL = """
    SELECT m.post_uid, p.text, p.title
    FROM store.claim_mentions m JOIN store.posts p USING (post_uid)
    WHERE m.claim_id = $claim_id"""
# What changes when anything a page shows changes, each a read of table metadata or of a small
# table (a few milliseconds at 5M posts, so every page run can afford it): posts stored, runs of
# collectors, imports and analyses, provenance marks, the scheduler's jobs, the digests written.
STAMP_SQL = """
    SELECT (SELECT count(*) FROM posts), (SELECT max(collected_at) FROM posts),
           (SELECT count(*) FROM collector_runs),
           (SELECT max(coalesce(finished_at, started_at)) FROM collector_runs),
           (SELECT count(*) FROM post_provenance),
           (SELECT max(updated_at) FROM scheduler_jobs),
           (SELECT count(*) FROM digests), (SELECT max(written_at) FROM digests)"""
# The sidebar's counts, read once per stamp (the maxima come from the columns' statistics).
COUNTS_SQL = "SELECT count(*), max(collected_at), max(created_at) FROM posts"
HEARTBEATS_SQL = "SELECT * FROM heartbeats ORDER BY beat_at DESC"
SOURCES_SQL = "SELECT DISTINCT source FROM posts WHERE source IS NOT NULL ORDER BY source"


@dataclass(frozen=True)
class Scope:
    """The sidebar's filters: which claims (the topic's), when, and which sources."""

    claim_ids: tuple[str, ...]
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    sources: tuple[str, ...] = ()  # empty: every source

    def only(self, claim_id: str) -> Scope:
        return Scope((claim_id,), self.since, self.until, self.sources)

    def filter(self, frame: pl.DataFrame, time_column: str = "created_at") -> pl.DataFrame:
        """The rows of `frame` (with claim_id, `time_column` and source) within the scope."""
        keep = pl.col("claim_id").is_in(list(self.claim_ids))
        if self.since is not None:
            keep &= pl.col(time_column) >= self.since
        if self.until is not None:
            keep &= pl.col(time_column) < self.until
        if self.sources:
            keep &= pl.col("source").is_in(list(self.sources))
        return frame.filter(keep)


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    return con.execute(sql, params).pl()


# --- the facts, and their cache -------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    mentions: pl.DataFrame  # one row per claim a post mentions, with the post's fields
    corrections: pl.DataFrame  # one row per correction


def load_facts(con: duckdb.DuckDBPyConnection) -> Facts:
    mentions = frame(con, FACTS_SQL, {})
    own = frame(con, CORRECTIONS_SQL, {})
    post = mentions.select("post_uid", "claim_id", "created_at", "source", "author_handle", "url")
    corrections = own.join(post, on=["post_uid", "claim_id"], how="inner")
    if corrections.height < own.height:  # a correction that is no mention: ask the view
        corrections = frame(con, CORRECTIONS_FULL_SQL, {})
    return Facts(
        mentions=mentions,
        corrections=corrections.select(
            "claim_id",
            "created_at",
            "author_handle",
            "kind",
            "variant",
            "source",
            "url",
            "post_uid",
        ),
    )


def details(con: duckdb.DuckDBPyConnection, claim_id: str) -> pl.DataFrame:
    """The text and title of every post mentioning `claim_id`."""
    return frame(con, DETAILS_SQL, {"claim_id": claim_id})


def data_stamp(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """What changes when what the pages show changes (`STAMP_SQL`): a few milliseconds."""
    return tuple(con.execute(STAMP_SQL).fetchone() or ())


class DataMovedError(Exception):
    """The warehouse changed between a page run's snapshot and a read the page still needed:
    what it would show would not agree with its snapshot (the page runs again)."""


@dataclass(frozen=True)
class Snapshot:
    """What one page run knows of the warehouse, read once at its start (`FactsCache.snapshot`):
    every page draws its freshness, its scheduler state and its numbers from this."""

    stamp: tuple[Any, ...]
    fresh: Freshness
    heartbeats: pl.DataFrame  # every scheduler's last beat, newest first


T = TypeVar("T")


class FactsCache:
    """The facts of one warehouse in memory, and the pages computed from them, each valid for one
    `data_stamp`: read again when the stamp changes or after `max_age_s`. Shared by every
    session of the dashboard process (thread-safe)."""

    def __init__(self, max_age_s: float = FACTS_MAX_AGE_S, results: int = RESULTS_KEPT) -> None:
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._read_at = 0.0
        self._facts: Facts | None = None
        self._counts: Freshness | None = None
        self._per_source: dict[str, pl.DataFrame] = {}
        self._details: dict[str, pl.DataFrame] = {}
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._results_kept = results
        self._keeper: threading.Thread | None = None
        self.loads = 0  # how many times the facts were read (tests and the benchmark look)

    @property
    def stamp(self) -> tuple[Any, ...] | None:
        return self._stamp

    def keep_fresh(self, reading: Reader, every_s: float, until: Callable[[], bool]) -> None:
        """Read the facts again in a background thread as soon as the data changes (checked
        every `every_s` seconds, one short read each time, the file closed in between), so that
        the analysts' refreshes find them ready. Stops once `until()` is true (the warehouse is
        gone). A failed check is logged and tried again at the next one."""
        with self._lock:
            if self._keeper is None:
                self._keeper = threading.Thread(
                    target=self._keep,
                    args=(reading, every_s, until),
                    name="claimwatch-dashboard-facts",
                    daemon=True,
                )
                self._keeper.start()

    def _keep(self, reading: Reader, every_s: float, until: Callable[[], bool]) -> None:
        while True:
            time.sleep(every_s)
            if until():
                return
            with self._lock:  # only what the pages asked for already
                wanted = (self._facts is not None, list(self._details), list(self._per_source))
            try:
                with reading() as con:
                    if wanted[0]:
                        self.facts(con)
                    for claim_id in wanted[1]:
                        self.details(con, claim_id)
                    for by in wanted[2]:
                        self.per_source(con, by)
            except Exception as error:  # a thread must not die on a busy or moved file
                log.warning("dashboard: could not check the warehouse for new data: %s", error)

    def snapshot(self, con: duckdb.DuckDBPyConnection, with_facts: bool = False) -> Snapshot:
        """The page run's one read: the stamp, the heartbeats (read every time: a scheduler's
        pulse is not data), the sidebar's counts (once per stamp) and, for a page that counts
        with them, the facts (once per stamp), all in this one session, so they agree."""
        beats = frame(con, HEARTBEATS_SQL, {})
        with self._lock:
            self._check(con)
            if self._counts is None:
                self._counts = _counts(con)
            if with_facts and self._facts is None:
                self._load(con)
            assert self._stamp is not None
            stamp, counts = self._stamp, self._counts
        return Snapshot(stamp, _with_beat(counts, beats), beats)

    def at(self, stamp: tuple[Any, ...]) -> StampedCache:
        """This cache as a page run of `stamp` reads it (`StampedCache`)."""
        return StampedCache(self, stamp)

    def result(self, stamp: tuple[Any, ...], key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` (a page's data for the snapshot `stamp`), kept until the stamp changes:
        a page run again on the same data costs a look-up. `compute` raises DataMovedError when
        the data it read is not of `stamp`; nothing is kept then."""
        with self._lock:
            if stamp == self._stamp and key in self._results:
                self._results.move_to_end(key)
                kept: T = self._results[key]
                return kept
        value = compute()
        with self._lock:
            if stamp == self._stamp:
                self._results[key] = value
                while len(self._results) > self._results_kept:
                    self._results.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything: the next read reads the warehouse again ("Refresh now")."""
        with self._lock:
            self._forget(None)

    def facts(self, con: duckdb.DuckDBPyConnection, stamp: tuple[Any, ...] | None = None) -> Facts:
        with self._lock:
            if not self._pinned(stamp) or self._facts is None:
                self._check(con, stamp)
            if self._facts is None:
                self._load(con)
            assert self._facts is not None
            return self._facts

    def details(
        self, con: duckdb.DuckDBPyConnection, claim_id: str, stamp: tuple[Any, ...] | None = None
    ) -> pl.DataFrame:
        with self._lock:
            if not self._pinned(stamp) or claim_id not in self._details:
                self._check(con, stamp)
            if claim_id not in self._details:
                self._details[claim_id] = details(con, claim_id)
            return self._details[claim_id]

    def per_source(
        self, con: duckdb.DuckDBPyConnection, by: str, stamp: tuple[Any, ...] | None = None
    ) -> pl.DataFrame:
        with self._lock:
            if not self._pinned(stamp) or by not in self._per_source:
                self._check(con, stamp)
            if by not in self._per_source:
                self._per_source[by] = per_source_hours(con, by)
            return self._per_source[by]

    def _pinned(self, stamp: tuple[Any, ...] | None) -> bool:
        """Whether what is in memory is of `stamp`, which a page run asked for: then it is
        used as it is, without reading the stamp again."""
        return stamp is not None and stamp == self._stamp

    def _load(self, con: duckdb.DuckDBPyConnection) -> None:
        self._facts = load_facts(con)
        self.loads += 1

    def _check(self, con: duckdb.DuckDBPyConnection, wanted: tuple[Any, ...] | None = None) -> None:
        stamp = data_stamp(con)
        stale = time.monotonic() - self._read_at > self.max_age_s
        if stamp != self._stamp or stale:
            self._read_at = time.monotonic()
            self._forget(stamp)
        if wanted is not None and stamp != wanted:
            raise DataMovedError(f"the data changed since the page's snapshot: {stamp}")

    def _forget(self, stamp: tuple[Any, ...] | None) -> None:
        self._stamp, self._facts, self._counts = stamp, None, None
        self._per_source, self._details, self._results = {}, {}, OrderedDict()


@dataclass(frozen=True)
class StampedCache:
    """A FactsCache as one page run reads it: what is in memory for the run's snapshot `stamp`
    is used without another look at the warehouse; what must still be read is read only if the
    warehouse still is at that stamp (else DataMovedError), so the page agrees with its
    snapshot."""

    cache: FactsCache
    stamp: tuple[Any, ...]

    def facts(self, con: duckdb.DuckDBPyConnection) -> Facts:
        return self.cache.facts(con, self.stamp)

    def details(self, con: duckdb.DuckDBPyConnection, claim_id: str) -> pl.DataFrame:
        return self.cache.details(con, claim_id, self.stamp)

    def per_source(self, con: duckdb.DuckDBPyConnection, by: str) -> pl.DataFrame:
        return self.cache.per_source(con, by, self.stamp)


Cache = FactsCache | StampedCache


def facts_of(con: duckdb.DuckDBPyConnection, cache: Cache | None) -> Facts:
    return cache.facts(con) if cache is not None else load_facts(con)


# --- computing from the facts ---------------------------------------------------------------------


def variant_label(column: str = "variant") -> pl.Expr:
    """The variant as a key (of links and filters): the canonical value, or NO_VARIANT."""
    return pl.col(column).fill_null(NO_VARIANT)


def shown_label() -> pl.Expr:
    """In an aggregation by variant: the variant as people read it ("$1.3 billion", "25%"),
    column `shown`."""
    stored = pl.col("variant_label").drop_nulls().first()
    return pl.coalesce(stored, pl.col("variant").first(), pl.lit(NO_VARIANT)).alias("shown")


def row_label() -> pl.Expr:
    """A mention's variant as people read it, column `variant` (for tables of posts)."""
    return pl.coalesce("variant_label", "variant").fill_null(NO_VARIANT).alias("variant")


def distinct(column: str) -> pl.Expr:
    """count(DISTINCT column) as SQL counts it: nulls are not a value."""
    return pl.col(column).drop_nulls().n_unique()


def variant_stats_of(mentions: pl.DataFrame) -> pl.DataFrame:
    """Per claim and variant: posts, authors, reach, sources, first and last seen."""
    return (
        mentions.group_by("claim_id", "variant")
        .agg(
            pl.len().alias("posts"),
            distinct("author").alias("authors"),
            pl.col("reach").sum().alias("reach"),
            distinct("source").alias("sources"),
            pl.col("created_at").min().alias("first_seen"),
            pl.col("created_at").max().alias("last_seen"),
            shown_label(),
        )
        .with_columns(pl.col("posts").cast(pl.Int64), variant_label())
        .sort(["claim_id", "posts", "variant"], descending=[False, True, False])
    )


def bucket_of(grain: Grain, tz: str, column: str = "created_at") -> pl.Expr:
    """The start (UTC) of the `grain` of `tz`'s wall clock that holds `column`."""
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}; found {grain!r}")
    local = pl.col(column).dt.convert_time_zone(tz)
    return local.dt.truncate("1h" if grain == "hour" else "1d").dt.convert_time_zone("UTC")


def spread_of(mentions: pl.DataFrame, grain: Grain, tz: str) -> pl.DataFrame:
    """Posts, authors and reach per claim, variant and bucket."""
    return (
        mentions.with_columns(bucket=bucket_of(grain, tz))
        .group_by("claim_id", "variant", "bucket")
        .agg(
            pl.len().cast(pl.Int64).alias("posts"),
            distinct("author").alias("authors"),
            pl.col("reach").sum().alias("reach"),
            shown_label(),
        )
        .with_columns(variant_label())
        .sort("claim_id", "bucket", "variant")
    )


def generated_of(mentions: pl.DataFrame) -> int:
    return mentions.filter(pl.col("provenance") == "generated").get_column("post_uid").n_unique()


def of_variant(mentions: pl.DataFrame, variant: str | None) -> pl.DataFrame:
    if variant is None:
        return mentions
    if variant == NO_VARIANT:
        return mentions.filter(pl.col("variant").is_null())
    return mentions.filter(pl.col("variant") == variant)


# --- freshness and the scheduler's pulse ----------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    posts: int
    latest_collected_at: datetime | None
    latest_created_at: datetime | None
    heartbeat: dict[str, Any] | None  # the latest heartbeats row, if any
    sources: tuple[str, ...]


def freshness(con: duckdb.DuckDBPyConnection) -> Freshness:
    """The warehouse's freshness read now, without a cache."""
    return _with_beat(_counts(con), frame(con, HEARTBEATS_SQL + " LIMIT 1", {}))


def _counts(con: duckdb.DuckDBPyConnection) -> Freshness:
    """The freshness without the heartbeat: what changes only with the data's stamp."""
    posts, collected, created = con.execute(COUNTS_SQL).fetchone() or (0, None, None)
    sources = con.execute(SOURCES_SQL).fetchall()
    return Freshness(int(posts), collected, created, None, tuple(s[0] for s in sources))


def _with_beat(counts: Freshness, beats: pl.DataFrame) -> Freshness:
    return replace(counts, heartbeat=beats.row(0, named=True) if beats.height else None)


def is_alive(heartbeat: dict[str, Any] | None, interval: timedelta, now: datetime) -> bool:
    """A scheduler is alive when it has not stopped and beat within three heartbeat intervals."""
    if heartbeat is None or heartbeat["stopped_at"] is not None:
        return False
    beat_at: datetime = heartbeat["beat_at"]
    return now - beat_at <= 3 * interval


def reference_now(heartbeat: dict[str, Any] | None, alive: bool, wall: datetime) -> datetime:
    """ "Now" for "the last 24 hours": the wall clock, or a demo's simulated clock (running, or
    where it stopped: a demo's warehouse opened afterwards shows the story's last day)."""
    if heartbeat and heartbeat["mode"] == "demo" and heartbeat["clock_at"] is not None:
        clock_at: datetime = heartbeat["clock_at"]
        beat_at: datetime = heartbeat["beat_at"]
        return clock_at + (wall - beat_at) if alive else clock_at
    return wall


# --- what several pages ask for -------------------------------------------------------------------


def variant_stats(
    con: duckdb.DuckDBPyConnection, scope: Scope, cache: Cache | None = None
) -> pl.DataFrame:
    """Per claim and variant within the scope (the variant pickers of the pages)."""
    return variant_stats_of(scope.filter(facts_of(con, cache).mentions))


@dataclass(frozen=True)
class PostQuery:
    """Which posts: a claim, optionally a variant (NO_VARIANT for the NULL one), a time window
    (a bucket), and words to look for in the text, title, author or matched text."""

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


def chosen_posts(mentions: pl.DataFrame, query: PostQuery) -> pl.DataFrame:
    mentions = of_variant(mentions, query.variant)
    if query.start is not None:
        mentions = mentions.filter(pl.col("created_at") >= query.start)
    if query.end is not None:
        mentions = mentions.filter(pl.col("created_at") < query.end)
    return mentions


def per_source_hours(con: duckdb.DuckDBPyConnection, by: str) -> pl.DataFrame:
    """Posts per source and UTC hour of `by` (collected_at or created_at), every post."""
    if by not in ("collected_at", "created_at"):
        raise ValueError(f"by must be collected_at or created_at; found {by!r}")
    return frame(
        con,
        f"""
        SELECT source, date_trunc('hour', {by}) AS hour, count(*) AS posts
        FROM posts GROUP BY ALL""",
        {},
    )


# --- buckets on the display clock -----------------------------------------------------------------


def fill_gaps(
    spread: pl.DataFrame, grain: Grain, tz: str, by: Sequence[str] | None = None
) -> pl.DataFrame:
    """`spread` with a row of zeros for every bucket between its first and last where a series
    (`by`) had no post: a curve must drop to 0 on a quiet day, not jump over it. Buckets are
    stepped on the wall clock of `tz`, so a day is a calendar day there even across DST."""
    if spread.height == 0:
        return spread
    if by is None:  # a series per claim and variant (how it is shown with it)
        by = [c for c in ("claim_id", "variant", "shown") if c in spread.columns]
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
