"""Faults against the local server: each run ends with every good post stored exactly once,
the cursor where it should be, and the failure in `collector_runs` or the quarantine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import tomli_w
from conftest import CliResult
from story_server import ON_TOPIC, story_server

Cli = Callable[..., CliResult]
CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"
TAGS = "/api/v1/timelines/tag/"


def local_config(tmp_path: Path, base: str, *sources: str, timeout: str = "30s") -> Path:
    config = tomllib.loads(CONFIG.read_text())
    for source in config["sources"].values():
        source["enabled"] = False
    if "mastodon" in sources:
        config["sources"]["mastodon"].update(
            enabled=True, instances=[base], hashtags=[], timeout=timeout
        )
    if "reddit" in sources:
        config["sources"]["reddit"].update(
            enabled=True, base_url=base, oauth_url=base, subreddits=[], timeout=timeout
        )
    if "bluesky" in sources:
        config["sources"]["bluesky"].update(enabled=True, base_url=base, timeout=timeout)
    path = tmp_path / "claimwatch.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def rows(db: Path, query: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def stored(db: Path, source: str) -> list[tuple[object, ...]]:
    return rows(
        db, f"SELECT count(*), count(DISTINCT post_uid) FROM posts WHERE source = '{source}'"
    )


def test_a_429_with_retry_after_is_waited_out(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    with story_server({TAGS: ["429"]}) as (base, requests):
        result = cli("--config", str(local_config(tmp_path, base, "mastodon")), "collect")
    assert result.code == 0
    assert stored(db_path, "mastodon") == [(len(ON_TOPIC), len(ON_TOPIC))]
    assert requests[0] == requests[1]  # the same page, asked again after Retry-After
    assert rows(db_path, "SELECT status, error, rate_limit->>'retries' FROM collector_runs") == [
        ("ok", "recovered: 1 request(s) retried", "1")
    ]


def test_server_errors_then_success(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    with story_server({"/search.json": ["500", "500"]}) as (base, _):
        result = cli("--config", str(local_config(tmp_path, base, "reddit")), "collect")
    assert result.code == 0
    assert stored(db_path, "reddit") == [(2, 2)]


def test_a_timeout_is_retried(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    with story_server({TAGS: ["slow"]}) as (base, requests):
        config = local_config(tmp_path, base, "mastodon", timeout="1s")
        result = cli("--config", str(config), "collect")
    assert result.code == 0
    assert requests[0] == requests[1]  # timed out after 1 s, asked again
    assert stored(db_path, "mastodon") == [(len(ON_TOPIC), len(ON_TOPIC))]


def test_an_expired_bluesky_token_is_refreshed(
    cli: Cli, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUESKY_HANDLE", "reader.example")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-password-1234")
    with story_server({"/xrpc/app.bsky.feed.searchPosts": ["ok", "expired"]}) as (base, requests):
        result = cli("--config", str(local_config(tmp_path, base, "bluesky")), "collect")
    assert result.code == 0
    assert "/xrpc/com.atproto.server.refreshSession" in requests
    assert stored(db_path, "bluesky") == [(3, 3)]


def test_the_same_post_on_two_pages_is_stored_once(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    with story_server(overlap=True) as (base, _):
        result = cli("--config", str(local_config(tmp_path, base, "mastodon")), "collect")
    assert result.code == 0
    assert stored(db_path, "mastodon") == [(len(ON_TOPIC), len(ON_TOPIC))]
    fetched = rows(db_path, "SELECT fetched FROM collector_runs")[0][0]
    assert int(str(fetched)) > 6 * 3  # three hashtags, each paging over the repeated posts


def test_missing_credentials_are_reported_once_not_as_a_crash(
    cli: Cli, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BLUESKY_HANDLE", raising=False)
    monkeypatch.delenv("BLUESKY_APP_PASSWORD", raising=False)
    with story_server() as (base, requests):
        result = cli("--config", str(local_config(tmp_path, base, "bluesky")), "collect")
    assert result.code == 0 and requests == []
    assert rows(db_path, "SELECT source, status, error FROM collector_runs") == [
        ("bluesky", "not_configured", "not configured: set BLUESKY_HANDLE, BLUESKY_APP_PASSWORD")
    ]


def test_a_truncated_page_is_quarantined_and_the_other_streams_go_on(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    with story_server({TAGS: ["truncated"]}) as (base, _):
        result = cli("--config", str(local_config(tmp_path, base, "mastodon")), "collect")
    assert result.code == 0
    assert stored(db_path, "mastodon") == [(len(ON_TOPIC), len(ON_TOPIC))]  # other hashtags
    assert rows(db_path, "SELECT source, left(payload, 12) FROM store.quarantine") == [
        ("mastodon", '[{"id": "1",')
    ]
    status, error = rows(db_path, "SELECT status, error FROM collector_runs")[0]
    assert status == "partial" and "could not be read" in str(error)


def test_html_where_json_was_expected_is_quarantined(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    with story_server({"/search.json": ["html"] * 20}) as (base, _):
        result = cli("--config", str(local_config(tmp_path, base, "reddit")), "collect")
    assert result.code == 0
    assert rows(db_path, "SELECT count(*) > 0 FROM store.quarantine WHERE source = 'reddit'") == [
        (True,)
    ]
    assert rows(db_path, "SELECT status FROM collector_runs") == [("partial",)]


def test_a_collector_killed_between_two_pages_loses_and_repeats_nothing(
    cli: Cli, db_path: Path, tmp_path: Path
) -> None:
    with story_server({TAGS: ["ok", "hang"]}) as (base, requests):
        config = local_config(tmp_path, base, "mastodon")
        args = ["--db", str(db_path), "--config", str(config), "collect"]
        victim = subprocess.Popen(
            [sys.executable, "-m", "claimwatch.cli", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(requests) >= 2, "the collector never asked for its second page"
        time.sleep(0.5)  # the first page's batch is committed before the second is asked for
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        first = stored(db_path, "mastodon")
        assert first == [(1, 1)]  # the first page's one post on topic, once
        cursors = rows(db_path, "SELECT cursor FROM store.cursors WHERE source = 'mastodon'")
        assert cursors == [(None,)]  # mid-backfill: the next run starts the backfill again
        assert cli("--config", str(config), "collect").code == 0
    assert stored(db_path, "mastodon") == [(len(ON_TOPIC), len(ON_TOPIC))]
