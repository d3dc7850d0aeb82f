"""A warehouse for the dashboard's tests: the story's real posts, analysed by the real engine, and
ten posts of the day after with their mentions seeded by hand, so every number is known.

The story (tests/fixtures/seed_posts.jsonl, analysed): ice-offices-canada has 4 mentions (variant 4
by CarrieCnh12 on Jan 27, 5 by CheriDiNovo on Jan 28, none by HMcPherson on Jan 29, 5 correcting by
dailyhive on Jan 30, a community correction); ice-armed-operations-canada has 2 (no value, both
correcting, Jan 30: usembassyottawa, authority, and dailyhive, community).

The day after (T = 2026-01-31 12:00 UTC, 07:00 in Toronto), ice-offices-canada:

    post           source     author   at      variant  stance     links, counts
    mastodon:s1    mastodon   m1       T       4        asserts    100 followers
    mastodon:s2    mastodon   m2       T+30m   4        asserts    reply to s1; 10 follow., 2 likes
    reddit:s3      reddit     r1       T+1h    4        asserts    repost of s1; 5 likes
    bluesky:s4     bluesky    b1       T+1h10  5        asserts    7 likes
    factcheck:s10  factcheck  afp      T+1h30  5        corrects   a factcheck correction
    mastodon:s5    mastodon   m1       T+2h    5        asserts    quote of s4
    bluesky:s6     bluesky    b2       T+2h    4        asserts    same text as s1: its copy
    x:s7           x          x1       T+3h    (none)   questions
    mastodon:s8    mastodon   HOSTILE  T+3h    4        asserts    HTML and Markdown in text, url
    x:g1           x          g1       T+3h30  4        asserts    provenance: generated

So ice-offices-canada: 14 posts (variant 4: 7, 5: 5, none: 2), 13 authors; in the 24 hours before
the demo clock (T+4h): 11 posts, 10 authors (dailyhive's correction, at noon on Jan 30 in
Toronto as `claimwatch import` reads a date, among them). A demo scheduler beats with its clock
at T+4h.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from claims.job import analyze_warehouse
from claimwatch.importer import import_file
from claimwatch.records import detect_format
from config import load_config
from warehouse import Batch, Warehouse
from warehouse.analysis import link_copies

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "claimwatch.toml"
SEED = ROOT / "tests" / "fixtures" / "seed_posts.jsonl"
T = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CLAIM = "ice-offices-canada"
OTHER = "ice-armed-operations-canada"
HOSTILE_TEXT = (
    "<script>alert('x')</script> **bold** [link](javascript:alert(1)) "
    "there are 4 ICE stations in Canada <b>really</b>"
)
HOSTILE_AUTHOR = "evil_[me](javascript:alert(2))"
S1_TEXT = "There are 4 ICE stations in Canada, wake up"


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


# (source, id, author, minutes after T, variant, stance, text, extra columns)
DAY_AFTER: list[tuple[str, str, str, float, str | None, str, str, dict[str, Any]]] = [
    ("mastodon", "s1", "m1", 0, "4", "asserts", S1_TEXT, {"author_followers": 100}),
    (
        "mastodon",
        "s2",
        "m2",
        30,
        "4",
        "asserts",
        "@m1 yes 4 ICE stations, I read it too",
        {"author_followers": 10, "likes": 2, "kind": "reply", "parent_uid": "mastodon:s1"},
    ),
    (
        "reddit",
        "s3",
        "r1",
        60,
        "4",
        "asserts",
        "crosspost: 4 ICE stations in Canada",
        {"likes": 5, "kind": "repost", "parent_uid": "mastodon:s1"},
    ),
    ("bluesky", "s4", "b1", 70, "5", "asserts", "Five ICE stations across Canada", {"likes": 7}),
    (
        "factcheck",
        "s10",
        "afp",
        90,
        "5",
        "corrects",
        "Fact check: the five offices are HSI, at the embassy and four consulates",
        {"kind": "factcheck"},
    ),
    (
        "mastodon",
        "s5",
        "m1",
        120,
        "5",
        "asserts",
        "so it's 5 ICE stations now",
        {"kind": "quote", "parent_uid": "bluesky:s4"},
    ),
    ("bluesky", "s6", "b2", 120, "4", "asserts", S1_TEXT, {}),
    ("x", "s7", "x1", 180, None, "questions", "Are there ICE stations in Canada?", {}),
    (
        "mastodon",
        "s8",
        HOSTILE_AUTHOR,
        180,
        "4",
        "asserts",
        HOSTILE_TEXT,
        {"url": "javascript:alert(3)"},
    ),
    ("x", "g1", "g1", 210, "4", "asserts", "4 ICE stations in Canada, generated", {}),
]


def build(path: Path) -> Warehouse:
    """The warehouse described above, at `path`."""
    config = load_config(CONFIG)
    warehouse = Warehouse(path, lock_timeout=5, read_timeout=10)
    import_file(SEED, warehouse, detect_format(SEED, None))
    analyze_warehouse(warehouse, config)
    _write_day_after(warehouse)
    _seed_operations(warehouse)
    return warehouse


def _write_day_after(warehouse: Warehouse) -> None:
    write_posts(warehouse, DAY_AFTER)
    with warehouse.writing() as con:
        con.execute(
            "INSERT INTO store.corrections VALUES ('factcheck:s10', ?, '5', 'factcheck', 'v1',"
            " now())",
            [CLAIM],
        )
        con.execute(
            "INSERT INTO store.post_provenance VALUES ('x:g1', 'generated', 'demo traffic', now())"
        )


Row = tuple[str, str, str, float, str | None, str, str, dict[str, Any]]


def write_posts(warehouse: Warehouse, posts: list[Row]) -> None:
    """Posts of the day after, with their mentions of ice-offices-canada stored as the analysis
    stores them (copies linked, a row of collector_runs for the run)."""
    names = ("source", "source_id", "created_at", "text", "author_handle", "author_followers")
    names += ("likes", "kind", "parent_uid", "url", "collected_at")
    rows: list[dict[str, Any]] = []
    for source, sid, author, minutes, _, _, text, extra in posts:
        rows.append(
            {
                "source": source,
                "source_id": sid,
                "created_at": at(minutes),
                "collected_at": at(minutes + 5),
                "text": text,
                "author_handle": author,
                "kind": "post",
                "url": f"https://example.org/{source}/{sid}",
            }
            | extra
        )
    types = {n: pa.timestamp("us", "UTC") for n in ("created_at", "collected_at")}
    types |= {n: pa.int64() for n in ("author_followers", "likes")}
    columns = {n: pa.array([row.get(n) for row in rows], types.get(n, pa.string())) for n in names}
    warehouse.write(Batch(posts=pa.table(columns)))
    stamp = datetime.now(UTC)
    with warehouse.writing() as con:
        for source, sid, _, _, variant, stance, _, extra in posts:
            uid = f"{source}:{sid}"
            origin = extra.get("parent_uid") if extra.get("kind") == "repost" else None
            con.execute(
                "INSERT INTO store.claim_mentions (post_uid, claim_id, variant, stance,"
                " matched_text, span_start, span_end, claim_version, analyzed_at, origin_uid,"
                " content_hash, created_at)"
                " SELECT ?, ?, ?, ?, ?, 0, 5, 'v1', ?, ?, content_hash, created_at"
                " FROM store.posts WHERE post_uid = ?",
                [uid, CLAIM, variant, stance, f"words of {sid}", stamp, origin, uid],
            )
        link_copies(con, stamp)
        # as an analysis run records itself, in the same transaction as its mentions
        con.execute(
            "INSERT INTO store.collector_runs (run_id, source, started_at, finished_at, status,"
            " fetched, new) VALUES (?, 'analysis', ?, ?, 'ok', ?, ?)",
            [f"analysis-seed-{stamp.timestamp()}", stamp, stamp, len(posts), len(posts)],
        )


def _seed_operations(warehouse: Warehouse) -> None:
    """What the scheduler would have written: two collectors' runs, their jobs, a demo beat."""
    wall = datetime.now(UTC)
    with warehouse.writing() as con:
        con.execute(
            "INSERT INTO store.collector_runs VALUES"
            " ('run-m1', 'mastodon', 'ice-canada', ?, ?, 'ok', 50, 10, NULL,"
            '  \'{"limit": 300, "remaining": 290, "requests": 3}\'),'
            " ('run-r1', 'reddit', 'ice-canada', ?, ?, 'ok', 20, 5, NULL, NULL),"
            " ('run-r2', 'reddit', 'ice-canada', ?, ?, 'failed', 0, 0,"
            "  'HTTP 503 from www.reddit.com after 3 retries', NULL)",
            [at(200), at(201), at(100), at(101), at(220), at(221)],
        )
        con.execute(
            "INSERT INTO store.scheduler_jobs VALUES"
            " ('collect:mastodon:ice-canada', 'collect', 'mastodon', 'ice-canada', 900, 900,"
            "  ?, ?, 'ok', NULL, 0, 'demo-1', ?),"
            " ('collect:reddit:ice-canada', 'collect', 'reddit', 'ice-canada', 3600, 900,"
            "  ?, ?, 'failed', 'HTTP 503 from www.reddit.com after 3 retries', 3, 'demo-1', ?)",
            [
                wall + timedelta(minutes=10),
                wall,
                wall,
                wall + timedelta(minutes=55),
                wall,
                wall,
            ],
        )
        con.execute(
            "INSERT INTO store.heartbeats VALUES ('demo-1', 4242, 'testhost', 'demo', ?, ?, ?,"
            " NULL)",
            [wall - timedelta(minutes=5), wall, at(240)],
        )


