"""`claimwatch run`: the scheduler over a local server speaking the sources' real protocols.

Collection, analysis and the digest in one process; a failing source backing off while the others
go on; SIGTERM in the middle of a batch, then a restart, losing and duplicating nothing; `--once`.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import tomli_w
from conftest import CliResult
from story_server import story_server

from claimwatch.scheduler import Scheduler, SimulatedClock, backoff_interval
from config import load_config
from warehouse import Warehouse

Cli = Callable[..., CliResult]
ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "config" / "claimwatch.toml"
# 13:00 UTC on 2026-01-31 is 08:00 in Toronto: the digest of 2026-01-30 is due (at 07:00)
AFTER_THE_STORY = datetime(2026, 1, 31, 13, 0, tzinfo=UTC)


def story_config(
    tmp_path: Path, base: str, *, failing: str | None = None, only: list[str] | None = None
) -> Path:
    """The shipped config with Mastodon, Reddit and news (or `only` some) on the local server,
    every second; `failing`, if given, is a source pointed at a path the server does not know."""
    config = tomllib.loads(CONFIG.read_text())
    for source in config["sources"].values():
        source.update(enabled=False, interval="1s")
    sources = config["sources"]
    sources["mastodon"].update(enabled=True, instances=[base], hashtags=[])
    sources["reddit"].update(enabled=True, base_url=base, oauth_url=base, subreddits=["canada"])
    sources["news"].update(enabled=True, base_url=base, google_news_editions=["en-CA"], feeds=[])
    for name in {"mastodon", "reddit", "news"} - set(only or sources):
        sources[name]["enabled"] = False
    if failing:
        sources[failing].update(enabled=True, base_url=f"{base}/nowhere")
    config["schedule"].update(jitter="0s", heartbeat="1s", max_backoff="1m")
    config["digest"]["output_dir"] = str(tmp_path / "digests")
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "claimwatch.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def rows(db: Path, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Through the warehouse, which takes turns with a scheduler running in this process."""
    with Warehouse(db, read_timeout=30).reading() as con:
        return con.execute(query, params or []).fetchall()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def readable(db: Path, query: str) -> Callable[[], bool]:
    """True once `query` returns a true first cell (False while the file is held by a writer)."""

    def check() -> bool:
        if not db.exists():
            return False
        try:
            result = rows(db, query)
        except duckdb.Error:
            return False
        return bool(result and result[0][0])

    return check


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    with story_server() as served:
        yield served


def in_thread(scheduler: Scheduler) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def test_backoff_doubles_up_to_sixteen_times_and_the_cap() -> None:
    assert [backoff_interval(60, n, 3600) for n in range(6)] == [60, 120, 240, 480, 960, 960]
    assert backoff_interval(900, 4, 6 * 3600) == 4 * 3600  # 16 x 15 min = 4 h, under the 6 h cap
    assert backoff_interval(900, 9, 3600) == 3600  # the cap
    assert backoff_interval(7200, 3, 3600) == 7200  # never shorter than configured


def test_one_process_collects_analyses_and_writes_the_due_digest(
    tmp_path: Path, db_path: Path, server: tuple[str, list[str]]
) -> None:
    config = load_config(story_config(tmp_path, server[0]))
    warehouse = Warehouse(db_path, lock_timeout=5, read_timeout=5)
    clock = SimulatedClock(AFTER_THE_STORY, speed=0)
    scheduler = Scheduler(config, warehouse, clock=clock, mode="run")
    thread, stop = in_thread(scheduler)
    try:
        wait_for(readable(db_path, "SELECT count(*) FROM digests"), 60, "the digest")
        wait_for(
            readable(db_path, "SELECT count(DISTINCT variant) = 2 FROM claim_mentions"),
            60,
            "the analysis of the collected posts",
        )
        every_source = (
            "SELECT count(DISTINCT source) = 3 FROM collector_runs"
            " WHERE status = 'ok' AND source IN ('mastodon', 'news', 'reddit')"
        )
        wait_for(readable(db_path, every_source), 60, "a whole run of every source")
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert rows(db_path, "SELECT day FROM digests") == [(datetime(2026, 1, 30).date(),)]
    assert (tmp_path / "digests").is_dir() and any((tmp_path / "digests").iterdir())
    variants = "SELECT DISTINCT variant FROM claim_mentions WHERE variant IS NOT NULL ORDER BY 1"
    assert rows(db_path, variants) == [("4",), ("5",)]
    assert rows(db_path, "SELECT count(*), count(DISTINCT post_uid) FROM posts") == [(8, 8)]
    beat = rows(db_path, "SELECT mode, clock_at, stopped_at IS NOT NULL FROM heartbeats")
    assert beat == [("run", AFTER_THE_STORY, True)]
    services = "SELECT job_id, last_status FROM scheduler_jobs WHERE kind <> 'collect'"
    assert sorted(rows(db_path, services)) == [
        ("analyze", "ok"),
        ("digest", "ok"),
        ("heartbeat", "ok"),
    ]
    jobs = "SELECT job_id, failures, next_run_at FROM scheduler_jobs WHERE kind = 'collect'"
    assert sorted(rows(db_path, jobs)) == [
        (f"collect:{s}:ice-canada", 0, None) for s in ("mastodon", "news", "reddit")
    ]


