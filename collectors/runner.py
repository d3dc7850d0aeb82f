"""Running one collector for one topic: pages in, matching posts stored, the run recorded.

For every page a collector yields, the runner keeps the posts that match the topic
(`collectors.matching`), and writes them with the page's cursor and the run's progress as one
batch: the cursor is saved in the same transaction as the posts (or staged with them), so a crash
re-fetches a page and never skips one. A page that cannot be read is quarantined with its body.
A source that fails is recorded as failing with its error, never as a quiet "no posts".
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl
import pyarrow as pa

from collectors.base import BadPage, Collector, Page, PostRecord, TopicQuery
from collectors.fields import utcnow
from collectors.http import (
    CollectionStoppedError,
    HttpStats,
    RateLimit,
    SourceHttp,
    SourceHttpError,
)
from collectors.matching import MATCHED_TERMS, TOPICS, match_topics
from config import Topic
from warehouse import Batch, CursorUpdate, QuarantineRow, RunRecord, Warehouse
from warehouse.schema import POST_ARROW_SCHEMA

log = logging.getLogger(__name__)
_PAYLOAD_CHARS = 100_000  # a quarantined body is kept up to this size
UNREACHABLE = "cannot reach"  # how the error of a run that reached no host begins


@dataclass
class RunSummary:
    """What one run of one source for one topic did; also its `collector_runs` row."""

    source: str
    topic: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"
    fetched: int = 0
    kept: int = 0
    new: int = 0
    pages: int = 0
    bad_pages: int = 0
    staged: int = 0
    error: str | None = None
    rate_limit: RateLimit | None = None
    requests: int = 0
    retries: int = 0  # requests repeated after a timeout, a 429 or a 5xx, even if they then worked
    waited_s: float = 0.0  # time spent waiting on rate limits and backoff
    unreachable: str | None = None  # the hosts no connection could be made to, and why
    clock: Callable[[], datetime] = field(default=utcnow, repr=False)  # the scheduler's

    def record(self, finished: bool = False) -> RunRecord:
        limit = self.rate_limit
        return RunRecord(
            run_id=self.run_id,
            source=self.source,
            topic=self.topic,
            started_at=self.started_at,
            finished_at=self.clock() if finished else None,
            status=self.status,
            fetched=self.fetched,
            new=self.new,
            error=self.error,
            rate_limit={
                "limit": limit.limit if limit else None,
                "remaining": limit.remaining if limit else None,
                "reset_at": limit.reset_at.isoformat() if limit and limit.reset_at else None,
                "requests": self.requests,
                "retries": self.retries,
                "waited_s": round(self.waited_s, 1),
            },
        )


def query_of(topic_id: str, topic: Topic) -> TopicQuery:
    hashtags = [tag for terms in topic.terms.values() for tag in terms.hashtags]
    return TopicQuery(topic_id, dict(topic.queries), list(dict.fromkeys(hashtags)))


def not_configured(warehouse: Warehouse, source: str, topic: str, missing: list[str]) -> RunSummary:
    """Record, once per run, that a source lacks its credentials (not that it found nothing)."""
    summary = RunSummary(source, topic, status="not_configured")
    summary.error = f"not configured: set {', '.join(missing)}"
    warehouse.write(Batch(runs=[summary.record(finished=True)]))
    return summary


async def run_collector(
    collector: Collector,
    topic_id: str,
    topic: Topic,
    warehouse: Warehouse,
    http: SourceHttp,
    on_page: Callable[[RunSummary], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> RunSummary:
    """Collect `topic_id` from one source. When `should_stop` turns true, the run ends after the
    page in hand is stored with its cursor (status `interrupted`): the next run resumes there.
    `http` looks at the same `should_stop` around every request, so a run that yields no page
    (a source failing, retried, or hanging) is interrupted as promptly. `now` is the
    scheduler's clock: the run's times and its posts' `collected_at` are read from it (the demo's
    is simulated time, so its charts by collection time follow the story)."""
    summary = RunSummary(collector.source, topic_id, started_at=now(), clock=now)
    before = copy.copy(http.stats)
    cursors = await asyncio.to_thread(saved_cursors, warehouse, collector.source, topic_id)
    try:
        async for page in collector.pages(query_of(topic_id, topic), cursors, http):
            batch = (
                _bad_page_batch(summary, page)
                if isinstance(page, BadPage)
                else (_page_batch(summary, page, topic_id, topic))
            )
            result = await asyncio.to_thread(warehouse.write, batch)
            summary.new += result.stats.new
            summary.staged += result.status == "staged"
            if on_page:
                on_page(summary)
            if should_stop and should_stop():
                break
        summary.status = _ending(summary, interrupted=bool(should_stop and should_stop()))
    except CollectionStoppedError:
        summary.status = "interrupted"  # the pages stored so far stay, with their cursors
    except SourceHttpError as error:
        summary.status = "partial" if summary.pages else "failed"
        summary.error = str(error)
        _note_unreachable(summary, error)
    except Exception as error:  # a collector bug must still end as a recorded failure
        log.exception("%s failed for topic %s", collector.source, topic_id)
        summary.status = "failed"
        summary.error = f"{type(error).__name__}: {error}"
    _count_requests(summary, before, http)
    await asyncio.to_thread(warehouse.write, Batch(runs=[summary.record(finished=True)]))
    return summary


def _ending(summary: RunSummary, *, interrupted: bool) -> str:
    if interrupted:
        return "interrupted"
    return "partial" if summary.bad_pages else "ok"


def _note_unreachable(summary: RunSummary, error: SourceHttpError) -> None:
    """When no host of the run could be reached at all, say so first: that is the news."""
    # a source that reads several hosts (Mastodon's instances) raises one error for them all
    failures = list(getattr(error, "failures", {}).values()) or [error]
    if not all(getattr(f, "unreachable", False) for f in failures):
        return
    hosts = ", ".join(dict.fromkeys(httpx.URL(f.url).host for f in failures))
    summary.unreachable = f"{hosts} ({failures[0].reason})"
    summary.error = f"{UNREACHABLE} {hosts}: {error}"


def _count_requests(summary: RunSummary, before: HttpStats, http: SourceHttp) -> None:
    """What this run asked of the API (the client is shared by a source's topics)."""
    summary.requests = http.stats.requests - before.requests
    summary.retries = http.stats.retries - before.retries
    waited = http.stats.rate_limit_wait_s + http.stats.backoff_wait_s
    summary.waited_s = waited - before.rate_limit_wait_s - before.backoff_wait_s
    if summary.retries and summary.error is None:
        summary.error = f"recovered: {summary.retries} request(s) retried"


def saved_cursors(warehouse: Warehouse, source: str, topic: str) -> dict[str, str | None]:
    if not warehouse.path.exists():
        return {}
    with warehouse.reading() as con:
        rows = con.execute(
            "SELECT scope, cursor FROM store.cursors WHERE source = ? AND topic = ?",
            [source, topic],
        ).fetchall()
    return {str(scope): cursor for scope, cursor in rows}


def _page_batch(summary: RunSummary, page: Page, topic_id: str, topic: Topic) -> Batch:
    summary.pages += 1
    summary.fetched += len(page.posts)
    summary.rate_limit = page.rate_limit or summary.rate_limit
    posts, post_topics = _matching(page.posts, topic_id, topic, summary.clock())
    summary.kept += posts.num_rows
    cursor = CursorUpdate(summary.source, topic_id, page.cursor, page.scope, summary.run_id)
    return Batch(
        posts=posts if posts.num_rows else None,
        post_topics=post_topics,
        cursors=[cursor],
        runs=[summary.record()],
        run_id=summary.run_id,
    )


def _bad_page_batch(summary: RunSummary, page: BadPage) -> Batch:
    summary.bad_pages += 1
    summary.error = f"{summary.bad_pages} page(s) could not be read; last: {page.error}"
    row = QuarantineRow(
        source=summary.source,
        error=page.error,
        payload=page.payload[:_PAYLOAD_CHARS],
        location=page.url or page.scope,
        run_id=summary.run_id,
    )
    return Batch(quarantine=[row], runs=[summary.record()])


def _matching(
    posts: list[PostRecord], topic_id: str, topic: Topic, collected_at: datetime
) -> tuple[pa.Table, pa.Table]:
    """The page's posts that match the topic, and (post_uid, topic, matched_terms) for each."""
    rows = [_as_row(p, collected_at) for p in posts]
    table = pa.Table.from_pylist(rows, schema=POST_ARROW_SCHEMA)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    matched = match_topics(frame, {topic_id: topic}).filter(pl.col(TOPICS).list.len() > 0)
    post_topics = matched.select(
        (pl.col("source") + ":" + pl.col("source_id")).alias("post_uid"),
        pl.lit(topic_id).alias("topic"),
        pl.col(MATCHED_TERMS).alias("matched_terms"),
    )
    return matched.select(table.column_names).to_arrow(), post_topics.to_arrow()


def _as_row(post: PostRecord, collected_at: datetime) -> dict[str, Any]:
    """A Post record with its raw JSON serialised and the time it was collected, ready for the
    warehouse's Arrow schema."""
    raw = post.get("raw")
    return {
        **post,
        "raw": raw if raw is None or isinstance(raw, str) else json.dumps(raw),
        "collected_at": post.get("collected_at") or collected_at,
    }