def stop_scheduler(warehouse: Warehouse) -> None:
    with warehouse.writing() as con:
        con.execute("UPDATE store.heartbeats SET stopped_at = beat_at")


def beat(warehouse: Warehouse) -> None:
    """The demo scheduler says it is alive now, its clock at T+4h."""
    with warehouse.writing() as con:
        con.execute(
            "UPDATE store.heartbeats SET beat_at = ?, clock_at = ?, stopped_at = NULL",
            [datetime.now(UTC), at(240)],
        )


APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def app_on(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The dashboard (not yet run) on `warehouse` with the test config, a scheduler beating;
    Streamlit's caches cleared before and after (for a fixture: `yield from app_on(...)`)."""
    monkeypatch.setenv("CLAIMWATCH_DB", str(warehouse.path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    beat(warehouse)
    st.cache_data.clear()
    yield AppTest.from_file(str(APP), default_timeout=60)
    st.cache_data.clear()


def vega_charts(at: AppTest) -> list[tuple[dict[str, Any], list[pa.Table]]]:
    """Every Vega-Lite chart of the page: its spec and its datasets."""
    found = []
    for chart in at.get("vega_lite_chart"):
        proto: Any = chart.proto
        tables = [pa.ipc.open_stream(d.data.data).read_all() for d in proto.datasets]
        found.append((json.loads(proto.spec), tables))
    return found
