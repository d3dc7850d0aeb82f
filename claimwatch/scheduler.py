"""`claimwatch run`: collection, analysis, alerts and the digest, each on its schedule, in one
long-running process.

- **Collection**: one job per source and topic, on the source's `interval` plus up to
  `[schedule] jitter`; APScheduler runs at most one instance of a job at a time and coalesces runs
  missed while the process was busy or asleep into one.
- **Backoff**: a source that fails (or lacks its credentials) waits twice as long after each
  failure in a row, up to 16 times its interval and never more than `[schedule] max_backoff`; it is
  shown as failing (`scheduler_jobs`), and one run that works brings its interval back. The other
  sources go on meanwhile. A restarted scheduler reads the failures back, so it keeps backing off.
- **Analysis** runs after each collection that stored new posts, then the **alerts**.
- **Heartbeat**, every `[schedule] heartbeat`: the process records that it is alive and when each
  job runs next (views `heartbeats` and `scheduler_jobs`, which the dashboard shows), and writes the
  **digest** of each day that is due by the scheduler's clock (`[digest] time`, local) once the
  day is complete (`caught_up`: collected and analysed), then **revises** the digests of days that
  posts stored late changed (docs/digest.md).
- **Stopping**: SIGINT or SIGTERM lets each collection store the page in hand with its cursor,
  waits for running jobs, records the stop and exits; a restart resumes from the saved cursors.
  The stop is looked at around every request, so a source that keeps failing or hangs stops as
  promptly (a request in flight gets a few seconds to answer). A second signal stops at once
  (what was committed stays; a page in flight is fetched again).
- **One scheduler per warehouse**: `run` and `run --once` hold the warehouse's lease
  (`warehouse.lease`), renewed at each heartbeat; a second one is refused with who holds it, and
  a stale lease (its holder gone, or not renewed for three heartbeats, at least 30 s) is taken
  over. A scheduler whose lease was taken over stops.

The clock is injectable: the demo runs the same scheduler on simulated time, so "which day's
digest is due" and "the last hour" of the alerts follow the story's time, while jobs fire on the
wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Protocol

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from claims.job import AnalysisReport, analyze_warehouse
from collectors.collect import chosen, collect, offline_summary
from collectors.runner import UNREACHABLE, RunSummary
from config import Config
from warehouse import Warehouse, WarehouseError
from warehouse.lease import Holder, give_up_lease, holder_here, renew_lease, take_lease
from warehouse.scheduling import JobRow, beat, earliest_new_post, save_jobs, saved_failures

log = logging.getLogger(__name__)

FAILED = frozenset({"failed", "not_configured"})
MAX_BACKOFF_FACTOR = 16
ANALYSIS_CHECK_S = 5.0  # how often a pending analysis is looked for, besides the direct trigger
MIN_STALE_LEASE = timedelta(seconds=30)  # a lease not renewed for this long (or 3 beats) is stale
_NEVER = datetime.min.replace(tzinfo=UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Time that starts at `start` and runs `speed` simulated seconds per real second."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)


@dataclass
class CycleReport:
    """What one cycle (`run --once`) or one scheduler run did."""

    runs: list[RunSummary] = field(default_factory=list)
    analyses: list[AnalysisReport] = field(default_factory=list)
    alerts: int = 0
    digests: list[date] = field(default_factory=list)
    revisions: list[tuple[date, int]] = field(default_factory=list)  # (day, version)
    errors: list[str] = field(default_factory=list)

    @property
    def new_posts(self) -> int:
        return sum(r.new for r in self.runs)


def backoff_interval(base_s: float, failures: int, max_backoff_s: float) -> float:
    """The interval after `failures` failed runs in a row: doubled each time, capped."""
    if failures <= 0:
        return base_s
    factor = min(1 << min(failures, 8), MAX_BACKOFF_FACTOR)
    return max(base_s, min(base_s * factor, max_backoff_s))


class Scheduler:
    """The jobs of one topic set and source set, over one warehouse (module docstring)."""

    def __init__(
        self,
        config: Config,
        warehouse: Warehouse,
        *,
        clock: Clock | None = None,
        mode: str = "run",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.warehouse = warehouse
        self.clock: Clock = clock or SystemClock()
        self.mode = mode
        self.transport = transport
        self.process_id = f"{mode}-{uuid.uuid4().hex[:12]}"
        self.started_at = datetime.now(UTC)
        self.report = CycleReport()
        self._stop = threading.Event()
        self._analysis_wanted = threading.Event()
        self._state = threading.Lock()
        self._jobs = self._collect_jobs()
        self._aps: BackgroundScheduler | None = None
        self._planned: dict[str, datetime] = {}
        self._last_error: dict[str, str] = {}
        self._lease: Holder | None = None
        self._latest: dict[str, RunSummary] = {}  # each source's last run that was not stopped
        self._offline = False
        # per collection job, its last finished run: when it started (by the scheduler's clock)
        # and when the earliest post it stored first was published (None: it stored none)
        self._last_pass: dict[str, tuple[datetime, datetime | None]] = {}
        self._revised_through: int | None = None  # posts (by seq) checked for late arrivals

    # --- one cycle ----------------------------------------------------------------------------

    def run_once(self) -> CycleReport:
        """Collect every enabled source for every topic, analyse, raise alerts, write the digest
        if one is due; record it all and return what happened."""
        self.take_lease()
        try:
            return self._one_cycle()
        finally:
            self._give_up_lease()

    def _one_cycle(self) -> CycleReport:
        self._beat()
        sources, topics = chosen(self.config, [], [])
        started = self.clock.now()
        with stopping_on_signals(self._stop):
            self.report.runs = asyncio.run(
                collect(
                    self.config,
                    self.warehouse,
                    sources,
                    topics,
                    transport=self.transport,
                    should_stop=self._stop.is_set,
                    now=self.clock.now,
                )
            )
        for summary in self.report.runs:
            self._record_run(self._jobs[_job_id(summary.source, summary.topic)], summary, started)
        if self.config.schedule.analyze_after_collect:
            self._analysis_wanted.set()
            self._analyse()
        self._write_due_digest()
        self._save_jobs()
        self._beat(stopped=True)
        return self.report

    # --- until stopped ------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> CycleReport:
        """Run every job on its schedule until `stop` is set, or SIGINT / SIGTERM arrives."""
        if stop is not None:
            self._stop = stop
        self.take_lease()
        try:
            with stopping_on_signals(self._stop):
                self._start()
                try:
                    while not self._stop.wait(0.2):
                        pass
                finally:
                    self._shutdown()
        finally:
            self._give_up_lease()
        return self.report

    def stop(self) -> None:
        self._stop.set()

    def take_lease(self) -> None:
        """Become the one scheduler of this warehouse (`warehouse.lease`); `LeaseHeldError`,
        saying who holds it, while another live scheduler does."""
        if self._lease is None:
            me = holder_here(self.process_id, self.mode, self.started_at, datetime.now(UTC))
            take_lease(self.warehouse.path, me, self._stale_after())
            self._lease = me

    def _renew_lease(self) -> None:
        if self._lease is None:
            return
        taker = renew_lease(self.warehouse.path, self._lease)
        if taker is not None:
            log.error(
                "the lease of %s was taken over by the %s: stopping, to leave one scheduler",
                self.warehouse.path,
                taker.describe(datetime.now(UTC)),
            )
            self._lease = None
            self._stop.set()

    def _give_up_lease(self) -> None:
        if self._lease is not None:
            give_up_lease(self.warehouse.path, self._lease)
            self._lease = None

    def _stale_after(self) -> timedelta:
        return max(3 * self.config.schedule.heartbeat, MIN_STALE_LEASE)

    def _start(self) -> None:
        self._beat()  # also creates and migrates the warehouse file if there is none yet
        self._restore_failures()
        self._aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=len(self._jobs) + 3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        now = datetime.now(UTC)
        for job in self._jobs.values():
            first = max(now, job.next_run_at) if job.failures and job.next_run_at else now
            self._plan(job.job_id, self._collect_job, first)
        # posts may have arrived (an import) while no scheduler ran
        if self.config.schedule.analyze_after_collect:
            self._analysis_wanted.set()
        for job_id in self._services():
            self._plan(job_id, self._service_job, now)
        self._aps.start()
        log.info("scheduler %s started: %d collection job(s)", self.process_id, len(self._jobs))

    def _services(self) -> dict[str, tuple[Callable[[], None], float]]:
        """The jobs besides collection: what each does, and the seconds between its runs."""
        heartbeat = self.config.schedule.heartbeat.total_seconds()
        return {
            "heartbeat": (self._heartbeat, heartbeat),
            "analyze": (self._analyse, ANALYSIS_CHECK_S),
            "digest": (self._write_due_digest, heartbeat),
        }

    def _service_job(self, job_id: str) -> None:
        run, every_s = self._services()[job_id]
        try:
            if job_id == "heartbeat" or not self._stop.is_set():
                run()
        finally:
            self._plan_next(job_id, self._service_job, every_s)

    def _plan(self, job_id: str, run: Callable[[str], None], when: datetime) -> None:
        """Run `run(job_id)` at `when`. Each run plans the next when it ends (a delay, not a
        rate), so a slow run never overlaps the next and runs missed while busy become one."""
        if self._aps is None or self._stop.is_set():
            return
        self._planned[job_id] = when
        self._aps.add_job(
            run, DateTrigger(run_date=when), args=[job_id], id=job_id, replace_existing=True
        )

    def _plan_next(self, job_id: str, run: Callable[[str], None], delay_s: float) -> None:
        self._plan(job_id, run, datetime.now(UTC) + timedelta(seconds=delay_s))

    def _shutdown(self) -> None:
        log.warning("stopping: finishing the batch in hand (a second Ctrl-C stops at once)")
        self._stop.set()
        if self._aps is not None:
            self._aps.shutdown(wait=True)
        self._save_jobs()
        self._beat(stopped=True)
        log.warning("stopped cleanly; a restart resumes from the saved cursors")

    # --- jobs ---------------------------------------------------------------------------------

    def _collect_job(self, job_id: str) -> None:
        if self._stop.is_set():
            return
        job = self._jobs[job_id]
        try:
            self._collect(job)
        finally:
            jitter = random.uniform(0, self.config.schedule.jitter.total_seconds())
            self._plan_next(job_id, self._collect_job, job.interval_s + jitter)

    def _collect(self, job: JobRow) -> None:
        job_id = job.job_id
        assert job.source is not None and job.topic is not None
        started = self.clock.now()
        try:
            summaries = asyncio.run(
                collect(
                    self.config,
                    self.warehouse,
                    [job.source],
                    [job.topic],
                    transport=self.transport,
                    should_stop=self._stop.is_set,
                    now=self.clock.now,
                )
            )
        except Exception as error:  # a broken job must show as failing, not kill the scheduler
            log.exception("%s crashed", job_id)
            summaries = [_crashed(job, error)]
        for summary in summaries:
            self.report.runs.append(summary)
            self._record_run(job, summary, started)
            self._watch_network(summary)
            if summary.new and self.config.schedule.analyze_after_collect:
                self._want_analysis()

    def _record_run(self, job: JobRow, summary: RunSummary, started: datetime) -> None:
        earliest = self._earliest_new(summary)
        with self._state:
            job.last_run_at = datetime.now(UTC)
            job.last_status = summary.status
            job.last_error = summary.error
            if summary.status != "interrupted":  # a stop says nothing of the source's health
                self._last_pass[job.job_id] = (started, earliest)
                job.failures = job.failures + 1 if summary.status in FAILED else 0
                job.interval_s = backoff_interval(
                    job.base_interval_s, job.failures, self._max_backoff_s()
                )
        _say_run(job, summary)

    def _earliest_new(self, summary: RunSummary) -> datetime | None:
        if not summary.new:
            return None
        try:
            return earliest_new_post(self.warehouse, summary.run_id)
        except WarehouseError:  # held too long: as if the run had brought an old post
            return _NEVER

    def _watch_network(self, summary: RunSummary) -> None:
        """Say "no network" once, when every source's last run reached none of its hosts (the
        jobs run apart, so no one run knows), and say when a host answers again."""
        if summary.status == "interrupted":
            return
        with self._state:
            self._latest[summary.source] = summary
            every_source = {job.source for job in self._jobs.values()} <= set(self._latest)
            offline = offline_summary(list(self._latest.values())) if every_source else None
            was_offline, self._offline = self._offline, offline is not None
        if offline and not was_offline:
            log.warning("%s Each source backs off and tries again.", offline)
        elif was_offline and offline is None:
            log.warning("the network is back: %s reached its hosts", summary.source)

    def _want_analysis(self) -> None:
        self._analysis_wanted.set()
        if self._aps is not None and not self._stop.is_set():
            with contextlib.suppress(Exception):  # the job may be shutting down with the process
                self._aps.modify_job("analyze", next_run_time=datetime.now(UTC))

    def _analyse(self) -> None:
        if not self._analysis_wanted.is_set():
            return
        self._analysis_wanted.clear()
        try:
            analysis = analyze_warehouse(self.warehouse, self.config)
        except Exception as error:
            self._analysis_wanted.set()  # try again at the next check
            self._failed("analyze", "analysis", error)
            return
        self._last_error.pop("analyze", None)
        self.report.analyses.append(analysis)
        log.info("analysis: %d post(s) read", analysis.posts_read)
        self._raise_alerts()

    def _raise_alerts(self) -> None:
        try:
            # imported when first needed, as the digest (below)
            from digest.alerts import check_alerts

            alerts = check_alerts(self.config, self.warehouse, self.clock.now())
        except Exception as error:
            self._failed("analyze", "alerts", error)
            return
        self.report.alerts += len(alerts)

    def _heartbeat(self) -> None:
        self._renew_lease()  # first: the warehouse may keep the beat waiting
        self._beat()
        self._save_jobs()

    def caught_up(self, until: datetime) -> bool:
        """Whether the warehouse holds, analysed, what was published before `until` (by the
        scheduler's clock): the last run of every collection job started at or after `until`
        and brought no post published before it (it found nothing of that time missing), except
        for the jobs failing (their failure is what the digest reports); no batch waits in
        staging; and the analysis covers every post stored."""
        with self._state:
            waiting = [
                job.job_id
                for job in self._jobs.values()
                if job.failures == 0 and not _passed(self._last_pass.get(job.job_id), until)
            ]
        if waiting or self.warehouse.staged():
            return False
        return self._analysis_caught_up()

    def _analysis_caught_up(self) -> bool:
        from digest.publish import analysed_through
        from warehouse.analysis import snapshot

        with self.warehouse.reading() as con:
            stored = snapshot(con).through
        return analysed_through(self.warehouse, self.config) >= stored

    def _write_due_digest(self) -> None:
        """Write each digest due by the scheduler's clock, once the pipeline has caught up with
        its day (`caught_up`), then revise the digests that posts stored late changed."""
        try:
            # imported when first needed: the digest's chart rendering is a heavy import that a
            # scheduler with no digest due (or `claimwatch --help`) should not pay for
            from digest.publish import due_days, write_digest
            from digest.report import day_bounds

            now = self.clock.now()
            for day in due_days(self.config, self.warehouse, now):
                if not self.caught_up(day_bounds(day, self.config.digest.zone)[1]):
                    return  # the next beat looks again
                result = write_digest(self.config, self.warehouse, day, now=now)
                self.report.digests.append(day)
                log.warning("digest for %s written: %s", day, result.markdown_path)
            self._revise_digests(now)
            self._last_error.pop("digest", None)
        except Exception as error:
            self._failed("digest", "digest", error)

    def _revise_digests(self, now: datetime) -> None:
        """A revision of each digested day whose figures posts stored since the last look
        changed (a backfill, an import, a source back from a failure)."""
        from digest import records
        from digest.publish import days_to_revise, revise_digest
        from warehouse.analysis import snapshot

        if self._revised_through is None:  # first look: from what the digests counted
            counted = records.digested_through(self.warehouse).values()
            self._revised_through = min(counted, default=0)
        with self.warehouse.reading() as con:
            stored = snapshot(con).through
        if stored <= self._revised_through or not self._analysis_caught_up():
            return
        for day in days_to_revise(self.config, self.warehouse, self._revised_through):
            result = revise_digest(self.config, self.warehouse, day, now=now)
            if result is not None:
                self.report.revisions.append((day, result.version))
        self._revised_through = stored

    def _failed(self, job_id: str, what: str, error: Exception) -> None:
        """Record the failure of `what` in the job `job_id`; log it when it is news (the same
        error every beat is said once)."""
        message = f"{what}: {type(error).__name__}: {error}"
        self.report.errors.append(message)
        if self._last_error.get(job_id) != message:
            log.error("%s failed: %s", what, error)
        self._last_error[job_id] = message

    # --- state --------------------------------------------------------------------------------

    def _collect_jobs(self) -> dict[str, JobRow]:
        sources, topics = chosen(self.config, [], [])
        jobs = {}
        for source in sources:
            interval = self.config.source(source).interval.total_seconds()
            for topic in topics:
                job = JobRow(_job_id(source, topic), "collect", source, topic, interval, interval)
                jobs[job.job_id] = job
        return jobs

    def _restore_failures(self) -> None:
        saved = saved_failures(self.warehouse)
        for job_id, (failures, next_run_at) in saved.items():
            job = self._jobs.get(job_id)
            if job is not None and failures:
                job.failures = failures
                job.next_run_at = next_run_at
                job.interval_s = backoff_interval(
                    job.base_interval_s, failures, self._max_backoff_s()
                )
                log.warning("%s failed %d time(s) in a row before: backing off", job_id, failures)

    def _save_jobs(self) -> None:
        with self._state:
            for job in self._jobs.values():
                job.next_run_at = self._next_run(job.job_id)
            rows = [*self._jobs.values(), *self._service_rows()]
            save_jobs(self.warehouse, rows, self.process_id)

    def _service_rows(self) -> list[JobRow]:
        return [
            JobRow(
                name,
                name,
                None,
                None,
                every_s,
                every_s,
                next_run_at=self._next_run(name),
                last_status="failed" if name in self._last_error else "ok",
                last_error=self._last_error.get(name),
            )
            for name, (_, every_s) in self._services().items()
        ]

    def _next_run(self, job_id: str) -> datetime | None:
        if self._aps is None or self._stop.is_set():
            return None
        return self._planned.get(job_id)

    def _beat(self, *, stopped: bool = False) -> None:
        beat(
            self.warehouse,
            self.process_id,
            mode=self.mode,
            started_at=self.started_at,
            clock_at=self.clock.now(),
            stopped=stopped,
        )

    def _max_backoff_s(self) -> float:
        return self.config.schedule.max_backoff.total_seconds()


def _passed(last_pass: tuple[datetime, datetime | None] | None, until: datetime) -> bool:
    if last_pass is None:
        return False
    started, earliest = last_pass
    return started >= until and (earliest is None or earliest >= until)


def _job_id(source: str, topic: str) -> str:
    return f"collect:{source}:{topic}"


def _crashed(job: JobRow, error: Exception) -> RunSummary:
    assert job.source is not None and job.topic is not None
    summary = RunSummary(job.source, job.topic, status="failed")
    summary.error = f"{type(error).__name__}: {error}"
    return summary


def _say_run(job: JobRow, summary: RunSummary) -> None:
    where = f"{summary.source}/{summary.topic}"
    if summary.status in FAILED:
        # out of reach, the URLs tried say nothing more: they are in the run's error
        error = f"{UNREACHABLE} {summary.unreachable}" if summary.unreachable else summary.error
        log.warning(
            "%s %s (%d in a row): %s; next try in %s",
            where,
            summary.status,
            job.failures,
            error,
            timedelta(seconds=round(job.interval_s)),
        )
    else:
        log.info("%s %s: %d fetched, %d new", where, summary.status, summary.fetched, summary.new)


@contextlib.contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set `stop`; a second one stops at once. Only the main thread can
    install signal handlers: elsewhere (a test's thread) `stop` is the only way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    first: list[float] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # the same signal can arrive twice at once (a terminal's to the process group, plus
        # `uv run` forwarding it): only a second one a moment later means "stop now"
        if first and time.monotonic() - first[0] > 1.0:
            raise KeyboardInterrupt
        if not first:
            first.append(time.monotonic())
            stop.set()
            log.warning("received %s", signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            # once stopped by a signal, a late copy of it (`uv run` forwards one, 200 ms later)
            # must not turn the clean stop into a KeyboardInterrupt as the process exits
            stopped = first or signal.getsignal(signum) is _after_the_stop
            signal.signal(signum, _after_the_stop if stopped else handler)


def _after_the_stop(signum: int, frame: FrameType | None) -> None:
    log.info("received %s again: already stopped", signal.Signals(signum).name)
