"""The daily digest: what changed in a day, per topic and claim, and how the sources fared.

A digest covers one local day of `[digest] timezone` (midnight to midnight, 23 or 25 hours on the
days the clocks change) and compares it with the local day before. Every number comes from the
documented views (`claim_mentions`, `posts`, `corrections`, `variant_summary`, `collector_runs`,
`scheduler_jobs`), with bound parameters, in one short read; the files are written and delivered
with the warehouse closed. docs/digest.md says what each section counts.

`digest.publish.due_days`, `write_digest` and `revise_digest` are what the scheduler calls;
`claimwatch digest` calls `write_digest` for the day it is given. `figures` are what a revision
is decided on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from claims.quantities import written
from config import Config
from digest import links
from warehouse import Warehouse

TOP_POSTS = 5
TOP_SPREADERS = 5
CORRECTIONS_LISTED = 10  # per claim: authorities first, then fact-checks, then the earliest
KINDS = ("authority", "factcheck", "community")
NO_VALUE = "(no value)"  # how the NULL variant (a mention without a value) is shown

# A post's reach, the rule of docs/views.md ("Reach, source by source").
_REACH = " + ".join(
    f"greatest(coalesce(p.{c}, 0), 0)"
    for c in ("author_followers", "likes", "reposts", "replies", "quotes")
)


# --- the numbers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantDay:
    variant: str | None
    posts: int  # posts mentioning it on the day
    authors: int
    reach: int
    posts_before: int  # the same on the day before
    authors_before: int
    first_seen: datetime | None  # over all time (variant_summary)
    is_new: bool  # first seen on the day
    variant_label: str | None = None  # as people read it: "10,000", "$1.3 billion", "25%"

    @property
    def label(self) -> str:
        if self.variant is None:
            return NO_VALUE
        return self.variant_label or self.variant


@dataclass(frozen=True)
class CorrectionOfDay:
    post_uid: str
    claim_id: str
    kind: str  # authority, factcheck, community
    variant: str | None
    created_at: datetime
    source: str
    author_handle: str | None
    author_name: str | None
    url: str | None
    text: str


@dataclass(frozen=True)
class SpreadAround:
    """A variant's posts on the day before and after the claim's first correction of the day."""

    variant: str | None
    posts_before: int
    posts_after: int
    hours_before: float
    hours_after: float

    @property
    def label(self) -> str:
        return NO_VALUE if self.variant is None else self.variant

    @property
    def rate_before(self) -> float | None:
        return self.posts_before / self.hours_before if self.hours_before > 0 else None

    @property
    def rate_after(self) -> float | None:
        return self.posts_after / self.hours_after if self.hours_after > 0 else None


@dataclass(frozen=True)
class ClaimDay:
    claim_id: str
    title: str
    verified: str | None  # the verified value or fact, in words
    posts: int  # distinct posts mentioning the claim on the day
    posts_before: int  # on the day before
    variants: list[VariantDay]
    corrections: list[CorrectionOfDay]  # at most CORRECTIONS_LISTED, by time
    correction_counts: dict[str, int]  # every correction of the day, by kind
    first_correction_at: datetime | None  # the day's first, of any kind
    around_first_correction: list[SpreadAround]  # empty without a correction on the day

    @property
    def corrections_total(self) -> int:
        return sum(self.correction_counts.values())

    @property
    def new_variants(self) -> list[VariantDay]:
        return [v for v in self.variants if v.is_new and v.variant is not None]


@dataclass(frozen=True)
class TopPost:
    post_uid: str
    source: str
    author_handle: str | None
    author_name: str | None
    created_at: datetime
    url: str | None
    text: str
    reach: int
    mentions: list[tuple[str, str | None]]  # (claim_id, variant)


@dataclass(frozen=True)
class Spreader:
    author_handle: str | None
    author_name: str | None
    sources: str
    posts: int
    reach: int
    variants: list[str]


@dataclass(frozen=True)
class TopicDay:
    topic_id: str
    title: str
    posts: int  # distinct posts mentioning any of its claims on the day
    posts_before: int
    claims: list[ClaimDay]
    top_posts: list[TopPost]
    spreaders: list[Spreader]


@dataclass(frozen=True)
class SourceHealth:
    source: str
    enabled: bool
    runs: int
    ok: int  # status ok
    partial: int
    failed: int  # failed or not_configured
    fetched: int
    new: int
    last_error: str | None
    next_run_at: datetime | None  # from scheduler_jobs, when the scheduler runs
    backing_off: bool  # the scheduler waits longer than configured after failures
    # no run that day because the source first ran after it: the day's posts were collected
    # later (a first collection's lookback, an import, a demo's replay), not missed
    collected_later: bool = False

    @property
    def verdict(self) -> str:
        """The source's day in words: a dead source is said plainly, never left to look quiet."""
        if self.runs == 0 and self.collected_later:
            return "no run that day: its posts were collected later"
        if self.runs == 0:
            return "no runs that day (nothing collected)" if self.enabled else "off"
        if self.failed == self.runs:
            return f"failed all day: {self.last_error or 'no error recorded'}"
        if self.failed:
            return f"failed {self.failed} of {self.runs} runs: {self.last_error or ''}".rstrip(": ")
        if self.partial:
            return f"ok, {self.partial} of {self.runs} runs partial"
        return "ok"

    @property
    def healthy(self) -> bool:
        return (self.runs > 0 or self.collected_later) and self.failed == 0 and self.partial == 0


