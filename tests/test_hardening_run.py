"""Hardening `claimwatch run` and `claimwatch dashboard` (issue 14): prompt stops, one scheduler
per warehouse, and an offline machine said so.

Real processes, real HTTP on loopback, real DuckDB files; every wait is for an event.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import streamlit as st
from conftest import CliResult
from story_server import story_server
from streamlit.testing.v1 import AppTest
from test_main_command import answers, free_port
from test_scheduler import (
    finish,
    in_thread,
    readable,
    rows,
    scheduler_process,
    story_config,
    wait_for,
)

from claimwatch.scheduler import Scheduler, stopping_on_signals
from collectors.http import CollectionStoppedError, HttpStats, SourceHttp
from config import load_config
from warehouse import Warehouse
from warehouse.lease import Holder, lease_path, take_lease

ROOT = Path(__file__).parent.parent
APP = ROOT / "dashboard" / "app.py"
TAGS = "/api/v1/timelines/tag/"
Cli = Callable[..., CliResult]


# --- item 11: stops that are prompt ---------------------------------------------------------------


def test_sigterm_while_sources_hang_or_keep_failing_stops_at_once_as_interrupted(
    tmp_path: Path,
) -> None:
    # Mastodon's request hangs (60 s, past its 30 s timeout, then retried); Reddit answers 500
    # every time (retried with backoff): neither yields a page before the stop
    faults = {TAGS: ["hang"] * 10, "/search.json": ["500"] * 100}
    db = tmp_path / "claimwatch.duckdb"
    with story_server(faults=faults) as (base, requests):
        config = story_config(tmp_path, base, only=["mastodon", "reddit"])
        process = scheduler_process(db, config, "run", "--no-dashboard")
        wait_for(
            lambda: (
                any(TAGS in r for r in requests) and sum("/search.json" in r for r in requests) >= 2
            ),
            60,
            "a hanging Mastodon request and a Reddit retry",
        )
        process.send_signal(signal.SIGTERM)
        # a request in flight gets a few seconds to bring its page, then the run stops; without
        # that, the retries alone take minutes
        code, said = finish(process, 30)
    assert code == 0, said
    assert "stopped cleanly" in said
    runs = rows(
        db,
        "SELECT source, status, finished_at IS NOT NULL FROM collector_runs"
        " WHERE source IN ('mastodon', 'reddit')",
    )
    assert sorted(runs) == [("mastodon", "interrupted", True), ("reddit", "interrupted", True)]


def dashboard_process(db: Path, port: int, *, sigint_ignored: bool) -> subprocess.Popen[bytes]:
    """`claimwatch dashboard` as its own process; `sigint_ignored` starts it the way a
    non-interactive shell starts a background job (`claimwatch dashboard &`)."""

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "claimwatch.cli", "--db", str(db), "dashboard", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=ignore_sigint if sigint_ignored else None,
        start_new_session=True,  # its own group: the signal reaches this PID only
    )


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_dashboard_stops_on_a_signal_to_its_own_pid(
    tmp_path: Path, signum: signal.Signals, sigint_ignored: bool
) -> None:
    port = free_port()
    process = dashboard_process(tmp_path / "claimwatch.duckdb", port, sigint_ignored=sigint_ignored)
    try:
        wait_for(lambda: answers(port) or process.poll() is not None, 120, "the dashboard")
        assert process.poll() is None
        process.send_signal(signum)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    wait_for(lambda: not answers(port), 30, "the dashboard's server gone too")


def test_a_late_copy_of_the_signal_after_a_clean_stop_changes_nothing() -> None:
    """`uv run` forwards a copy of SIGINT 200 ms after the one the process group got: when it
    lands after the scheduler stopped (and the dashboard with it), the exit stays clean rather
    than a KeyboardInterrupt (exit status 130)."""
    stop = threading.Event()
    try:
        # the command's, around the dashboard, then the scheduler's own
        with stopping_on_signals(stop), stopping_on_signals(stop):
            os.kill(os.getpid(), signal.SIGINT)
            wait_for(stop.is_set, 30, "the stop")
        os.kill(os.getpid(), signal.SIGINT)  # the late copy: no KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # a handler runs between bytecodes; give it some to run
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- item 9: one scheduler per warehouse ----------------------------------------------------------


def flat(said: str) -> str:
    """The output with its line wrapping undone."""
    return " ".join(said.split())


def beating(db: Path, process: subprocess.Popen[str]) -> None:
    wait_for(
        readable(db, f"SELECT count(*) FROM heartbeats WHERE pid = {process.pid}"),
        60,
        "the first scheduler's heartbeat",
    )


def test_a_second_scheduler_on_the_same_warehouse_is_refused_with_who_holds_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "claimwatch.duckdb"
    with story_server() as (base, _):
        config = story_config(tmp_path, base, only=["news"])
        first = scheduler_process(db, config, "run", "--no-dashboard")
        try:
            beating(db, first)
            for command in (["run", "--no-dashboard"], ["run", "--once"]):
                code, said = finish(scheduler_process(db, config, *command), 60)
                assert code == 2, said
                said = flat(said)
                assert f"another scheduler already runs on {db}" in said, said
                assert f"pid {first.pid} on host {socket.gethostname()}" in said, said
                assert "Traceback" not in said
            assert rows(db, "SELECT pid FROM heartbeats") == [(first.pid,)]
        finally:
            first.send_signal(signal.SIGTERM)
            code, said = finish(first, 60)
        assert code == 0, said
        # the lease was given up as it stopped: the next scheduler starts
        code, said = finish(scheduler_process(db, config, "run", "--once"), 120)
    assert code == 0, said
    assert "taking over" not in said


def test_the_lease_of_a_killed_scheduler_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "claimwatch.duckdb"
    with story_server() as (base, _):
        config = story_config(tmp_path, base, only=["news"])
        first = scheduler_process(db, config, "run", "--no-dashboard")
        beating(db, first)
        first.kill()
        first.communicate()
        code, said = finish(scheduler_process(db, config, "run", "--once"), 120)
    assert code == 0, said
    assert f"its process {first.pid} is gone" in flat(said)


@pytest.mark.parametrize("host", ["this host", "another host"])
def test_a_lease_not_renewed_is_taken_over_even_from_a_live_process(
    tmp_path: Path, host: str
) -> None:
    db = tmp_path / "claimwatch.duckdb"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        name = socket.gethostname() if host == "this host" else "elsewhere"
        with story_server() as (base, _):
            config = story_config(tmp_path, base, only=["news"])
            now = datetime.now(UTC)
            # renewed a moment ago: live, refused
            take_lease(db, Holder("run-live", live.pid, name, "run", now, now), timedelta(0))
            code, said = finish(scheduler_process(db, config, "run", "--once"), 60)
            assert code == 2, said
            assert f"pid {live.pid} on host {name}" in flat(said)
            # not renewed for an hour: hung, or its host cut off; taken over
            hour_ago = now - timedelta(hours=1)
            old = Holder("run-hung", live.pid, name, "run", hour_ago, hour_ago)
            take_lease(db, old, timedelta(0))
            code, said = finish(scheduler_process(db, config, "run", "--once"), 120)
        assert code == 0, said
        assert "taking over the lease" in flat(said) and "not renewed since" in flat(said)
        assert lease_path(db).read_text() == ""  # given up as it stopped
    finally:
        live.kill()
        live.wait()


def test_a_scheduler_whose_lease_was_taken_over_stops(tmp_path: Path, db_path: Path) -> None:
    with story_server() as (base, _):
        config = load_config(story_config(tmp_path, base, only=["news"]))
        scheduler = Scheduler(config, Warehouse(db_path, lock_timeout=5, read_timeout=5))
        thread, stop = in_thread(scheduler)
        try:
            wait_for(readable(db_path, "SELECT count(*) FROM heartbeats"), 60, "a heartbeat")
            now = datetime.now(UTC)
            other = Holder("run-other", os.getpid(), "elsewhere", "run", now, now)
            take_lease(db_path, other, timedelta(0))  # as if this one had stopped renewing
            thread.join(60)
            assert not thread.is_alive()
        finally:
            stop.set()
            thread.join(60)
    assert "run-other" in lease_path(db_path).read_text()  # the taker's lease left alone


# --- item 13: offline, said so -------------------------------------------------------------------


def nowhere() -> str:
    """A base URL on which nothing listens: every connection is refused, as offline."""
    return f"http://127.0.0.1:{free_port()}"


def test_offline_the_scheduler_says_no_network_once(tmp_path: Path) -> None:
    db = tmp_path / "claimwatch.duckdb"
    config = story_config(tmp_path, nowhere())  # Mastodon, Reddit and news
    process = scheduler_process(db, config, "run", "--no-dashboard")
    try:
        failing = "SELECT count(*) = 3 FROM scheduler_jobs WHERE kind = 'collect' AND failures > 0"
        wait_for(readable(db, failing), 120, "every source failing")
    finally:
        process.send_signal(signal.SIGTERM)
        code, said = finish(process, 60)
    assert code == 0, said
    said = flat(said)
    summary = "no network: 3 sources unreachable (mastodon, news, reddit)"
    assert said.count(summary) == 1, said
    for source in ("mastodon", "news", "reddit"):
        assert f"{source}/ice-canada failed (1 in a row): cannot reach 127.0.0.1" in said, said
    errors = rows(db, "SELECT error FROM collector_runs WHERE status = 'failed'")
    assert errors and all(e.startswith("cannot reach 127.0.0.1: ") for (e,) in errors), errors


def test_offline_collect_says_no_network_and_the_sources_page_shows_it_whole(
    cli: Cli,
    tmp_path: Path,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = story_config(tmp_path, nowhere())
    result = cli("--config", str(config), "collect")
    assert result.code == 1
    summary = "no network: 3 sources unreachable (mastodon, news, reddit)"
    assert sum(summary in m for m in caplog.messages) == 1, caplog.messages  # in-process: caplog

    # the dashboard's Sources page over what that pass recorded
    monkeypatch.setenv("CLAIMWATCH_DB", str(db_path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(config))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("screens/sources.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No network: 3 sources unreachable" in e.value for e in at.error)
    shown = "\n".join(str(t.value) for t in at.text)
    for (error,) in rows(db_path, "SELECT error FROM collector_runs WHERE status = 'failed'"):
        assert error in shown  # whole, not cut at the table cell's width
    st.cache_data.clear()


def test_the_stop_cuts_a_retry_wait_short_and_sends_nothing_more() -> None:
    """Over real HTTP: a 500, then a backoff of over a minute; the stop ends it at once."""

    async def until_stopped(base: str) -> HttpStats:
        stop = threading.Event()
        async with httpx.AsyncClient() as client:
            http = SourceHttp(
                client,
                "reddit",
                base_backoff=600,
                max_backoff=600,
                rng=random.Random(1),  # a first wait of 80 s
                should_stop=stop.is_set,
            )
            asking = asyncio.ensure_future(http.get(f"{base}/search.json"))

            async def backing_off() -> None:
                while not http.stats.retries:
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(backing_off(), 60)
            stop.set()
            with pytest.raises(CollectionStoppedError):
                await asyncio.wait_for(asking, 30)
            with pytest.raises(CollectionStoppedError):  # and no request after the stop
                await http.get(f"{base}/search.json")
        return http.stats

    with story_server(faults={"/search.json": ["500"] * 10}) as (base, requests):
        stats = asyncio.run(until_stopped(base))
    assert stats.requests == 1
    assert sum("/search.json" in r for r in requests) == 1
