"""The dashboard, page by page, with Streamlit's AppTest over the story's warehouse
(tests/dashboard_story.py gives every number asserted here), plus the queries checked against the
views they stand for."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import polars as pl
import pytest
import streamlit as st
from dashboard_story import (
    CLAIM,
    CONFIG,
    HOSTILE_AUTHOR,
    HOSTILE_TEXT,
    OTHER,
    app_on,
    beat,
    build,
    stop_scheduler,
    vega_charts,
    write_posts,
)
from streamlit.testing.v1 import AppTest

from config import Quantity, load_config
from dashboard.charts import per_source_chart
from dashboard.common import verified_written
from dashboard.data.claim import summary_of
from dashboard.data.overview import leading_variants
from dashboard.data.posts import posts_page
from dashboard.data.shared import (
    NO_VARIANT,
    FactsCache,
    PostQuery,
    Scope,
    bucket_bounds,
    load_facts,
    reference_now,
    spread_of,
    variant_stats,
    variant_stats_of,
)
from dashboard.launch import streamlit_command, wait_until_serving
from digest.publish import write_digest
from warehouse import Warehouse

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
TZ = "America/Toronto"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build(tmp_path_factory.mktemp("dashboard") / "claimwatch.duckdb")


@pytest.fixture
def app(story: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    yield from app_on(story, monkeypatch)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# each table of the pages, by the columns it starts with
TABLES = {
    "overview_table": ("claim_id", "posts", "posts_24h"),
    "claim_variants": ("variant", "posts_24h", "posts"),
    "variants_table": ("variant", "verified"),
    "corrections_table": ("created_at", "author_handle", "kind"),
    "point_posts": ("created_at", "source", "author_handle", "stance"),
    "posts_table": ("created_at", "text", "source", "author_handle", "kind", "variant"),
    "first_table": ("source", "first_seen"),
    "cascades_table": ("root", "posts"),
    "tree_table": ("depth", "created_at"),
    "spreaders_table": ("author_handle", "reach"),
    "crossposts_table": ("from_source", "to_source"),
    "runs_table": ("source", "topic", "started_at"),
    "jobs_table": ("job_id", "kind"),
    "per_source_table": ("source", "posts", "latest_bucket"),
    "sql_result": (),
}


def start(at: AppTest) -> AppTest:
    """The first run: the entry script (navigation, sidebar) and the Overview."""
    return run(at)


def frame(at: AppTest, key: str) -> pd.DataFrame:
    """The table `key` of the page (st.dataframe keeps no key unless its rows are selectable)."""
    start = TABLES[key]
    found = [d.value for d in at.dataframe if tuple(d.value.columns[: len(start)]) == start]
    assert found, f"no table {key}; tables: {[list(d.value.columns) for d in at.dataframe]}"
    value: pd.DataFrame = found[0]  # the SQL result comes before the views' schemas
    return value


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def texts(at: AppTest) -> str:
    return "\n".join(str(t.value) for t in at.text)


def switch(at: AppTest, page: str, **params: str) -> AppTest:
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(f"screens/{page}.py")
    return run(at)


# --- Overview -------------------------------------------------------------------------------------


def test_overview_shows_each_claims_numbers(app: AppTest) -> None:
    at = start(app)
    table = frame(at, "overview_table").set_index("claim_id")
    offices = table.loc[CLAIM]
    assert offices["posts"] == 14
    # the day after, and dailyhive's correction (noon on Jan 30 in Toronto, 23 h before the
    # demo's clock); the story's other posts are older than 24 h
    assert offices["posts_24h"] == 11
    assert offices["authors"] == 13
    assert offices["authors_24h"] == 10
    assert offices["variants"] == 2
    assert offices["leading_variant"] == "4"
    assert offices["latest_correction_by"] == "afp"
    assert offices["latest_correction_kind"] == "factcheck"
    # 13:30 UTC is 08:30 in Toronto: tables show the config's time zone
    assert offices["latest_correction_at"] == pd.Timestamp("2026-01-31 08:30")
    armed = table.loc[OTHER]
    assert (armed["posts"], armed["posts_24h"], armed["variants"]) == (2, 2, 0)  # Jan 30
    assert armed["latest_correction_by"] == "dailyhive"
    shown = metrics(at)
    assert shown[:5] == [
        ("Posts, last 24 h", "11"),
        ("Authors, last 24 h", "10"),
        ("Variants", "2"),
        ("Leading variant", "4"),
        ("Latest correction", "Jan 31"),  # the time and who in the caption under it
    ]
    # each claim's variants, in the last 24 hours and overall
    variants = frame(at, "claim_variants").set_index("variant")
    assert dict(variants["posts"]) == {"4": 7, "5": 5, "(none)": 2}
    # "4": s1-s3, s6, s8, g1; "5": dailyhive, s4, s5, s10
    assert dict(variants["posts_24h"]) == {"4": 6, "5": 4, "(none)": 1}
    assert dict(variants["authors_24h"]) == {"4": 6, "5": 4, "(none)": 1}
    # each claim's race: its variants' posts so far against the corrections so far
    drawn = vega_charts(at)
    assert len(drawn) == 2
    _spec, (race, *_) = drawn[0]
    posts = race.column("posts").to_pylist()
    series = race.column("series").to_pylist()
    assert sum(n for n, kind in zip(posts, series, strict=True) if kind == "variant") == 12
    # one generated post counts: the notice says so
    assert any("1 of the 16 posts" in w.value for w in at.warning)
    assert any("Scheduler running (demo)" in s.value for s in at.success)


def test_overview_shows_the_daily_digest(app: AppTest, story: Warehouse, tmp_path: Path) -> None:
    shipped = load_config(CONFIG)
    config = shipped.model_copy(
        update={"digest": shipped.digest.model_copy(update={"output_dir": tmp_path})}
    )
    written = write_digest(config, story, date(2026, 1, 30), deliver=False)
    try:
        at = start(app)
        assert at.selectbox(key="digest_day").value == date(2026, 1, 30)
        shown = "\n".join(m.value for m in at.markdown)
        assert "# claimwatch digest: Friday 30 January 2026 (America/Toronto)" in shown
        assert "<!--" not in shown  # the file's markers are not shown
        assert len(at.get("image")) == 1  # the day's chart
        assert str(written.markdown_path) in "\n".join(c.value for c in at.caption)
    finally:
        with story.writing() as con:
            con.execute("DELETE FROM store.digests")


def test_overview_filters_by_source_and_time(app: AppTest) -> None:
    at = start(app)
    at.sidebar.multiselect(key="f_sources").set_value(["mastodon"])
    at = run(at)
    offices = frame(at, "overview_table").set_index("claim_id").loc[CLAIM]
    assert (offices["posts"], offices["authors"], offices["variants"]) == (4, 3, 2)
    assert offices["leading_variant"] == "4"  # 3 mastodon posts of "4", one of "5"
    at.sidebar.multiselect(key="f_sources").set_value([])
    at.sidebar.selectbox(key="f_range").set_value("Last 24 hours")
    at = run(at)
    table = frame(at, "overview_table").set_index("claim_id")
    assert table.loc[CLAIM, "posts"] == 11
    assert table.loc[OTHER, "posts"] == 2
    assert "last 24 hours" in "\n".join(c.value for c in at.caption)


def test_topic_filter_keeps_its_claims(app: AppTest) -> None:
    at = start(app)
    at.sidebar.selectbox(key="f_topic").set_value("ice-canada")
    at = run(at)
    assert set(frame(at, "overview_table")["claim_id"]) == {CLAIM, OTHER}


# --- Claim ----------------------------------------------------------------------------------------


def test_claim_page_spread_corrections_variants(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "claim", claim=CLAIM)
    assert at.selectbox(key="claim_pick").value == CLAIM
    assert any("Verified value: 5" in i.value for i in at.info)
    variants = frame(at, "variants_table").set_index("variant")
    assert variants.loc["4", "posts"] == 7
    assert variants.loc["5", "posts"] == 5
    assert variants.loc["(none)", "posts"] == 2
    assert bool(variants.loc["5", "verified"]) is True
    assert bool(variants.loc["4", "verified"]) is False
    # first correction Jan 30 17:00 UTC (dailyhive): 6 of the 7 posts of "4" came after it
    assert variants.loc["4", "share_after_correction"] == pytest.approx(6 / 7)
    assert variants.loc["5", "share_after_correction"] == pytest.approx(4 / 5)
    # "4": 1 post in the 72 h from Jan 27 to Jan 30
    assert variants.loc["4", "rate_before"] == pytest.approx(1 / 72)
    assert variants.loc["4", "first_seen"] == pd.Timestamp("2026-01-27 12:00")  # Toronto
    corrections = frame(at, "corrections_table")
    assert list(corrections["author_handle"]) == ["afp", "dailyhive"]
    # the chart: a line per variant by day, a labelled rule per correction
    spec, tables = vega_charts(at)[0]
    layers = spec["layer"]
    assert layers[0]["encoding"]["x"]["title"] == f"Time ({TZ})"
    assert layers[0]["encoding"]["y"]["title"] == "Posts per day"
    points = tables[0].to_pylist() if "bucket_key" in tables[0].column_names else tables[1]
    rows = points if isinstance(points, list) else points.to_pylist()
    assert sum(r["posts"] for r in rows if r["variant"] == "4") == 7
    labels = [t for t in tables if "label" in t.column_names]
    assert sorted(labels[0].column("label").to_pylist()) == [
        "afp (factcheck)",
        "dailyhive (community)",
    ]


def test_claim_page_click_through_to_a_buckets_posts(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "claim", claim=CLAIM)
    at.radio(key="grain").set_value("hour")
    at.radio(key="measure").set_value("authors")
    at = run(at)
    spec, _ = vega_charts(at)[0]
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Authors (distinct) per hour"
    # the hour from 12:00 UTC (07:00 in Toronto) on Jan 31, variant 4: s1 and s2
    at.selectbox(key="point_bucket").set_value("2026-01-31T12:00:00+00:00")
    at.selectbox(key="point_variant").set_value("4")
    at = run(at)
    posts = frame(at, "point_posts")
    assert list(posts["author_handle"]) == ["m1", "m2"]
    assert "2 posts mention variant 4 in the hour starting 2026-01-31 07:00 EST" in texts(at)
    link = at.get("page_link")[-1].proto
    assert "variant=4" in link.query_string and "bucket=2026-01-31T12" in link.query_string


def test_filters_carry_across_pages(app: AppTest) -> None:
    at = start(app)
    at.sidebar.multiselect(key="f_sources").set_value(["mastodon"])
    at = run(at)
    at = switch(at, "claim", claim=CLAIM)
    assert at.sidebar.multiselect(key="f_sources").value == ["mastodon"]
    variants = frame(at, "variants_table").set_index("variant")
    assert dict(variants["posts"]) == {"4": 3, "5": 1}


# --- Posts ----------------------------------------------------------------------------------------


def test_posts_page_from_a_link(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "posts", claim=CLAIM, variant="5")
    posts = frame(at, "posts_table")
    assert list(posts["author_handle"]) == ["CheriDiNovo", "dailyhive", "b1", "afp", "m1"]
    assert set(posts["variant"]) == {"5"}
    assert "5 posts" in texts(at)
    # sorted oldest first; times in Toronto
    assert posts["created_at"].iloc[2] == pd.Timestamp("2026-01-31 08:10")


def test_posts_page_bucket_search_provenance_and_export(app: AppTest) -> None:
    at = start(app)
    at = switch(
        at, "posts", claim=CLAIM, variant="4", bucket="2026-01-31T05:00:00+00:00", grain="day"
    )
    posts = frame(at, "posts_table")
    assert len(posts) == 6  # the Toronto day of Jan 31: every "4" but Carrie's (Jan 26 there)
    generated = posts.set_index("post_uid").loc["x:g1", "provenance"]
    assert generated == "generated"
    assert set(posts["provenance"]) == {"generated", "collected"}
    assert any("1 of the 6 posts" in w.value for w in at.warning)
    at.text_input(key="posts_search").input("WAKE UP")
    at = run(at)
    assert sorted(frame(at, "posts_table")["post_uid"]) == ["bluesky:s6", "mastodon:s1"]
    csv = at.get("download_button")[0].proto
    parquet = at.get("download_button")[1].proto
    assert csv.label == "Export CSV" and parquet.label == "Export Parquet"
    at.button(key="clear_window").click()
    at = run(at)
    assert sorted(frame(at, "posts_table")["post_uid"]) == ["bluesky:s6", "mastodon:s1"]
    at.text_input(key="posts_search").input("")
    at = run(at)
    assert len(frame(at, "posts_table")) == 7


def test_posts_page_exports_what_it_lists(story: Warehouse) -> None:
    with story.reading() as con:
        data = posts_page(con, Scope((CLAIM,)), PostQuery(CLAIM, NO_VARIANT))
    assert data.total == 2
    assert data.posts.get_column("stance").to_list() == ["asserts", "questions"]
    csv = data.posts.write_csv()
    assert pl.read_csv(csv.encode()).height == 2


# --- Spread paths ---------------------------------------------------------------------------------


def test_paths_page(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "paths", claim=CLAIM)
    assert at.selectbox(key="paths_variant").value == "4"  # the leading variant first
    assert ("Posts", "7") in metrics(at)
    assert ("Trees (replies, quotes, reposts)", "1") in metrics(at)
    assert ("Largest tree, posts", "3") in metrics(at)
    assert ("Platforms", "4") in metrics(at)
    assert ("Copies across platforms", "1") in metrics(at)
    cascades = frame(at, "cascades_table").iloc[0]
    assert (cascades["root"], cascades["replies"], cascades["reposts"]) == ("mastodon:s1", 1, 1)
    tree = frame(at, "tree_table")
    assert list(zip(tree["post_uid"], tree["depth"], strict=True)) == [
        ("mastodon:s1", 0),
        ("mastodon:s2", 1),
        ("reddit:s3", 1),
    ]
    spreaders = frame(at, "spreaders_table")
    assert list(spreaders["author_handle"][:3]) == ["m1", "m2", "r1"]
    assert list(spreaders["reach"][:3]) == [100, 12, 5]
    first = frame(at, "first_table")
    assert list(first["source"]) == ["x", "mastodon", "reddit", "bluesky"]
    crossposts = frame(at, "crossposts_table").iloc[0]
    assert (crossposts["from_source"], crossposts["to_source"]) == ("mastodon", "bluesky")
    assert vega_charts(at), "the first-seen chart is drawn"
    at.selectbox(key="paths_variant").set_value("5")
    at = run(at)
    assert ("Posts", "5") in metrics(at)
    assert frame(at, "cascades_table").iloc[0]["quotes"] == 1  # s5 quotes s4


# --- Sources --------------------------------------------------------------------------------------


def test_sources_page(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "sources")
    assert any("Scheduler running: demo mode" in s.value for s in at.success)
    assert "host testhost, pid 4242" in texts(at)
    runs = frame(at, "runs_table").set_index("source")
    assert runs.loc["mastodon", "status"] == "ok"
    assert runs.loc["mastodon", "rate_limit_left"] == 290
    assert (runs.loc["mastodon", "fetched"], runs.loc["mastodon", "new"]) == (50, 10)
    assert runs.loc["reddit", "status"] == "failed"  # the latest run, not the earlier ok one
    assert "HTTP 503" in runs.loc["reddit", "error"]
    jobs = frame(at, "jobs_table").set_index("job_id")
    reddit = jobs.loc["collect:reddit:ice-canada"]
    assert bool(reddit["backing_off"]) and reddit["failures"] == 3
    assert any("1 job(s) backing off" in w.value for w in at.warning)
    assert "collect:reddit:ice-canada" in texts(at)
    assert any("1 source(s) whose last run did not succeed" in w.value for w in at.warning)
    assert "reddit (failed)" in texts(at)
    # posts collected per source per Toronto day, the day after: 4 mastodon posts
    at.radio(key="src_by").set_value("created_at")
    at = run(at)
    totals = frame(at, "per_source_table").set_index("source")
    assert dict(totals["posts"]) == {
        "mastodon": 4,
        "x": 6,
        "bluesky": 2,
        "news": 1,
        "reddit": 1,
        "factcheck": 1,
    }
    spec, (data, *_) = vega_charts(at)[0]
    assert spec["encoding"]["y"]["title"] == "Posts published per day"
    assert sum(data.column("posts").to_pylist()) == 15


def test_sources_page_says_no_scheduler_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = build(tmp_path / "stopped.duckdb")
    stop_scheduler(warehouse)
    monkeypatch.setenv("CLAIMWATCH_DB", str(warehouse.path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    st.cache_data.clear()
    at = start(AppTest.from_file(str(APP), default_timeout=60))
    at = switch(at, "sources")
    assert any(e.value.startswith("No scheduler running") for e in at.error)
    assert any("No scheduler running" in w.value for w in at.sidebar.warning)
    # a demo that stopped leaves "now" where its clock stopped: its last day still shows
    at = switch(at, "overview")
    assert frame(at, "overview_table").set_index("claim_id").loc[CLAIM, "posts_24h"] > 0
    # a scheduler of the real world (not a demo) that stopped: the wall clock, nothing recent
    with warehouse.writing() as con:
        con.execute("UPDATE store.heartbeats SET mode = 'run', clock_at = NULL")
    at = switch(at, "sources")
    at = switch(at, "overview")
    assert frame(at, "overview_table").set_index("claim_id").loc[CLAIM, "posts_24h"] == 0


# --- SQL ------------------------------------------------------------------------------------------


def test_sql_page_runs_a_query_with_limits(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "sql")
    at.text_area(key="sql_query").input(
        "SELECT variant, count(*) AS posts FROM claim_mentions"
        f" WHERE claim_id = '{CLAIM}' GROUP BY ALL ORDER BY posts DESC, variant"
    )
    at.number_input(key="sql_rows").set_value(2)
    at.button(key="sql_run").click()
    at = run(at)
    result = frame(at, "sql_result")
    assert list(result["posts"]) == [7, 5]
    assert "2 rows (stopped at the row limit, 2)" in texts(at)
    assert at.get("download_button")[0].proto.label == "Download CSV"
    assert any(e.label == "claim_mentions" for e in at.expander)


@pytest.mark.parametrize(
    "statement",
    [
        "DROP VIEW posts",
        "INSERT INTO store.posts (post_uid) VALUES ('x')",
        "UPDATE store.heartbeats SET stopped_at = now()",
        "ATTACH '/tmp/other.duckdb' AS other",
        "COPY posts TO '/tmp/posts.csv'",
        "SELECT 1; DELETE FROM store.posts",
    ],
)
def test_sql_page_refuses_writes(app: AppTest, story: Warehouse, statement: str) -> None:
    at = start(app)
    at = switch(at, "sql")
    at.text_area(key="sql_query").input(statement)
    at.button(key="sql_run").click()
    at = run(at)
    assert any(e.value.startswith("Refused:") for e in at.error), [e.value for e in at.error]
    with story.reading() as con:
        count = con.execute("SELECT count(*) FROM posts").fetchone()
        stopped = con.execute("SELECT count(stopped_at) FROM heartbeats").fetchone()
    assert count == (15,)
    assert stopped == (0,)


# --- a post's words are shown as words ------------------------------------------------------------


def _markdown_bodies(at: AppTest) -> list[str]:
    """Every element whose body Streamlit renders as Markdown (or could)."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "info", "warning")
    kinds += ("error", "success", "metric")
    bodies: list[str] = []
    for kind in kinds:
        for element in at.get(kind):
            proto: Any = element.proto
            bodies.append(str(proto))
    return bodies


