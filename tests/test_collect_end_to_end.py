"""`claimwatch collect` against a local server speaking Mastodon and Reddit: checked row by row."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import tomli_w
from conftest import CliResult
from story_server import ON_TOPIC, story_server

Cli = Callable[..., CliResult]
CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """The shipped config with Mastodon, Reddit, Bluesky and news on the local server, the rest
    off."""
    monkeypatch.setenv("BLUESKY_HANDLE", "reader.example")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-password-1234")
    config = tomllib.loads(CONFIG.read_text())
    with story_server() as (base, requests):
        for source in config["sources"].values():
            source["enabled"] = False
        config["sources"]["mastodon"].update(enabled=True, instances=[base], hashtags=[])
        config["sources"]["reddit"].update(
            enabled=True, base_url=base, oauth_url=base, subreddits=["canada"]
        )
        config["sources"]["bluesky"].update(enabled=True, base_url=base)
        config["sources"]["news"].update(
            enabled=True, base_url=base, google_news_editions=["en-CA"], feeds=[]
        )
        path = tmp_path / "claimwatch.toml"
        path.write_text(tomli_w.dumps(config))
        yield path, requests


def rows(db: Path, query: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def test_a_pass_stores_exactly_the_on_topic_posts_once(
    cli: Cli, db_path: Path, local: tuple[Path, list[str]]
) -> None:
    config, requests = local
    result = cli("--config", str(config), "collect")
    assert result.code == 0, result.out + result.err
    texts = rows(db_path, "SELECT source, text FROM posts ORDER BY source, created_at")
    assert texts == [
        *(("bluesky", t) for t in ON_TOPIC[:3]),
        *(("mastodon", t) for t in ON_TOPIC),
        *(("news", t) for t in ON_TOPIC[1:3]),
        *(("reddit", t) for t in ON_TOPIC[:2]),
    ]
    assert rows(db_path, "SELECT count(*), count(DISTINCT post_uid) FROM post_topics") == [(11, 11)]
    assert any("max_id=" in r for r in requests)  # Mastodon paged through the Link header


def test_runs_and_cursors_are_recorded_and_a_second_pass_adds_nothing(
    cli: Cli, db_path: Path, local: tuple[Path, list[str]]
) -> None:
    config, _ = local
    cli("--config", str(config), "collect")
    again = cli("--config", str(config), "collect")
    assert again.code == 0
    assert rows(db_path, "SELECT count(*) FROM posts") == [(11,)]
    runs = "SELECT source, status, count(*), sum(new) FROM collector_runs GROUP BY ALL ORDER BY 1"
    assert rows(db_path, runs) == [
        ("bluesky", "ok", 2, 3),
        ("mastodon", "ok", 2, 4),
        ("news", "ok", 2, 2),
        ("reddit", "ok", 2, 2),
    ]
    assert rows(db_path, "SELECT count(*) > 0 FROM store.cursors WHERE source = 'mastodon'") == [
        (True,)
    ]


def test_fields_arrive_as_the_post_contract_says(
    cli: Cli, db_path: Path, local: tuple[Path, list[str]]
) -> None:
    config, _ = local
    cli("--config", str(config), "collect")
    mastodon = rows(
        db_path,
        "SELECT post_uid, kind, lang, likes, created_at::VARCHAR, url FROM posts"
        " WHERE source = 'mastodon' ORDER BY created_at LIMIT 1",
    )
    assert mastodon == [
        (
            "mastodon:https://story.example/users/story/statuses/1000",
            "post",
            "en",
            0,
            "2026-01-27 15:00:00+00",
            "https://story.example/@story/1000",
        )
    ]
    reddit = rows(
        db_path,
        "SELECT post_uid, kind, likes, url, raw->>'$.subreddit' FROM posts"
        " WHERE source = 'reddit' ORDER BY created_at LIMIT 1",
    )
    assert reddit[0][:4] == (
        "reddit:t3_s0",
        "post",
        0,
        "https://www.reddit.com/r/canada/comments/s0/story/",
    )
    bluesky = rows(
        db_path,
        "SELECT post_uid, url, author_id FROM posts WHERE source = 'bluesky'"
        " ORDER BY created_at LIMIT 1",
    )
    assert bluesky == [
        (
            "bluesky:at://did:plc:story/app.bsky.feed.post/rk0",
            "https://bsky.app/profile/test.marshal.dev/post/rk0",
            "did:plc:kvwvcn5iqfooopmyzvb4qzba",
        )
    ]
    terms = rows(
        db_path,
        "SELECT matched_terms FROM post_topics t JOIN posts USING (post_uid)"
        " WHERE posts.text LIKE 'BREAKING%' AND source = 'mastodon'",
    )
    assert terms and "phrase:ICE stations Canada" in terms[0][0]  # type: ignore[operator]
