"""`claimwatch demo`: the story, the local server speaking each source's API, and the whole run.

Every collector is run, unchanged, against the demo's server over a real socket, at two simulated
times: each run must store exactly the posts the server holds for the topic at that time (none
from the future, none missed by its paging) and count each post as new once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from claimwatch.demo.run import (
    DemoOptions,
    default_speed,
    fresh_paths,
    load_demo_config,
    record_provenance,
    run_demo,
    write_demo_config,
)
from claimwatch.demo.server import DemoServer
from claimwatch.demo.traffic import END, START, Story, StoryPost, build_story, matches, search_words
from collectors.base import Collector
from collectors.collect import collect
from collectors.gdelt import GdeltCollector
from collectors.hackernews import HackerNewsCollector
from collectors.http import SourceHttp
from collectors.matching import TOPICS, match_topics
from collectors.runner import RunSummary, query_of, run_collector
from config import Config, load_config
from warehouse import Warehouse

CONFIG = Path(__file__).resolve().parents[1] / "config" / "claimwatch.toml"
TOPIC = "ice-canada"
T1 = datetime(2026, 1, 28, 22, 0, tzinfo=UTC)  # the "5" post spreading
T2 = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # after the correction and its HN thread


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def story() -> Story:
    return build_story(2026)


def test_story_is_deterministic_and_every_post_is_marked(story: Story) -> None:
    again = build_story(2026)
    assert [p.post_uid for p in again.posts] == [p.post_uid for p in story.posts]
    assert [p.text for p in again.posts] == [p.text for p in story.posts]
    assert [p.post_uid for p in build_story(7).posts] != [p.post_uid for p in story.posts]

    uids = [p.post_uid for p in story.posts]
    assert len(set(uids)) == len(uids)
    counts = story.counts()
    assert counts["real"] == 5 and counts["real:x"] == 4 and counts["real:news"] == 1
    assert counts["generated"] > 600
    for platform in ("x", "mastodon", "bluesky", "reddit", "news", "gdelt", "hackernews"):
        assert counts[f"generated:{platform}"] > 0, platform
    assert all(START <= p.created_at <= END for p in story.posts)
    real = [p for p in story.posts if p.provenance == "real"]
    assert {p.author.handle for p in real} == {
        "CarrieCnh12",
        "CheriDiNovo",
        "HMcPhersonNDP",
        "usembassyottawa",
        "dailyhive.com",
    }
    assert all(p.note.startswith("real: ") for p in real)
    embassy = next(p for p in real if p.author.handle == "usembassyottawa")
    assert embassy.created_at == datetime(2026, 1, 30, 17, tzinfo=UTC)  # noon in Toronto
    assert embassy.post_uid.startswith("x:") and embassy.native_id.isdigit()
    # the "5" spreads most on X through retweets of the real post
    five = next(p for p in real if p.author.handle == "CheriDiNovo")
    retweets = [p for p in story.posts if p.parent is five and p.kind == "repost"]
    assert len(retweets) > 80
    # and slows after the correction: fewer retweets of it in the day after than the day before
    before = sum(T2 - timedelta(days=1, hours=18) <= p.created_at < T2 - timedelta(hours=18)
                 for p in retweets)  # fmt: skip
    after = sum(
        T2 - timedelta(hours=18) <= p.created_at < T2 + timedelta(hours=6) for p in retweets
    )
    assert after < before / 2


def test_story_texts_give_the_variants_stances_and_corrections(story: Story) -> None:
    from claims.engine import analyze_posts

    config = load_config(CONFIG)
    posts = pl.DataFrame(
        [
            {
                "post_uid": p.post_uid,
                "source": p.platform,
                "author_handle": p.author.handle,
                "text": p.text,
                "title": p.title,
            }
            for p in story.posts
        ]
    )
    analysis = analyze_posts(posts, config)
    mentions = analysis.mentions.filter(pl.col("claim_id") == "ice-offices-canada")
    by_variant = dict(mentions.group_by("variant").len().iter_rows())
    assert by_variant["5"] > 400 and 30 < by_variant["4"] < by_variant["5"] / 4
    stances = dict(mentions.group_by("stance").len().iter_rows())
    assert stances["questions"] > 50 and stances["denies"] > 30 and stances["corrects"] > 50
    kinds = dict(analysis.corrections.group_by("kind").len().iter_rows())
    assert kinds["authority"] == 1 and kinds["community"] > 100
    french = posts.filter(pl.col("text").str.contains("(?i)cinq|quatre"))
    assert french.height > 30


# --- each protocol against the server -----------------------------------------------------------


def _expected(story: Story, config: Config, platform: str, now: datetime) -> set[str]:
    """The story's posts on `platform` that the server shows at `now` for the topic's searches
    and hashtags, and that the topic matches: what a collector must store."""
    topic = config.topics[TOPIC]
    query = query_of(TOPIC, topic)
    searches = [search_words(q) for q in query.all_queries()]
    if platform in ("mastodon", "bluesky"):
        tags = [
            *query.hashtags,
            *(config.sources.mastodon.hashtags if platform == "mastodon" else []),
        ]
        searches += [search_words(f"#{tag}") for tag in tags]
    found = [
        p
        for p in story.on(platform)  # type: ignore[arg-type]
        if p.created_at <= now and any(matches(p, s) for s in searches) and _in_window(p, now)
    ]
    # what a page carries besides its hits: X's referenced posts, the posts a quote embeds
    found += [
        p.parent for p in found if p.parent is not None and (platform == "x" or p.kind == "quote")
    ]
    if not found:
        return set()
    frame = pl.DataFrame(
        [{"uid": p.post_uid, "text": p.text, "title": p.title, "lang": p.lang} for p in found]
    )
    matched = match_topics(frame, {TOPIC: topic}).filter(pl.col(TOPICS).list.len() > 0)
    return set(matched["uid"])


def _in_window(post: StoryPost, now: datetime) -> bool:
    windows = {"x": 7, "reddit": 7, "news": 7}
    days = windows.get(post.platform)
    return days is None or post.created_at >= now - timedelta(days=days)


def _stored(warehouse: Warehouse, source: str) -> set[str]:
    with warehouse.reading() as con:
        rows = con.execute("SELECT post_uid FROM posts WHERE source = ?", [source]).fetchall()
    return {uid for (uid,) in rows}


def _demo_config(tmp_path: Path, url: str) -> Config:
    folder = fresh_paths(tmp_path / "demo.duckdb")
    return load_demo_config(write_demo_config(CONFIG, url, folder, interval_s=1.0))


def test_the_demos_links_point_at_its_own_dashboard_never_the_users(tmp_path: Path) -> None:
    users = tmp_path / "claimwatch.toml"
    users.write_text(
        CONFIG.read_text(encoding="utf-8").replace(
            '# public_url = "https://claimwatch.example.org"',
            'public_url = "https://claims.example.org/watch"',
        ),
        encoding="utf-8",
    )
    assert "claims.example.org" in load_config(users, env={}).dashboard.link_base
    folder = fresh_paths(tmp_path / "demo.duckdb")
    options = DemoOptions(db=tmp_path / "demo.duckdb", config=users, port=8642)
    written = write_demo_config(users, "http://127.0.0.1:1", folder, 1.0, options)
    assert load_demo_config(written).dashboard.link_base == "http://127.0.0.1:8642"


async def _run_direct(
    collector: Collector, config: Config, warehouse: Warehouse
) -> list[RunSummary]:
    async with httpx.AsyncClient(timeout=10) as client:
        http = SourceHttp(client, collector.source)
        return [await run_collector(collector, TOPIC, config.topics[TOPIC], warehouse, http)]


def _collect(
    source: str, config: Config, warehouse: Warehouse, url: str, clock: FixedClock
) -> list[RunSummary]:
    if source == "gdelt":  # the registry builds these with the wall clock: give them the story's
        gdelt = GdeltCollector(url, max_pages=20, lookback=timedelta(days=6), now=clock.now)
        return asyncio.run(_run_direct(gdelt, config, warehouse))
    if source == "hackernews":
        hn = HackerNewsCollector(url, max_pages=3, clock=lambda: clock.now().timestamp())
        return asyncio.run(_run_direct(hn, config, warehouse))
    return asyncio.run(collect(config, warehouse, [source], [TOPIC]))


@pytest.mark.parametrize(
    "source", ["mastodon", "reddit", "news", "gdelt", "hackernews", "bluesky", "x"]
)
def test_each_collector_gets_what_is_visible_at_that_time_and_none_twice(
    source: str, story: Story, tmp_path: Path
) -> None:
    clock = FixedClock(T1)
    warehouse = Warehouse(tmp_path / "demo.duckdb", lock_timeout=5, read_timeout=5)
    with DemoServer(story, clock) as server:
        config = _demo_config(tmp_path, server.url)
        first = _collect(source, config, warehouse, server.url, clock)
        stored_first = _stored(warehouse, source)
        clock.at = T2
        second = _collect(source, config, warehouse, server.url, clock)
        stored_second = _stored(warehouse, source)
        requests = len(server.log.paths)

    assert [r.status for r in first + second] == ["ok"] * len(first + second), [
        r.error for r in first + second
    ]
    expected_first = _expected(story, config, source, T1)
    expected_second = _expected(story, config, source, T2) | expected_first
    assert stored_first == expected_first
    assert stored_second == expected_second
    assert len(stored_second) >= 3 and len(stored_second) > len(stored_first)
    # every post counted new once: the second run re-read its overlap without storing it again
    assert sum(r.new for r in first) == len(stored_first)
    assert sum(r.new for r in second) == len(stored_second) - len(stored_first)
    visible_at_t1 = {p.post_uid for p in story.on(source) if p.created_at <= T1}  # type: ignore[arg-type]
    assert stored_first <= visible_at_t1
    assert requests >= 2


def test_a_collection_on_the_demos_clock_is_stamped_with_its_time(
    story: Story, tmp_path: Path
) -> None:
    """The posts' collected_at and the run's times come from the scheduler's clock, so that the
    demo's Sources chart by collection time shows the story's days, not the minute it ran."""
    clock = FixedClock(T1)
    warehouse = Warehouse(tmp_path / "demo.duckdb", lock_timeout=5, read_timeout=5)
    with DemoServer(story, clock) as server:
        config = _demo_config(tmp_path, server.url)
        asyncio.run(collect(config, warehouse, ["mastodon"], [TOPIC], now=clock.now))
    with warehouse.reading() as con:
        posts = con.execute("SELECT DISTINCT collected_at FROM posts").fetchall()
        runs = con.execute(
            "SELECT DISTINCT started_at, finished_at FROM collector_runs WHERE source = 'mastodon'"
        ).fetchall()
    assert posts == [(T1,)]
    assert runs == [(T1, T1)]


def test_bluesky_search_needs_the_session_token(story: Story) -> None:
    with DemoServer(story, FixedClock(T2)) as server:
        search = f"{server.url}/xrpc/app.bsky.feed.searchPosts?q=ICE+Canada"
        refused = httpx.get(search)
        session = httpx.post(
            f"{server.url}/xrpc/com.atproto.server.createSession",
            json={"identifier": "demo-reader.bsky.example", "password": "x"},
        ).json()
        answer = httpx.get(search, headers={"Authorization": f"Bearer {session['accessJwt']}"})
    assert refused.status_code == 401 and refused.json()["error"] == "AuthMissing"
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["posts"]) == 25 and body["cursor"] == "25" and body["hitsTotal"] > 25
    assert int(answer.headers["ratelimit-remaining"]) == 2999  # one search answered
    assert answer.headers["ratelimit-policy"] == "3000;w=300"


def test_provenance_rows_cover_every_post_served(story: Story, tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "p.duckdb", lock_timeout=5, read_timeout=5)
    assert record_provenance(warehouse, story) == len(story.posts)
    assert record_provenance(warehouse, story) == len(story.posts)  # again: replaced, not doubled
    with warehouse.reading() as con:
        rows = dict(
            con.execute("SELECT provenance, count(*) FROM post_provenance GROUP BY ALL").fetchall()
        )
    assert rows == {"real": 5, "generated": len(story.posts) - 5}


def test_the_demo_refuses_the_main_warehouse(tmp_path: Path) -> None:
    main = tmp_path / "claimwatch.duckdb"
    main.write_bytes(b"precious")
    with pytest.raises(ValueError, match="main warehouse"):
        fresh_paths(main, main_db=main)
    assert main.read_bytes() == b"precious"


# --- the whole demo -------------------------------------------------------------------------------


DAY_30 = (datetime(2026, 1, 30, 5, tzinfo=UTC), datetime(2026, 1, 31, 5, tzinfo=UTC))  # Toronto
DAY_29 = (datetime(2026, 1, 29, 5, tzinfo=UTC), DAY_30[0])


@pytest.mark.parametrize("speed", [default_speed(), 25_000.0], ids=["default-speed", "25000x"])
def test_the_demo_plays_the_story_to_its_end_and_its_digest_of_the_30th_is_right_as_written(
    tmp_path: Path, speed: float
) -> None:
    db = tmp_path / "demo.duckdb"
    db.write_bytes(b"an old demo file, to be replaced")
    said: list[str] = []
    summary = run_demo(
        DemoOptions(
            db=db, config=CONFIG, speed=speed, dashboard=False, exit_when_done=True, timeout_s=1200
        ),
        say=said.append,
    )
    assert summary.done, said[-5:]
    assert summary.clock_at == END  # the clock stopped at the end of the story, 08:00 Toronto
    # a digest for each day, none skipped, none of the empty days after the story
    assert summary.digests == [date(2026, 1, day) for day in range(25, 31)]
    assert summary.variants["ice-offices-canada:5"] > 200
    assert 30 < summary.variants["ice-offices-canada:4"] < summary.variants["ice-offices-canada:5"]
    assert summary.corrections["authority"] == 1 and summary.corrections["community"] > 50
    assert summary.posts["real"] == 5 and summary.posts["generated"] > 400
    assert "unmarked" not in summary.posts  # every stored post is marked real or generated

    warehouse = Warehouse(db, lock_timeout=5, read_timeout=5)
    with warehouse.reading(sandboxed=False) as con:
        versions = con.execute(
            "SELECT day, version, markdown_path FROM digest_versions ORDER BY day, version"
        ).fetchall()
        day_posts, day_before = (
            one(con, "SELECT count(DISTINCT post_uid) FROM claim_mentions" + WITHIN, *bounds)
            for bounds in (DAY_30, DAY_29)
        )
        claim_posts = dict(
            con.execute(
                "SELECT claim_id, count(DISTINCT post_uid) FROM claim_mentions"
                + WITHIN
                + " GROUP BY ALL",
                list(DAY_30),
            ).fetchall()
        )
        corrections = con.execute(
            "SELECT claim_id, kind, count(*) FROM corrections" + WITHIN + " GROUP BY ALL",
            list(DAY_30),
        ).fetchall()
    # each digest written once, when its day was complete: none needed a revision
    assert [version for _, version, _ in versions] == [1] * 6
    written = {day: Path(path).read_text(encoding="utf-8") for day, _, path in versions}
    markdown = written[date(2026, 1, 30)]
    assert "authority by U.S. Embassy Ottawa (@usembassyottawa) on x" in markdown
    assert "an ICE spokesperson confirmed that Homeland Security Investigations" in markdown
    # its numbers are those of SQL over the views for that day
    assert f"{day_posts:,} posts mentioned its claims ({day_before:,} the day before" in markdown
    assert claim_posts["ice-offices-canada"] > 100 and claim_posts["ice-armed-operations-canada"]
    for claim_id, posts in claim_posts.items():
        assert f"{posts:,} posts (" in _section(markdown, claim_id), claim_id
    for claim_id in claim_posts:
        counts = {kind: n for cid, kind, n in corrections if cid == claim_id}
        kinds = ", ".join(f"{counts[k]} {k}" for k in KINDS if k in counts)
        line = f"Corrections published on this day: {sum(counts.values())} ({kinds})"
        assert line in _section(markdown, claim_id), claim_id
    # the day before, as this digest counts it, is what the digest of that day said
    assert f"{day_before:,} posts mentioned its claims" in written[date(2026, 1, 29)]


WITHIN = " WHERE created_at >= ? AND created_at < ?"
KINDS = ("authority", "factcheck", "community")


def one(con: duckdb.DuckDBPyConnection, query: str, *params: object) -> int:
    row = con.execute(query, list(params)).fetchone()
    assert row is not None
    return int(row[0])


def _section(markdown: str, claim_id: str) -> str:
    """The part of a digest about one claim: from its heading to the next."""
    titles = {
        "ice-offices-canada": '### How many ICE/HSI offices ("stations") there are in Canada',
        "ice-armed-operations-canada": "### ICE agents in Canada are armed or make arrests",
    }
    start = markdown.index(titles[claim_id])
    end = markdown.find("\n### ", start + 1)
    return markdown[start : end if end > 0 else None]