def test_a_post_with_html_and_markdown_shows_literally(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "posts", claim=CLAIM, variant="4")
    posts = frame(at, "posts_table").set_index("post_uid")
    hostile = posts.loc["mastodon:s8"]
    assert hostile["text"] == HOSTILE_TEXT  # in a table cell, as written
    assert hostile["author_handle"] == HOSTILE_AUTHOR
    assert pd.isna(hostile["url"])  # a javascript: link never becomes a link
    for page, params in (
        ("posts", {"claim": CLAIM, "variant": "4"}),
        ("claim", {"claim": CLAIM}),
        ("paths", {"claim": CLAIM}),
        ("overview", {}),
    ):
        at = switch(at, page, **params)
        for body in _markdown_bodies(at):
            assert "javascript:" not in body and "<script>" not in body, (page, body)
    # on the paths page the hostile author is a cell of the spreaders' table
    at = switch(at, "paths", claim=CLAIM)
    assert HOSTILE_AUTHOR in list(frame(at, "spreaders_table")["author_handle"])


# --- the queries against the views ----------------------------------------------------------------


def test_spread_by_hour_matches_the_view(story: Warehouse) -> None:
    with story.reading() as con:
        facts = load_facts(con)
        view = con.execute(
            "SELECT claim_id, coalesce(variant, '(none)') AS variant, bucket, posts, authors,"
            " reach, coalesce(variant_label, variant, '(none)') AS shown FROM variant_spread"
            " WHERE grain = 'hour' ORDER BY claim_id, bucket, variant"
        ).pl()
    mine = spread_of(facts.mentions, "hour", "UTC")
    assert mine.sort(["claim_id", "bucket", "variant"]).to_dicts() == view.to_dicts()