@dataclass(frozen=True)
class HourCount:
    claim_id: str
    variant: str | None
    hour: int  # hours since the local day's start
    posts: int


@dataclass(frozen=True)
class Revision:
    """What a revision of a digest says of itself: which version it is and what changed."""

    version: int  # 2 for the first revision
    changes: str  # the figures that changed from the version before, "old → new"
    previous_written_at: datetime


@dataclass(frozen=True)
class DayReport:
    day: date
    timezone: str
    start: datetime  # UTC
    end: datetime
    previous_start: datetime
    link_base: str
    topics: list[TopicDay]
    sources: list[SourceHealth]
    hourly: list[HourCount]
    generated_at: datetime
    revision: Revision | None = None  # None: the digest as first written

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hours(self) -> int:
        return round((self.end - self.start) / timedelta(hours=1))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def claim_link(self, claim_id: str) -> str:
        return links.claim_link(self.link_base, claim_id)

    def posts_link(self, claim_id: str, variant: str | None) -> str:
        return links.posts_link(self.link_base, claim_id, variant)


def figures(report: DayReport) -> dict[str, int]:
    """The day's figures that posts arriving late can change, by name: posts of each topic,
    claim and variant (and of the day before, so that a day's digest and the next one's "day
    before" never disagree), corrections of each claim by kind. Reach is left out: it grows with
    engagement counts collected again, which is no news of the day."""
    out: dict[str, int] = {}
    for topic in report.topics:
        out[f"{topic.title}: posts"] = topic.posts
        out[f"{topic.title}: posts the day before"] = topic.posts_before
        for claim in topic.claims:
            out[f"{claim.title}: posts"] = claim.posts
            out[f"{claim.title}: posts the day before"] = claim.posts_before
            for variant in claim.variants:
                out[f"{claim.title}, variant {variant.label}: posts"] = variant.posts
            for kind, count in claim.correction_counts.items():
                out[f"{claim.title}: {kind} corrections"] = count
    return {name: count for name, count in out.items() if count}