def test_a_failing_digest_is_shown_on_its_job_and_said_once(
    tmp_path: Path, db_path: Path, server: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    path = story_config(tmp_path, server[0], only=["news"])
    (tmp_path / "digests").write_text("a file where the digest folder should be")
    config = load_config(path)
    scheduler = Scheduler(config, Warehouse(db_path, lock_timeout=5, read_timeout=5))
    scheduler.clock = SimulatedClock(AFTER_THE_STORY, speed=0)
    thread, stop = in_thread(scheduler)
    try:
        failed = "SELECT last_status = 'failed' FROM scheduler_jobs WHERE job_id = 'digest'"
        wait_for(readable(db_path, failed), 30, "the digest job shown failing")
        time.sleep(2.5)  # two more beats, each trying again
    finally:
        stop.set()
        thread.join(60)
    error = rows(db_path, "SELECT last_error FROM scheduler_jobs WHERE job_id = 'digest'")[0][0]
    assert error.startswith("digest: ") and "digests" in error
    assert sum("digest failed" in r.message for r in caplog.records) == 1  # said once
    assert sum(e.startswith("digest: ") for e in scheduler.report.errors) >= 3  # tried each beat


@pytest.mark.parametrize("news", ["quick", "slow"])
def test_a_failing_source_backs_off_while_the_others_go_on(
    tmp_path: Path, db_path: Path, news: str
) -> None:
    # news beside it, every second; "slow": its first requests answer after 3 s each, as on a
    # busy machine, so the failing source fails three times before news ran much
    faults = {"/rss/search": ["slow"] * 3} if news == "slow" else {}
    with story_server(faults=faults) as (base, _):
        config = load_config(story_config(tmp_path, base, failing="hackernews", only=["news"]))
        warehouse = Warehouse(db_path, lock_timeout=5, read_timeout=5)
        thread, stop = in_thread(Scheduler(config, warehouse))
        try:
            # events, not a count in a time window: the failing source has backed off three
            # times, and the other one, going on meanwhile, has run more often than it
            behind = (
                "SELECT (SELECT min(failures) >= 3 FROM scheduler_jobs WHERE source = 'hackernews')"
                " AND count(*) FILTER (source = 'news' AND finished_at IS NOT NULL)"
                " > count(*) FILTER (source = 'hackernews') FROM collector_runs"
            )
            wait_for(readable(db_path, behind), 180, "three failures of hackernews, news ahead")
        finally:
            stop.set()
            thread.join(60)
    # (that news went on is the event waited for: counted again after the stop, one more run of
    # hackernews may have started in between, so it is not asserted twice)
    # each wait after a failure is at least the backed-off interval: 2, 4, 8... seconds
    ends = rows(
        db_path,
        "SELECT started_at, finished_at FROM collector_runs WHERE source = 'hackernews'"
        " ORDER BY started_at",
    )
    waits = [(b[0] - a[1]).total_seconds() for a, b in itertools.pairwise(ends)]
    assert len(waits) >= 2
    assert all(w >= backoff_interval(1, n, 60) - 0.05 for n, w in enumerate(waits, 1)), waits
    job = rows(
        db_path,
        "SELECT last_status, last_error, failures, interval_s, base_interval_s"
        " FROM scheduler_jobs WHERE source = ?",
        ["hackernews"],
    )[0]
    status, error, failures, interval, base = job
    # the run in flight at the stop may end interrupted: that keeps the failures and the backoff
    assert (status in ("failed", "interrupted"), base) == (True, 1.0)
    assert failures >= 3
    assert status != "failed" or "404" in error
    assert interval == backoff_interval(1.0, failures, 60)
    others = "SELECT last_status, failures FROM scheduler_jobs WHERE source = 'news'"
    for status, failures in rows(db_path, others + " AND kind = 'collect'"):
        assert (status in ("ok", "interrupted"), failures) == (True, 0)
    # a restart keeps backing off: it reads the failures back
    restarted = Scheduler(config, warehouse)
    restarted._restore_failures()
    assert restarted._jobs["collect:hackernews:ice-canada"].interval_s == interval


def scheduler_process(db: Path, config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "claimwatch.cli", "--db", str(db), "--config", str(config), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def finish(process: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    """Wait for `process`; its exit status and everything it printed."""
    try:
        said, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        said, _ = process.communicate()
        raise AssertionError(f"still running after {timeout} s:\n{said}") from None
    return process.returncode, said


def test_sigterm_mid_batch_then_a_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    control_db = tmp_path / "control.duckdb"
    db = tmp_path / "stopped.duckdb"
    with story_server() as (base, _):
        control = scheduler_process(control_db, story_config(tmp_path / "c", base), "run", "--once")
        code, said = finish(control, 60)
        assert code == 0, said
    expected = rows(control_db, "SELECT post_uid FROM posts ORDER BY 1")
    assert len(expected) == 8

    # the first Mastodon page answers after 3 s: SIGTERM lands while it is in flight
    slow = {"/api/v1/timelines/tag/": ["slow"]}
    with story_server(faults=slow) as (base, requests):
        config = story_config(tmp_path / "s", base)
        process = scheduler_process(db, config, "run", "--no-dashboard")
        wait_for(lambda: any("/timelines/tag/" in r for r in requests), 30, "a Mastodon page")
        process.send_signal(signal.SIGTERM)
        code, said = finish(process, 60)
        assert code == 0, said
        assert "finishing the batch in hand" in said and "stopped cleanly" in said
        interrupted = rows(
            db,
            "SELECT status, finished_at IS NOT NULL, new FROM collector_runs"
            " WHERE source = 'mastodon'",
        )
        assert interrupted == [("interrupted", True, 1)]  # the page in hand was stored
        pages_before = sum("/timelines/tag/" in r for r in requests)
        assert pages_before == 1

        code, said = finish(scheduler_process(db, config, "run", "--once"), 120)
        assert code == 0, said
    assert rows(db, "SELECT post_uid FROM posts ORDER BY 1") == expected
    assert rows(db, "SELECT count(*) FROM posts") == [(len(expected),)]
    assert rows(db, "SELECT count(*), count(DISTINCT post_uid) FROM post_topics") == [(8, 8)]
    assert rows(db, "SELECT stopped_at IS NOT NULL FROM heartbeats ORDER BY started_at") == [
        (True,),
        (True,),
    ]


def test_once_runs_one_cycle_and_prints_a_summary(
    cli: Cli, tmp_path: Path, db_path: Path, server: tuple[str, list[str]]
) -> None:
    result = cli("--config", str(story_config(tmp_path, server[0])), "run", "--once")
    assert result.code == 0, result.out + result.err
    for said in ("collection pass", "mastodon", "reddit", "news", "analysis", "digest written"):
        assert said in result.out
    assert "3 source run(s), 0 failing, 8 new post(s)" in result.out
    assert rows(db_path, "SELECT count(*) FROM claim_mentions")[0][0] > 0
    assert rows(db_path, "SELECT mode, stopped_at IS NOT NULL FROM heartbeats") == [("once", True)]


def test_once_exits_1_when_every_source_failed(
    cli: Cli, tmp_path: Path, server: tuple[str, list[str]]
) -> None:
    config = tomllib.loads(story_config(tmp_path, server[0], failing="hackernews").read_text())
    for name in ("mastodon", "reddit", "news"):
        config["sources"][name]["enabled"] = False
    path = tmp_path / "only-failing.toml"
    path.write_text(tomli_w.dumps(config))
    result = cli("--config", str(path), "run", "--once")
    assert result.code == 1
    assert "1 source run(s), 1 failing" in result.out