def test_variant_numbers_match_the_summary_view(story: Warehouse) -> None:
    columns = ["claim_id", "variant", "posts", "authors", "reach", "first_seen", "last_seen"]
    rates = ["first_correction_at", "posts_after_correction", "share_after_correction"]
    rates += ["rate_before", "rate_after", "rate_fell"]
    with story.reading() as con:
        facts = load_facts(con)
        view = con.execute(
            f"SELECT {', '.join(columns + rates)}, is_leading FROM variant_summary"
        ).pl()
    view = view.with_columns(pl.col("variant").fill_null(NO_VARIANT))
    stats = variant_stats_of(facts.mentions)
    assert stats.select(columns).sort(columns[:2]).to_dicts() == (
        view.select(columns).sort(columns[:2]).to_dicts()
    )
    summary = summary_of(facts.mentions, facts.corrections).sort("claim_id", "variant")
    expected = view.select(["claim_id", "variant", *rates]).sort("claim_id", "variant")
    for mine, theirs in zip(summary.to_dicts(), expected.to_dicts(), strict=True):
        assert mine.keys() == theirs.keys()
        for key, value in theirs.items():
            assert mine[key] == (pytest.approx(value) if isinstance(value, float) else value)
    leading = leading_variants(stats).sort("claim_id")
    assert list(leading.select("claim_id", "leading_variant").iter_rows()) == list(
        view.filter(pl.col("is_leading")).sort("claim_id").select("claim_id", "variant").iter_rows()
    )