def changed_figures(before: dict[str, int], after: dict[str, int]) -> str:
    """The figures that differ, in words: "name: old → new", in the order of `after`."""
    names = list(dict.fromkeys([*after, *before]))
    return "; ".join(
        f"{name}: {before.get(name, 0):,} → {after.get(name, 0):,}"
        for name in names
        if before.get(name, 0) != after.get(name, 0)
    )


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a local day (midnight to midnight, whatever the clocks do)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def build_report(
    config: Config, warehouse: Warehouse, day: date, *, now: datetime | None = None
) -> DayReport:
    """The digest's numbers for `day`, read in one short session."""
    zone = config.digest.zone
    start, end = day_bounds(day, zone)
    previous_start, _ = day_bounds(day - timedelta(days=1), zone)
    params = {"start": start, "end": end, "previous": previous_start}
    with warehouse.reading() as con:
        con.execute(_DAY_MENTIONS_SQL, {k: params[k] for k in ("start", "previous", "end")})
        variants = _rows(con, _VARIANTS_SQL, params)
        claim_posts = _rows(con, _CLAIM_POSTS_SQL, params)
        corrections = _with_texts(con, _rows(con, _CORRECTIONS_SQL, params))
        correction_counts = _rows(con, _CORRECTION_COUNTS_SQL, params)
        firsts = {r["claim_id"]: r["first_at"] for r in _rows(con, _FIRST_CORRECTION_SQL, params)}
        around = _rows(con, _AROUND_SQL, params)
        topic_rows = {
            topic_id: _topic_numbers(con, params, _claims_of(config, topic_id))
            for topic_id in config.topics
        }
        runs = _rows(con, _RUNS_SQL, params)
        first_runs = {r["source"]: r["first_run_at"] for r in _rows(con, _FIRST_RUNS_SQL, {})}
        jobs = _rows(con, _JOBS_SQL, {})
        hourly = _rows(con, _HOURLY_SQL, params)
    day_rows = _DayRows(
        variants, claim_posts, corrections, correction_counts, around, firsts, start, end
    )
    topics = [
        _topic_day(config, topic_id, topic_rows[topic_id], day_rows) for topic_id in config.topics
    ]
    return DayReport(
        day=day,
        timezone=zone.key,
        start=start,
        end=end,
        previous_start=previous_start,
        link_base=config.dashboard.link_base,
        topics=topics,
        sources=_health(config, runs, jobs, first_runs, end),
        hourly=[HourCount(r["claim_id"], r["variant"], r["hour"], r["posts"]) for r in hourly],
        generated_at=now or datetime.now(UTC),
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    used = {name: value for name, value in params.items() if f"${name}" in sql}
    cursor = con.execute(sql, used)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _claims_of(config: Config, topic_id: str) -> list[str]:
    return [claim_id for claim_id, claim in config.claims.items() if claim.topic == topic_id]


# The two days' mentions, read once into a temporary table of the session (in memory: the file
# stays read-only) with what every section needs but the texts; the sections query it. On 1M
# posts (33,000 mentions) this takes the report's read from 3.8 s to under a second.
_DAY_MENTIONS_SQL = f"""
    CREATE TEMP TABLE day_mentions AS
    SELECT m.claim_id, m.variant, m.variant_label, m.post_uid, m.created_at,
           m.created_at >= $start AS on_day,
           p.source, coalesce(p.author_id, p.author_handle) AS author, p.author_handle,
           p.author_name, p.url, {_REACH} AS reach
    FROM claim_mentions m JOIN posts p ON p.post_uid = m.post_uid
    WHERE m.created_at >= $previous AND m.created_at < $end"""

# When each variant seen on the two days was first seen, over all time (as variant_summary's
# first_seen, without computing the rest of that view).
_VARIANTS_SQL = """
    WITH day AS (
        SELECT claim_id, variant, min(variant_label) AS variant_label,
               count(DISTINCT post_uid) FILTER (WHERE on_day) AS posts,
               count(DISTINCT author) FILTER (WHERE on_day) AS authors,
               coalesce(sum(reach) FILTER (WHERE on_day), 0)::BIGINT AS reach,
               count(DISTINCT post_uid) FILTER (WHERE NOT on_day) AS posts_before,
               count(DISTINCT author) FILTER (WHERE NOT on_day) AS authors_before
        FROM day_mentions GROUP BY claim_id, variant),
    seen AS (
        SELECT claim_id, variant, min(created_at) AS first_seen FROM claim_mentions
        WHERE claim_id IN (SELECT claim_id FROM day) GROUP BY ALL)
    SELECT d.*, s.first_seen
    FROM day d LEFT JOIN seen s
        ON s.claim_id = d.claim_id AND s.variant IS NOT DISTINCT FROM d.variant
    ORDER BY d.claim_id, d.posts DESC, d.posts_before DESC, d.variant NULLS LAST"""

_CLAIM_POSTS_SQL = """
    SELECT claim_id, count(DISTINCT post_uid) FILTER (WHERE on_day) AS posts,
           count(DISTINCT post_uid) FILTER (WHERE NOT on_day) AS posts_before
    FROM day_mentions GROUP BY ALL"""

_CORRECTIONS_SQL = f"""
    WITH listed AS (
        SELECT post_uid, claim_id, kind, variant, created_at, source, author_handle, url
        FROM corrections WHERE created_at >= $start AND created_at < $end
        QUALIFY row_number() OVER (
            PARTITION BY claim_id
            ORDER BY list_position(['authority', 'factcheck'], kind) IS NULL,
                     list_position(['authority', 'factcheck'], kind), created_at, post_uid
        ) <= {CORRECTIONS_LISTED})
    SELECT * FROM listed ORDER BY claim_id, created_at, post_uid"""

_CORRECTION_COUNTS_SQL = """
    SELECT claim_id, kind, count(*) AS corrections FROM corrections
    WHERE created_at >= $start AND created_at < $end GROUP BY ALL"""

# The texts (and authors' names) of a few posts: a scan of `post_uid` that reads the long
# columns of the matching rows only (a join would read every post's text).
_TEXTS_SQL = """
    SELECT post_uid, author_name, coalesce(title || ': ', '') || coalesce(text, '') AS text
    FROM posts WHERE list_contains($uids, post_uid)"""

_FIRST_CORRECTION_SQL = """
    SELECT claim_id, min(created_at) AS first_at FROM corrections
    WHERE created_at >= $start AND created_at < $end GROUP BY claim_id"""

# Each variant's posts on the day before and after the claim's first correction of the day.
_AROUND_SQL = """
    WITH first AS (
        SELECT claim_id, min(created_at) AS first_at FROM corrections
        WHERE created_at >= $start AND created_at < $end GROUP BY claim_id)
    SELECT m.claim_id, m.variant,
           count(DISTINCT m.post_uid) FILTER (WHERE m.created_at < f.first_at) AS posts_before,
           count(DISTINCT m.post_uid) FILTER (WHERE m.created_at >= f.first_at) AS posts_after
    FROM day_mentions m JOIN first f USING (claim_id)
    WHERE m.on_day
    GROUP BY ALL
    ORDER BY m.claim_id, posts_after DESC, m.variant NULLS LAST"""

_TOPIC_POSTS_SQL = """
    SELECT count(DISTINCT post_uid) FILTER (WHERE on_day) AS posts,
           count(DISTINCT post_uid) FILTER (WHERE NOT on_day) AS posts_before
    FROM day_mentions WHERE list_contains($claims, claim_id)"""

# The day's posts about a topic, one row each, with every claim and variant they mention.
_DAY_POSTS = """
    WITH day_posts AS (
        SELECT post_uid, source, author, author_handle, author_name, created_at, url, reach,
               list(DISTINCT [claim_id, variant] ORDER BY [claim_id, variant]) AS mentions
        FROM day_mentions
        WHERE on_day AND list_contains($claims, claim_id)
        GROUP BY ALL)"""

_TOP_POSTS_SQL = f"""{_DAY_POSTS}
    SELECT * FROM day_posts ORDER BY reach DESC, created_at, post_uid LIMIT {TOP_POSTS}"""

_SPREADERS_SQL = f"""{_DAY_POSTS}
    SELECT author,
           any_value(author_handle ORDER BY created_at DESC) AS author_handle,
           any_value(author_name ORDER BY created_at DESC) AS author_name,
           string_agg(DISTINCT source, ', ' ORDER BY source) AS sources,
           count(*) AS posts, sum(reach)::BIGINT AS reach,
           list_sort(list_distinct(flatten(list(list_transform(mentions, x -> x[2]))))) AS variants
    FROM day_posts
    GROUP BY 1
    ORDER BY posts DESC, reach DESC, author LIMIT {TOP_SPREADERS}"""

_RUNS_SQL = """
    SELECT source, count(*) AS runs,
           count(*) FILTER (WHERE status = 'ok') AS ok,
           count(*) FILTER (WHERE status = 'partial') AS partial,
           count(*) FILTER (WHERE status IN ('failed', 'not_configured')) AS failed,
           coalesce(sum(fetched), 0)::BIGINT AS fetched, coalesce(sum(new), 0)::BIGINT AS new,
           arg_max(error, started_at) FILTER (WHERE error IS NOT NULL) AS last_error
    FROM collector_runs
    WHERE started_at >= $start AND started_at < $end AND source NOT IN ('import', 'analysis')
    GROUP BY source ORDER BY source"""

_FIRST_RUNS_SQL = """
    SELECT source, min(started_at) AS first_run_at FROM collector_runs
    WHERE source NOT IN ('import', 'analysis') GROUP BY source"""

_JOBS_SQL = """
    SELECT source, min(next_run_at) AS next_run_at,
           bool_or(interval_s > base_interval_s) AS backing_off
    FROM scheduler_jobs WHERE kind = 'collect' AND source IS NOT NULL GROUP BY source"""

_HOURLY_SQL = """
    SELECT claim_id, variant,
           floor((epoch_us(created_at) - epoch_us($start)) / 3600e6)::INTEGER AS hour,
           count(DISTINCT post_uid) AS posts
    FROM day_mentions WHERE on_day
    GROUP BY ALL ORDER BY claim_id, variant NULLS LAST, hour"""


def _with_texts(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return rows
    found = _rows(con, _TEXTS_SQL, {"uids": [r["post_uid"] for r in rows]})
    by_uid = {r["post_uid"]: r for r in found}
    return [r | {k: v for k, v in by_uid[r["post_uid"]].items() if k != "post_uid"} for r in rows]


def _topic_numbers(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], claims: list[str]
) -> dict[str, Any]:
    scoped = params | {"claims": claims}
    totals = _rows(con, _TOPIC_POSTS_SQL, scoped)[0]
    return totals | {
        "top_posts": _with_texts(con, _rows(con, _TOP_POSTS_SQL, scoped)),
        "spreaders": _rows(con, _SPREADERS_SQL, scoped),
    }


@dataclass(frozen=True)
class _DayRows:
    """What was read for every claim at once."""

    variants: list[dict[str, Any]]
    claim_posts: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    correction_counts: list[dict[str, Any]]
    around: list[dict[str, Any]]
    first_corrections: dict[str, datetime]
    start: datetime
    end: datetime


def _topic_day(config: Config, topic_id: str, numbers: dict[str, Any], rows: _DayRows) -> TopicDay:
    claims = [_claim_day(config, claim_id, rows) for claim_id in _claims_of(config, topic_id)]
    return TopicDay(
        topic_id=topic_id,
        title=config.topics[topic_id].title,
        posts=numbers["posts"],
        posts_before=numbers["posts_before"],
        claims=claims,
        top_posts=[
            TopPost(
                post_uid=r["post_uid"],
                source=r["source"],
                author_handle=r["author_handle"],
                author_name=r["author_name"],
                created_at=r["created_at"],
                url=r["url"],
                text=r["text"],
                reach=r["reach"],
                mentions=[(m[0], m[1]) for m in r["mentions"]],
            )
            for r in numbers["top_posts"]
        ],
        spreaders=[
            Spreader(
                author_handle=r["author_handle"],
                author_name=r["author_name"],
                sources=r["sources"],
                posts=r["posts"],
                reach=r["reach"],
                variants=[v for v in r["variants"] if v is not None],
            )
            for r in numbers["spreaders"]
        ],
    )


def _claim_day(config: Config, claim_id: str, rows: _DayRows) -> ClaimDay:
    posts = next((r for r in rows.claim_posts if r["claim_id"] == claim_id), {})
    return ClaimDay(
        claim_id=claim_id,
        title=config.claims[claim_id].title,
        verified=_verified(config, claim_id),
        posts=posts.get("posts", 0),
        posts_before=posts.get("posts_before", 0),
        variants=[
            VariantDay(
                variant=r["variant"],
                posts=r["posts"],
                authors=r["authors"],
                reach=r["reach"],
                posts_before=r["posts_before"],
                authors_before=r["authors_before"],
                first_seen=r["first_seen"],
                is_new=r["first_seen"] is not None and rows.start <= r["first_seen"] < rows.end,
                variant_label=r["variant_label"],
            )
            for r in rows.variants
            if r["claim_id"] == claim_id
        ],
        corrections=[
            CorrectionOfDay(**{k: r[k] for k in CorrectionOfDay.__dataclass_fields__})
            for r in rows.corrections
            if r["claim_id"] == claim_id
        ],
        correction_counts=_by_kind(
            {
                r["kind"]: r["corrections"]
                for r in rows.correction_counts
                if r["claim_id"] == claim_id
            }
        ),
        first_correction_at=rows.first_corrections.get(claim_id),
        around_first_correction=_around(claim_id, rows),
    )


def _by_kind(counts: dict[str, int]) -> dict[str, int]:
    order = {kind: i for i, kind in enumerate(KINDS)}
    return dict(sorted(counts.items(), key=lambda item: (order.get(item[0], len(KINDS)), item[0])))


def _around(claim_id: str, rows: _DayRows) -> list[SpreadAround]:
    first = rows.first_corrections.get(claim_id)
    if first is None:
        return []
    before = (first - rows.start) / timedelta(hours=1)
    after = (rows.end - first) / timedelta(hours=1)
    return [
        SpreadAround(r["variant"], r["posts_before"], r["posts_after"], before, after)
        for r in rows.around
        if r["claim_id"] == claim_id
    ]


def _verified(config: Config, claim_id: str) -> str | None:
    claim = config.claims[claim_id]
    if claim.quantity is not None and claim.quantity.verified is not None:
        note = claim.quantity.verified_note.strip()
        shown = written(claim.quantity.verified, claim.quantity.kind, claim.quantity.currency)[1]
        return f"{shown}: {note}" if note else shown
    return claim.verified.strip() if claim.verified else None


def _health(
    config: Config,
    runs: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    first_runs: dict[str, datetime],
    day_end: datetime,
) -> list[SourceHealth]:
    by_source = {r["source"]: r for r in runs}
    job_of = {j["source"]: j for j in jobs}
    enabled = [s for s, source in config.sources.by_id().items() if source.enabled]
    names = list(dict.fromkeys([*enabled, *by_source]))
    health = []
    for name in names:
        run = by_source.get(name, defaultdict(int, last_error=None))
        job = job_of.get(name, {})
        health.append(
            SourceHealth(
                source=name,
                enabled=name in enabled,
                runs=run["runs"],
                ok=run["ok"],
                partial=run["partial"],
                failed=run["failed"],
                fetched=run["fetched"],
                new=run["new"],
                last_error=run["last_error"],
                next_run_at=job.get("next_run_at"),
                backing_off=bool(job.get("backing_off")),
                collected_later=run["runs"] == 0 and first_runs.get(name, day_end) > day_end,
            )
        )
    return sorted(health, key=lambda h: (h.healthy, not h.enabled, h.source))
