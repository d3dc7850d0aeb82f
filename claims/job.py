"""`claimwatch analyze`: the claim analysis over the warehouse, incremental.

A post's text never changes once stored, so a post needs analysing once per version of a claim's
definition (`claims.engine.claim_versions`). For every claim the warehouse keeps the version it was
analysed with and the highest post `seq` analysed (`store.analysis_state`). A run then:

1. reads that state and the highest `seq` stored, in one short read (the run analyses the posts up
   to that `seq`; posts stored while it runs are the next run's);
2. plans each claim: *incremental* (same version: the posts after its watermark), *full* (a new
   claim, a changed definition, or `full=True`: every post, its earlier rows replaced) or
   *unchanged* (nothing new);
3. reads the posts in ranges of `seq` (`CHUNK_ROWS` at most, only the columns the engine needs),
   each range in its own short read-only session (the next one in a thread while this one is
   analysed), and analyses each range in Polars with the file closed; claims whose watermarks
   differ share the reading, each analysing the part of a range past its own watermark;
4. writes everything in one short write transaction (`warehouse.analysis.write_analysis`).

Why a read phase and a separate write, rather than one write connection held for the run: a writer
holds the file exclusively, so for as long as it is open the dashboard and `claimwatch sql` wait and
collectors stage their batches. Analysis is the one long job (a full run over 5M posts reads ~1 GB
of text and takes seconds); its reads go range by range, so readers and writers get in between
ranges, and the write holds the file only for the insert of the results (measured on this 2-core
machine, 5M posts of which 3% about the story: a full run 7.0 s, of which 1.3 s writing; an
incremental run of 10,000 new posts 0.7 s, of which 0.4 s writing). The price is that the state may
move between the read and the write: the write re-checks every claim's state inside its transaction
and drops (and reports) the results of a claim that another run analysed meanwhile. New posts stored
meanwhile are above the run's `seq` bound and are not touched.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import polars as pl
import pyarrow as pa

from claims.engine import (
    CORRECTION_SCHEMA,
    ECHO_MIN_POSTS,
    MENTION_SCHEMA,
    analyze_posts,
    claim_versions,
)
from config import Config
from warehouse import Batch, RunRecord, SchemaTooNewError, Warehouse, WarehouseError
from warehouse.analysis import (
    ClaimPlan,
    ClaimState,
    ClaimWritten,
    count_posts,
    known_variants,
    read_posts,
    snapshot,
    write_analysis,
)

# posts analysed at once: bounds memory (text of ~600 MB per chunk, ~1.3 GB at the peak on 5M
# posts) while each engine call pays its ~0.4 s of regex compilation over many posts
CHUNK_ROWS = 2_000_000

Mode = Literal["full", "incremental", "unchanged", "moved"]
Progress = Callable[[int, int], None]  # (posts read so far, posts to read)


class UnknownClaimError(ValueError):
    """A claim asked for by id is not in the config."""


@dataclass(frozen=True)
class ClaimReport:
    claim_id: str
    mode: Mode  # "moved": another run analysed the claim meanwhile; this run wrote nothing for it
    posts_read: int  # posts analysed for this claim
    mentions: int  # mention rows written (inherited ones included)
    inherited: int  # of which plain reposts inherited from their parent
    corrections: int
    seconds: float  # time in the engine for this claim (claims analysed together share it)


@dataclass(frozen=True)
class AnalysisReport:
    run_id: str
    claims: list[ClaimReport]
    removed: list[str]  # claims no longer in config, whose rows were deleted
    posts_read: int  # posts read from the warehouse (each once, whatever the claims)
    through: int  # the highest post seq this run covered
    seconds: float  # the whole run: reading, analysing and writing
    analyse_seconds: float = 0.0  # of which reading the posts and analysing them
    write_seconds: float = 0.0  # and writing the results (the write transaction, open to close)


@dataclass
class _Results:
    mentions: list[pa.Table] = field(default_factory=list)
    corrections: list[pa.Table] = field(default_factory=list)
    posts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def analyze_warehouse(
    warehouse: Warehouse,
    config: Config,
    *,
    full: bool = False,
    claim_ids: Iterable[str] | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> AnalysisReport:
    """Analyse what the claims in `config` (or only `claim_ids`) have not analysed yet.

    Raises `UnknownClaimError` for a claim id not in the config, and the warehouse's errors
    (`WarehouseBusyError` when the file stays held). A run that fails otherwise is recorded as a
    failed run in `collector_runs` (source `analysis`), and changes nothing else.
    """
    versions = claim_versions(config)
    run = _Run(
        run_id=f"analysis-{uuid.uuid4().hex[:12]}",
        started_at=datetime.now(UTC),
        started=time.monotonic(),
        config=config,
        versions=versions,
        chosen=_chosen(versions, claim_ids),
        full=full,
    )
    try:
        return _analyse(warehouse, run, progress, chunk_rows)
    except (WarehouseError, SchemaTooNewError):
        raise  # the file is missing, held or too new: recording the failure would fail the same
    except Exception as error:
        _record_failure(warehouse, run.run_id, run.started_at, error)
        raise


def _chosen(versions: dict[str, str], claim_ids: Iterable[str] | None) -> list[str]:
    if claim_ids is None:
        return list(versions)
    chosen = list(dict.fromkeys(claim_ids))
    unknown = [c for c in chosen if c not in versions]
    if unknown:
        known = ", ".join(versions) or "none"
        raise UnknownClaimError(
            f"no claim {', '.join(unknown)} in the config (its claims: {known})"
        )
    return chosen


@dataclass(frozen=True)
class _Run:
    run_id: str
    started_at: datetime
    started: float  # time.monotonic() at the start
    config: Config
    versions: dict[str, str]  # claim id -> fingerprint, for every claim in config
    chosen: list[str]  # the claims to analyse
    full: bool


def _analyse(
    warehouse: Warehouse, run: _Run, progress: Progress | None, chunk_rows: int
) -> AnalysisReport:
    with warehouse.reading() as con:
        snap = snapshot(con)
        plans = _plan(run.chosen, run.versions, snap.states, snap.through, run.full)
        lowest = min((p.after for p in plans), default=snap.through)
        total = count_posts(con, lowest, snap.through) if plans else 0
        # values posts may name a claim by alone: those of its earlier mentions (docs/claims.md)
        known = known_variants(con, [p.claim_id for p in plans if not p.full], ECHO_MIN_POSTS)
    results = _Results()
    read_done = 0
    for after, posts in _read_ahead(warehouse, _ranges(lowest, snap.through, chunk_rows)):
        _analyse_range(posts, after, plans, run.config, results, known)
        read_done += posts.num_rows
        if progress:
            progress(read_done, total)
    analyse_seconds = time.monotonic() - run.started

    write_started = time.monotonic()
    analyzed_at = datetime.now(UTC)
    with warehouse.writing() as con:
        outcome = write_analysis(
            con,
            plans,
            through=snap.through,
            keep=list(run.versions),
            mentions=_table(results.mentions, MENTION_SCHEMA),
            corrections=_table(results.corrections, CORRECTION_SCHEMA),
            analyzed_at=analyzed_at,
            run=RunRecord(
                run_id=run.run_id,
                source="analysis",
                topic=None,
                started_at=run.started_at,
                finished_at=analyzed_at,
                status="ok",
                fetched=read_done,
            ),
        )
    write_seconds = time.monotonic() - write_started

    planned = {p.claim_id: p for p in plans}
    claims = []
    for claim_id in run.chosen:
        plan = planned.get(claim_id)
        written = outcome.written.get(claim_id, ClaimWritten())
        claims.append(
            ClaimReport(
                claim_id,
                _mode(plan, claim_id in outcome.moved),
                results.posts.get(claim_id, 0),
                written.mentions,
                written.inherited,
                written.corrections,
                results.seconds.get(claim_id, 0.0),
            )
        )
    return AnalysisReport(
        run_id=run.run_id,
        claims=claims,
        removed=outcome.removed,
        posts_read=read_done,
        through=snap.through,
        seconds=time.monotonic() - run.started,
        analyse_seconds=analyse_seconds,
        write_seconds=write_seconds,
    )


def _mode(plan: ClaimPlan | None, moved: bool) -> Mode:
    if plan is None:
        return "unchanged"
    if moved:
        return "moved"
    return "full" if plan.full else "incremental"


def _plan(
    chosen: list[str],
    versions: dict[str, str],
    states: dict[str, ClaimState],
    through: int,
    full: bool,
) -> list[ClaimPlan]:
    plans = []
    for claim_id in chosen:
        state = states.get(claim_id)
        version = versions[claim_id]
        if full or state is None or state.claim_version != version:
            plans.append(ClaimPlan(claim_id, version, 0, True, state))
        elif state.analyzed_through < through:
            plans.append(ClaimPlan(claim_id, version, state.analyzed_through, False, state))
    return plans


def _read_ahead(
    warehouse: Warehouse, ranges: list[tuple[int, int]]
) -> Iterator[tuple[int, pa.Table]]:
    """(after, posts) for each range, the next range read in a thread while this one is analysed.

    DuckDB and Polars both release the GIL, so reading range k+1 overlaps the engine's work on
    range k (at most two ranges of posts are in memory). Each read is still its own short
    read-only session: other processes get in between them.
    """

    def read(bounds: tuple[int, int]) -> pa.Table:
        with warehouse.reading() as con:
            return read_posts(con, *bounds)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimwatch-read") as pool:
        pending: Future[pa.Table] | None = pool.submit(read, ranges[0]) if ranges else None
        for index, (after, _through) in enumerate(ranges):
            assert pending is not None
            posts = pending.result()
            following = index + 1
            pending = pool.submit(read, ranges[following]) if following < len(ranges) else None
            yield after, posts


def _ranges(after: int, through: int, size: int) -> list[tuple[int, int]]:
    """(after, through] cut into ranges of `size` seq values."""
    return [(lo, min(lo + size, through)) for lo in range(after, through, size)]


def _analyse_range(
    posts: pa.Table,
    after: int,
    plans: list[ClaimPlan],
    config: Config,
    results: _Results,
    known: dict[str, list[float]],
) -> None:
    """Analyse one range of posts for every planned claim that has not seen them yet."""
    if posts.num_rows == 0:
        return
    frame = pl.from_arrow(posts)
    assert isinstance(frame, pl.DataFrame)
    groups: dict[int, list[str]] = {}
    for plan in plans:
        groups.setdefault(plan.after, []).append(plan.claim_id)
    for claim_after, claim_ids in groups.items():
        part = frame if claim_after <= after else frame.filter(pl.col("seq") > claim_after)
        if part.height == 0:
            continue
        started = time.monotonic()
        analysis = analyze_posts(part.drop("seq"), config, claim_ids, known)
        spent = time.monotonic() - started
        wanted = pl.col("claim_id").is_in(claim_ids)
        # One mention per post and claim, as the engine promises; a range holds each post once,
        # so keeping it per range keeps it for the run.
        mentions = _conform(analysis.mentions, MENTION_SCHEMA).filter(wanted)
        mentions = mentions.unique(["post_uid", "claim_id"], keep="first", maintain_order=True)
        results.mentions.append(_compact(mentions))
        corrections = _conform(analysis.corrections, CORRECTION_SCHEMA).filter(wanted)
        results.corrections.append(_compact(corrections))
        for claim_id in claim_ids:
            results.posts[claim_id] = results.posts.get(claim_id, 0) + part.height
            results.seconds[claim_id] = results.seconds.get(claim_id, 0.0) + spent


def _conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _compact(frame: pl.DataFrame) -> pa.Table:
    """The rows as Arrow with their own, compact string buffers.

    Polars strings are views: a filtered or sliced column keeps the whole buffer it was cut from
    alive (here, a range's text: ~130 MB per 500,000 posts). Copying the few result rows out lets
    each range's posts be freed once analysed, so memory stays bounded by one range plus the
    results.
    """
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def _table(tables: list[pa.Table], schema: pl.Schema) -> pa.Table:
    if not tables:
        return _compact(pl.DataFrame(schema=schema))
    return pa.concat_tables(tables)


def _record_failure(
    warehouse: Warehouse, run_id: str, started_at: datetime, error: Exception
) -> None:
    """Record the failed run (staged if the file is busy); never mask the error itself."""
    run = RunRecord(
        run_id=run_id,
        source="analysis",
        topic=None,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        status="failed",
        error=f"{type(error).__name__}: {error}",
    )
    with contextlib.suppress(Exception):  # the original error is what the caller must see
        warehouse.write(Batch(runs=[run]))