def test_the_facts_are_read_once_until_the_data_changes(tmp_path: Path) -> None:
    warehouse = build(tmp_path / "changing.duckdb")
    cache = FactsCache()
    scope = Scope((CLAIM, OTHER))
    for _ in range(3):
        with warehouse.reading() as con:
            stats = variant_stats(con, scope, cache=cache)
    assert cache.loads == 1
    assert stats.filter(pl.col("claim_id") == CLAIM).get_column("posts").sum() == 14
    write_posts(warehouse, [("x", "late", "z1", 300, "4", "asserts", "4 ICE stations!", {})])
    with warehouse.reading() as con:
        stats = variant_stats(con, scope, cache=cache)
    assert cache.loads == 2
    assert stats.filter(pl.col("claim_id") == CLAIM).get_column("posts").sum() == 15


def test_a_toronto_day_is_cut_on_the_wall_clock() -> None:
    # the day DST starts in Toronto is 23 hours long
    start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert bucket_bounds(start, "day", TZ) == (
        start,
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    )


def test_streamlit_command_is_headless_and_passes_the_paths() -> None:
    argv = streamlit_command(Path("w.duckdb"), Path("c.toml"), "127.0.0.1", 8600)
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert "--server.headless=true" in argv
    assert "--browser.gatherUsageStats=false" in argv
    assert "--server.fileWatcherType=none" in argv
    assert argv[-4:] == ["--db", "w.duckdb", "--config", "c.toml"]
    assert argv[argv.index("--server.port") + 1] == "8600"


