"""The Sources page's data (`dashboard/screens/sources.py`): every collector's latest run and
recent failures, the scheduler's jobs and heartbeats, and the posts per source over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import duckdb
import polars as pl

from collectors.runner import UNREACHABLE
from dashboard.data.shared import Cache, Grain, Scope, bucket_of, frame, per_source_hours


@dataclass(frozen=True)
class SourcesData:
    runs: pl.DataFrame  # the latest run of each source and topic
    jobs: pl.DataFrame
    heartbeats: pl.DataFrame
    per_source: pl.DataFrame  # posts per source and bucket
    generated: int  # posts the demo generated, in the whole warehouse
    recent_failures: pl.DataFrame = field(default_factory=pl.DataFrame)


def sources_page(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    grain: Grain,
    tz: str,
    by: Literal["collected_at", "created_at"] = "collected_at",
    cache: Cache | None = None,
) -> SourcesData:
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
    hours = cache.per_source(con, by) if cache is not None else per_source_hours(con, by)
    window = Scope((), scope.since, scope.until, scope.sources)
    per_source = (
        _in_window(hours, window)
        .with_columns(bucket=bucket_of(grain, tz, "hour"))
        .group_by("source", "bucket")
        .agg(pl.col("posts").sum())
        .sort("bucket", "source")
    )
    generated = con.execute(
        "SELECT count(*) FROM post_provenance WHERE provenance = 'generated'"
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


def offline_sources(runs: pl.DataFrame) -> list[str]:
    """The sources that ran, when the latest run of every one of them (two at least) reached
    none of its hosts: the machine is offline. Empty otherwise."""
    ran = runs.filter(pl.col("status") != "not_configured")
    if ran.is_empty():
        return []
    out_of_reach = pl.col("error").fill_null("").str.starts_with(UNREACHABLE)
    sources = ran.group_by("source").agg(out_of_reach.all().alias("unreachable"))
    if sources.height < 2 or not sources["unreachable"].all():
        return []
    return sorted(sources["source"].to_list())


def _in_window(hours: pl.DataFrame, window: Scope) -> pl.DataFrame:
    keep = pl.lit(True)
    if window.since is not None:
        keep &= pl.col("hour") >= window.since.replace(minute=0, second=0, microsecond=0)
    if window.until is not None:
        keep &= pl.col("hour") < window.until
    if window.sources:
        keep &= pl.col("source").is_in(list(window.sources))
    return hours.filter(keep)