# --- reading while the scheduler writes -----------------------------------------------------------


BATCHES = 150  # of 500 posts: a few seconds of writing


def test_pages_render_while_another_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = build(tmp_path / "busy.duckdb")
    beat(warehouse)
    monkeypatch.setenv("CLAIMWATCH_DB", str(warehouse.path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    at = start(AppTest.from_file(str(APP), default_timeout=60))
    workers = Path(__file__).parent / "workers.py"
    writer = subprocess.Popen(
        [sys.executable, str(workers), "writer", str(warehouse.path), str(BATCHES), "500", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[int] = []
    while writer.poll() is None:
        st.cache_data.clear()
        at = switch(at, "sources")  # every run reads the warehouse again; none may fail
        seen.append(int(frame(at, "per_source_table")["posts"].sum()))
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    written = json.loads(out.strip().splitlines()[-1])
    assert written["committed"] + written["staged"] == BATCHES
    st.cache_data.clear()
    at = switch(at, "sources")
    assert int(frame(at, "per_source_table")["posts"].sum()) == 15 + BATCHES * 500
    assert len(seen) >= 2 and seen == sorted(seen)  # the counts only grow, run after run


@pytest.mark.slow
def test_claimwatch_dashboard_serves_and_stops(story: Warehouse) -> None:
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    claimwatch = Path(sys.executable).parent / "claimwatch"
    command = [str(claimwatch), "--db", str(story.path), "--config", str(CONFIG)]
    cli = subprocess.Popen(
        [*command, "dashboard", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until_serving("127.0.0.1", port, 60)
        page = httpx.get(f"http://127.0.0.1:{port}/claim?claim={CLAIM}", timeout=10)
        assert page.status_code == 200
    finally:
        cli.send_signal(signal.SIGTERM)
        _, err = cli.communicate(timeout=30)
    assert cli.returncode == 0, err
    assert f"dashboard: http://127.0.0.1:{port}" in err
    assert "WARNING" not in err  # where the dashboard is, said plainly: nothing went wrong
    with pytest.raises(httpx.HTTPError):  # the server went with it
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


def seen(cache: FactsCache, post_uid: str) -> bool:
    """Whether the cache holds the post, in the facts and in its claim's texts."""
    facts, texts = cache._facts, cache._details.get(CLAIM)
    return (
        facts is not None
        and texts is not None
        and post_uid in facts.mentions.get_column("post_uid").to_list()
        and post_uid in texts.get_column("post_uid").to_list()
    )


def test_the_facts_are_read_again_in_the_background_when_the_data_changes(
    tmp_path: Path,
) -> None:
    warehouse = build(tmp_path / "watched.duckdb")
    cache = FactsCache()
    done = False
    cache.keep_fresh(warehouse.reading, 0.1, until=lambda: done)
    try:
        with warehouse.reading() as con:
            cache.facts(con)
            cache.details(con, CLAIM)
        time.sleep(0.5)
        assert cache.loads == 1  # nothing changed: nothing read again
        write_posts(warehouse, [("x", "late", "z1", 300, "5", "asserts", "5 ICE stations!", {})])
        deadline = time.monotonic() + 20
        while not seen(cache, "x:late") and time.monotonic() < deadline:
            time.sleep(0.1)
        # read again by the keeper before any page asked (once for the post, and maybe once
        # more for its mention: the store writes them in two transactions)
        assert seen(cache, "x:late")
        assert cache.loads in (2, 3)
    finally:
        done = True


def test_a_failing_query_quoting_a_post_shows_it_literally(app: AppTest) -> None:
    at = start(app)
    at = switch(at, "sql")
    at.text_area(key="sql_query").input(
        "SELECT CAST(text AS INTEGER) FROM posts WHERE post_uid = 'mastodon:s8'"
    )
    at.button(key="sql_run").click()
    at = run(at)
    assert [e.value for e in at.error] == ["The query failed:"]
    assert "<script>alert('x')</script>" in at.code[0].value  # DuckDB quotes the text
    for body in _markdown_bodies(at):
        assert "javascript:" not in body and "<script>" not in body


def test_every_page_says_what_is_missing_on_an_empty_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = Warehouse(tmp_path / "empty.duckdb")
    with empty.writing():
        pass  # created and migrated, nothing in it
    monkeypatch.setenv("CLAIMWATCH_DB", str(empty.path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    st.cache_data.clear()
    at = start(AppTest.from_file(str(APP), default_timeout=60))
    assert set(frame(at, "overview_table")["posts"]) == {0}
    assert "No posts mention this claim in the time range." in texts(at)
    for page in ("claim", "paths"):
        at = switch(at, page, claim=CLAIM)
        assert any("No post mentions this claim" in i.value for i in at.info), page
    at = switch(at, "posts", claim=CLAIM, variant="4")
    assert len(frame(at, "posts_table")) == 0
    assert "0 posts" in texts(at)
    at = switch(at, "sources")
    assert any(e.value.startswith("No scheduler running") for e in at.error)
    assert "No post in the time range." in texts(at)


def test_a_missing_warehouse_is_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "nowhere.duckdb"))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("there is no warehouse at" in e.value for e in at.error)


def test_variants_are_shown_as_people_read_them_and_keyed_by_value() -> None:
    mentions = pl.DataFrame(
        {
            "claim_id": ["cost"] * 4,
            "variant": ["1300000000", "1300000000", "13000000000", None],
            "variant_label": ["$1.3 billion", "$1.3 billion", "$13 billion", None],
            "author": ["a", "b", "c", "d"],
            "reach": [1, 2, 3, 4],
            "source": ["x"] * 4,
            "created_at": [datetime(2026, 1, 30, h, tzinfo=UTC) for h in (1, 2, 3, 4)],
        }
    )
    stats = variant_stats_of(mentions)
    assert dict(zip(stats["variant"], stats["shown"], strict=True)) == {
        "1300000000": "$1.3 billion",
        "13000000000": "$13 billion",
        NO_VARIANT: NO_VARIANT,
    }
    spread = spread_of(mentions, "day", "UTC")
    assert set(spread["shown"]) == {"$1.3 billion", "$13 billion", NO_VARIANT}
    # a mention stored before labels existed (schema 6) is shown by its value
    legacy = variant_stats_of(mentions.with_columns(pl.lit(None, pl.String).alias("variant_label")))
    assert set(legacy["shown"]) == {"1300000000", "13000000000", NO_VARIANT}


def test_the_verified_value_is_keyed_and_shown_like_the_variants() -> None:
    money = Quantity(kind="money", currency="CAD", verified=1300000000)
    assert verified_written(money) == ("1300000000", "$1.3 billion")
    assert verified_written(Quantity(kind="percent", verified=25)) == ("25", "25%")
    assert verified_written(Quantity(kind="count", verified=10000)) == ("10000", "10,000")


# --- one truth per page run, and the small things a person sees -----------------------------------


def test_the_posts_behind_a_point_default_to_a_bucket_with_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A late post of "5" alone in the last hour: the default is that hour and "5", not the
    first variant, "(none)", which has no post there."""
    warehouse = build(tmp_path / "late.duckdb")
    write_posts(warehouse, [("x", "late", "z1", 300, "5", "asserts", "5 ICE stations!", {})])
    at = start(next(app_on(warehouse, monkeypatch)))
    at = switch(at, "claim", claim=CLAIM)
    at.radio(key="grain").set_value("hour")
    at = run(at)
    assert "1 post mentions variant 5 in the hour starting 2026-01-31 12:00 EST" in texts(at)
    assert list(frame(at, "point_posts")["post_uid"]) == ["x:late"]


def test_a_single_bucket_is_a_bar_as_wide_as_it() -> None:
    one = pl.DataFrame(
        {"source": ["x"], "bucket": [datetime(2026, 1, 31, 5, tzinfo=UTC)], "posts": [3]}
    )
    spec = per_source_chart(one, grain="day", tz=TZ, by="collected_at").to_dict()
    assert spec["encoding"]["x2"]["field"] == "bucket_end"
    (row,) = next(iter(spec["datasets"].values()))
    assert (row["bucket_wall"], row["bucket_end"]) == (
        "2026-01-31T00:00:00+0000",
        "2026-02-01T00:00:00+0000",
    )


def test_every_page_says_what_its_snapshot_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posts arrive and the scheduler stops between two page runs: the next page says both, in
    its sidebar and in its numbers, though the page before was computed a moment ago."""
    warehouse = build(tmp_path / "moving.duckdb")
    at = start(next(app_on(warehouse, monkeypatch)))
    at = switch(at, "posts", claim=CLAIM, variant="5")
    assert "Scheduler running (demo)" in [s.value.split(",")[0] for s in at.sidebar.success]
    assert "15 posts" in texts(at) and "5 posts; time range all time" in texts(at)
    write_posts(warehouse, [("x", "late", "z1", 300, "5", "asserts", "5 ICE stations!", {})])
    stop_scheduler(warehouse)
    at = switch(at, "posts", claim=CLAIM, variant="5")
    assert at.sidebar.success == [] and "No scheduler running" in at.sidebar.warning[0].value
    assert "16 posts" in texts(at) and "6 posts; time range all time" in texts(at)


def test_the_last_24_hours_of_a_demo_are_on_its_clock_running_or_stopped() -> None:
    wall = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    clock_at = datetime(2026, 1, 31, 13, 0, tzinfo=UTC)  # where the story's clock stopped
    beat = {
        "mode": "demo",
        "clock_at": clock_at,
        "beat_at": datetime(2026, 12, 4, 11, 59, 58, tzinfo=UTC),
    }
    assert reference_now(beat, True, wall) == datetime(2026, 1, 31, 13, 0, 2, tzinfo=UTC)
    assert reference_now(beat, False, wall) == clock_at  # the demo is over: its last moment
    assert reference_now({**beat, "mode": "run"}, True, wall) == wall
    assert reference_now(None, False, wall) == wall
