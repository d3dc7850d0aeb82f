"""The daily digest over a warehouse seeded with the story (tests/digest_story.py): its numbers
against SQL over the documented views, the files written, when a digest is due, and the command.
"""

from __future__ import annotations

import json
import shutil
import struct
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from conftest import CliResult
from digest_story import (
    BEFORE_START,
    DAILY_HIVE_TEXT,
    DAY,
    DAY_END,
    DAY_START,
    EXPECTED,
    P,
    config_file,
    posts_table,
    story_config,
    utc,
)
from digest_story import (
    FIVE as FIVE_TEXT,
)

from claims.job import analyze_warehouse
from claimwatch.scheduler import Scheduler
from config import Config, load_config
from digest import chart, render
from digest.publish import days_to_revise, due_days, revise_digest, write_digest
from digest.report import DayReport, build_report, day_bounds
from warehouse import Batch, Warehouse

OFFICES = "ice-offices-canada"
ARMED = "ice-armed-operations-canada"
TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def story(digest_warehouse: Warehouse, tmp_path: Path) -> tuple[Warehouse, Config]:
    """A copy of the story's warehouse for one test, and the config writing into tmp_path."""
    return digest_warehouse, story_config(tmp_path)


@pytest.fixture
def report(story: tuple[Warehouse, Config]) -> DayReport:
    warehouse, config = story
    return build_report(config, warehouse, DAY, now=datetime(2026, 1, 31, 12, tzinfo=UTC))


def sql(warehouse: Warehouse, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with warehouse.reading() as con:
        return con.execute(query, list(params)).fetchall()


def variant_counts_by_sql(
    warehouse: Warehouse, claim_id: str, start: datetime, end: datetime
) -> dict[str | None, tuple[int, int]]:
    rows = sql(
        warehouse,
        "SELECT m.variant, count(DISTINCT m.post_uid),"
        " count(DISTINCT coalesce(p.author_id, p.author_handle))"
        " FROM claim_mentions m JOIN posts p ON p.post_uid = m.post_uid"
        " WHERE m.claim_id = ? AND m.created_at >= ? AND m.created_at < ? GROUP BY m.variant",
        claim_id,
        start,
        end,
    )
    return {variant: (posts, authors) for variant, posts, authors in rows}


# --- the numbers ---------------------------------------------------------------------------------


def test_the_local_day_runs_midnight_to_midnight_in_toronto_even_when_the_clocks_change() -> None:
    assert day_bounds(DAY, TORONTO) == (DAY_START, DAY_END)
    start, end = day_bounds(date(2026, 3, 8), TORONTO)  # clocks go forward: a 23-hour day
    assert (end - start, start.hour) == (timedelta(hours=23), 5)
    start, end = day_bounds(date(2026, 11, 1), TORONTO)  # back: 25 hours
    assert (end - start, start.hour) == (timedelta(hours=25), 4)


def test_the_engine_reads_the_seeded_story_as_it_was_built(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, _ = story
    for claim_id in (OFFICES, ARMED):
        day = variant_counts_by_sql(warehouse, claim_id, DAY_START, DAY_END)
        before = variant_counts_by_sql(warehouse, claim_id, BEFORE_START, DAY_START)
        for (claim, variant), (posts, authors, posts_before, authors_before) in EXPECTED.items():
            if claim == claim_id:
                assert day.get(variant) == (posts, authors), (claim, variant)
                assert before.get(variant, (0, 0)) == (posts_before, authors_before)


def test_the_digest_of_2026_01_30_counts_variants_4_and_5_as_sql_over_the_views(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    (topic,) = report.topics
    offices = next(c for c in topic.claims if c.claim_id == OFFICES)
    shown = {
        v.variant: (v.posts, v.authors, v.posts_before, v.authors_before) for v in offices.variants
    }
    day = variant_counts_by_sql(warehouse, OFFICES, DAY_START, DAY_END)
    before = variant_counts_by_sql(warehouse, OFFICES, BEFORE_START, DAY_START)
    by_sql = {v: day.get(v, (0, 0)) + before.get(v, (0, 0)) for v in day.keys() | before.keys()}
    assert shown == by_sql
    assert shown["4"] == (3, 3, 6, 4)  # by construction: 4 fell from 6 posts to 3
    assert shown["5"] == (10, 8, 2, 2)  # and 5 rose from 2 to 10
    assert [v.variant for v in offices.variants][:2] == ["5", "4"]  # most posts first
    (posts,) = sql(
        warehouse,
        "SELECT count(DISTINCT post_uid) FROM claim_mentions"
        " WHERE claim_id = ? AND created_at >= ? AND created_at < ?",
        OFFICES,
        DAY_START,
        DAY_END,
    )[0]
    assert offices.posts == posts == 15


def test_new_variants_are_those_first_seen_that_day(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    offices = report.topics[0].claims[0]
    first_seen_that_day = sql(
        warehouse,
        "SELECT variant, first_seen FROM variant_summary WHERE claim_id = ?"
        " AND variant IS NOT NULL AND first_seen >= ? AND first_seen < ?",
        OFFICES,
        DAY_START,
        DAY_END,
    )
    assert [(v.variant, v.first_seen) for v in offices.new_variants] == first_seen_that_day
    assert [v.variant for v in offices.new_variants] == ["3"]


def test_the_days_corrections_name_the_embassy_with_its_link(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    shown = sorted(
        (c.claim_id, c.post_uid, c.kind, c.source, c.author_handle, c.url, c.created_at)
        for topic in report.topics
        for claim in topic.claims
        for c in claim.corrections
    )
    assert shown == sql(
        warehouse,
        "SELECT claim_id, post_uid, kind, source, author_handle, url, created_at"
        " FROM corrections WHERE created_at >= ? AND created_at < ? ORDER BY ALL",
        DAY_START,
        DAY_END,
    )
    armed = report.topics[0].claims[1]
    embassy = armed.corrections[0]
    assert (embassy.kind, embassy.author_handle, embassy.author_name, embassy.source) == (
        "authority",
        "usembassyottawa",
        "U.S. Embassy Ottawa",
        "x",
    )
    assert report.local(embassy.created_at).strftime("%H:%M") == "10:00"
    assert embassy.url == "https://x.com/usembassyottawa/status/2017000000000000000"
    assert "HSI operates in close partnership" in embassy.text


def test_a_day_of_many_corrections_counts_them_all_and_lists_ten_authorities_first(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    relays = [
        P(f"relay-{i}", "news", f"outlet{i}", utc(30, 6 + i), DAILY_HIVE_TEXT + f" ({i})",
          kind="article")
        for i in range(12)
    ]  # fmt: skip  # 12 outlets relaying the spokesperson from 01:00 local, before the embassy
    warehouse.write(Batch(posts=posts_table(relays)))
    analyze_warehouse(warehouse, config)
    report = build_report(config, warehouse, DAY)
    armed = report.topics[0].claims[1]
    by_sql = sql(
        warehouse,
        "SELECT kind, count(*) FROM corrections WHERE claim_id = ? AND created_at >= ?"
        " AND created_at < ? GROUP BY kind ORDER BY kind",
        ARMED,
        DAY_START,
        DAY_END,
    )
    assert (
        sorted(armed.correction_counts.items()) == by_sql == [("authority", 1), ("community", 13)]
    )
    listed = [c.post_uid for c in armed.corrections]
    assert len(listed) == 10 and "x:embassy" in listed  # the authority, then the 9 earliest
    assert listed[:2] == ["news:relay-0", "news:relay-1"]  # shown in time order
    times = [c.created_at for c in armed.corrections]
    assert times == sorted(times)
    assert armed.first_correction_at == utc(30, 6)
    markdown = render.markdown(report, chart_src="chart.png")
    assert (
        "Corrections published on this day: 14 (1 authority, 13 community); the 10 listed are "
        "the authorities' and fact-checkers' first, then the earliest:"
    ) in markdown
    assert "Spread on this day before and after the first correction (01:00):" in markdown


def test_each_variants_spread_before_and_after_the_first_correction_of_the_day(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    offices = report.topics[0].claims[0]
    first = offices.corrections[0].created_at  # the Daily Hive article, 18:00 UTC
    shown = {s.variant: (s.posts_before, s.posts_after) for s in offices.around_first_correction}
    by_sql = sql(
        warehouse,
        "SELECT variant, count(*) FILTER (WHERE created_at < $2),"
        " count(*) FILTER (WHERE created_at >= $2) FROM claim_mentions"
        " WHERE claim_id = $1 AND created_at >= $3 AND created_at < $4 GROUP BY variant",
        OFFICES,
        first,
        DAY_START,
        DAY_END,
    )
    assert shown == {variant: (before, after) for variant, before, after in by_sql}
    five = next(s for s in offices.around_first_correction if s.variant == "5")
    assert (five.posts_before, five.posts_after, five.hours_before, five.hours_after) == (
        6,
        4,
        13.0,
        11.0,
    )
    assert five.rate_before == pytest.approx(6 / 13) and five.rate_after == pytest.approx(4 / 11)


def test_the_top_posts_and_spreaders_of_the_day_rank_by_reach_and_posts(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    topic = report.topics[0]
    reach = (
        "greatest(coalesce(author_followers, 0), 0) + greatest(coalesce(likes, 0), 0)"
        " + greatest(coalesce(reposts, 0), 0) + greatest(coalesce(replies, 0), 0)"
        " + greatest(coalesce(quotes, 0), 0)"
    )
    top = sql(
        warehouse,
        f"SELECT post_uid, {reach} FROM posts WHERE post_uid IN (SELECT post_uid FROM"
        " claim_mentions WHERE created_at >= ? AND created_at < ?) ORDER BY 2 DESC LIMIT 5",
        DAY_START,
        DAY_END,
    )
    assert [(p.post_uid, p.reach) for p in topic.top_posts] == top
    assert top[0] == ("x:embassy", 120_800)
    assert [(s.author_handle, s.posts, s.reach) for s in topic.spreaders[:2]] == [
        ("b5", 2, 50_900 + 50_100),
        ("b1", 2, 420 + 415),
    ]


def test_every_sources_health_is_said_and_one_that_failed_all_day_plainly(
    story: tuple[Warehouse, Config], report: DayReport
) -> None:
    warehouse, _ = story
    health = {s.source: s for s in report.sources}
    runs = sql(
        warehouse,
        "SELECT source, count(*), count(*) FILTER (WHERE status = 'failed'), sum(fetched),"
        " sum(new) FROM collector_runs WHERE started_at >= ? AND started_at < ?"
        " AND source NOT IN ('import', 'analysis') GROUP BY source ORDER BY source",
        DAY_START,
        DAY_END,
    )
    shown = [(s, h.runs, h.failed, h.fetched, h.new) for s, h in sorted(health.items()) if h.runs]
    assert shown == [tuple(row) for row in runs]
    assert health["reddit"].verdict == "failed all day: HTTP 429 Too Many Requests (3 retries)"
    assert health["news"].verdict == "failed 1 of 2 runs: ReadTimeout after 30 s"
    assert health["mastodon"].verdict == "ok"
    assert (
        health["gdelt"].verdict
        == health["hackernews"].verdict
        == ("no runs that day (nothing collected)")
    )  # hackernews ran the day before only
    assert [s.source for s in report.sources][-1] == "mastodon"  # the healthy last


def test_a_day_before_a_sources_first_run_says_its_posts_were_collected_later(
    story: tuple[Warehouse, Config],
) -> None:
    """A backfilled day (posts collected by a later run's lookback, or replayed by the demo) is
    not a day the sources were down."""
    warehouse, config = story
    earlier = build_report(config, warehouse, DAY - timedelta(days=2))
    health = {s.source: s for s in earlier.sources}
    later = "no run that day: its posts were collected later"
    assert (
        health["hackernews"].verdict == health["reddit"].verdict == later
    )  # first ran on the 29th
    assert health["mastodon"].verdict == later and health["mastodon"].healthy
    assert health["gdelt"].verdict == "no runs that day (nothing collected)"  # never ran


# --- the files -----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_digest_is_written_as_markdown_and_html_with_the_chart(
    story: tuple[Warehouse, Config], tmp_path: Path
) -> None:
    warehouse, config = story
    result = write_digest(config, warehouse, DAY, now=datetime(2026, 1, 31, 12, tzinfo=UTC))
    assert (result.written, result.rewritten, result.deliveries) == (True, False, [])
    assert result.markdown_path == tmp_path / "digests" / "digest-2026-01-30.md"
    markdown = result.markdown_path.read_text(encoding="utf-8")
    page = result.html_path.read_text(encoding="utf-8")
    assert markdown.startswith("# claimwatch digest: Friday 30 January 2026 (America/Toronto)\n")
    link = "http://127.0.0.1:8501/posts?claim=ice-offices-canada&variant="
    assert f"| [5]({link}5) | 10 | +8 | 8 | +6 |" in markdown
    assert f"| [4]({link}4) | 3 | -3 | 3 | -1 |" in markdown
    assert "New variants on this day: **3** (first seen 09:00, 1 post)." in markdown
    assert "10:00: authority correction by **U.S. Embassy Ottawa (@usembassyottawa)** on x" in (
        markdown
    )
    assert "| reddit | failed all day: HTTP 429 Too Many Requests (3 retries) | 3 |" in markdown
    assert "![Posts per hour of each variant, Friday 30 January 2026](digest-2026-01-30.png)" in (
        markdown
    )
    assert '<img src="digest-2026-01-30.png"' in page
    assert 'href="http://127.0.0.1:8501/posts?claim=ice-offices-canada&amp;variant=5">5</a>' in page
    assert "failed all day: HTTP 429" in page
    width, height = png_size(result.chart_path.read_bytes() if result.chart_path else b"")
    assert width > 1200 and height > 600  # two panels at scale 2
    assert sql(warehouse, "SELECT day, markdown_path, rewrites FROM digests") == [
        (DAY, str(result.markdown_path), 0)
    ]


def test_post_text_is_escaped_never_raw_markup(story: tuple[Warehouse, Config]) -> None:
    warehouse, config = story
    result = write_digest(config, warehouse, DAY, deliver=False)
    markdown = result.markdown_path.read_text(encoding="utf-8")
    page = result.html_path.read_text(encoding="utf-8")
    for text in (markdown, page):
        assert "<script>" not in text and "<b>Troll" not in text
        assert "&lt;script&gt;alert(" in text and "&lt;b&gt;Troll&lt;/b&gt;" in text
    # in the Markdown the link syntax is escaped: text, not a link
    assert r"\*\*now\*\* \[click\](javascript:void(0)) \| \# \_" in markdown
    assert "](javascript:" not in markdown.replace("\\](javascript:", "")
    assert 'href="javascript' not in page


def test_writing_a_digest_not_delivered_again_replaces_it_and_says_so(
    story: tuple[Warehouse, Config], caplog: pytest.LogCaptureFixture
) -> None:
    warehouse, config = story
    write_digest(config, warehouse, DAY)
    again = write_digest(config, warehouse, DAY)
    assert (again.written, again.rewritten) == (True, True)
    assert "rewrote the digest of 2026-01-30 (not delivered yet)" in caplog.text
    assert sql(warehouse, "SELECT rewrites FROM digests WHERE day = ?", DAY) == [(1,)]


def test_a_day_without_posts_says_so(story: tuple[Warehouse, Config]) -> None:
    warehouse, config = story
    result = write_digest(config, warehouse, date(2026, 1, 20))
    markdown = result.markdown_path.read_text(encoding="utf-8")
    assert "- ICE / HSI presence in Canada: 0 posts (0 from the day before)" in markdown
    assert "No posts mentioned its claims on this day." in markdown
    assert "| mastodon | no run that day: its posts were collected later | 0 |" in markdown
    assert "| gdelt | no runs that day (nothing collected) | 0 |" in markdown
    assert png_size(result.chart_path.read_bytes() if result.chart_path else b"")[0] > 600


# --- when it is due ------------------------------------------------------------------------------


def test_the_digest_of_the_day_before_is_due_from_seven_local(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    assert due_days(config, warehouse, datetime(2026, 1, 31, 11, 59, tzinfo=UTC)) == []
    assert due_days(config, warehouse, datetime(2026, 1, 31, 12, 0, tzinfo=UTC)) == [DAY]
    assert due_days(config, warehouse, datetime(2026, 2, 1, 4, 59, tzinfo=UTC)) == [DAY]  # 23:59
    write_digest(config, warehouse, DAY, now=datetime(2026, 1, 31, 12, tzinfo=UTC))
    assert due_days(config, warehouse, datetime(2026, 1, 31, 12, 5, tzinfo=UTC)) == []
    assert due_days(config, warehouse, datetime(2026, 2, 1, 12, 0, tzinfo=UTC)) == [
        date(2026, 1, 31)
    ]


# --- the command ---------------------------------------------------------------------------------


def test_claimwatch_digest_writes_the_day_and_says_what_it_did(
    digest_seeded: Path, db_path: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    shutil.copy(digest_seeded, db_path)
    config = config_file(tmp_path)
    done = cli("--config", str(config), "digest", "--date", "2026-01-30")
    assert done.code == 0, done.err
    assert "the digest of 2026-01-30 was written:" in done.out
    assert "no delivery configured" in done.out
    assert (tmp_path / "digests" / "digest-2026-01-30.html").exists()
    again = cli("--config", str(config), "digest", "--date", "2026-01-30")
    assert again.code == 0 and "was written again" in again.out


@pytest.mark.parametrize("day", ["2026-02-30", "30/01/2026", "2999-01-01"])
def test_claimwatch_digest_refuses_a_day_that_is_not_one_with_status_2(
    digest_seeded: Path, db_path: Path, tmp_path: Path, cli: Callable[..., CliResult], day: str
) -> None:
    shutil.copy(digest_seeded, db_path)
    done = cli("--config", str(config_file(tmp_path)), "digest", "--date", day)
    assert done.code == 2
    assert ("expected a day as YYYY-MM-DD" in done.err) or ("is in the future" in done.err)
    assert not (tmp_path / "digests").exists()


def test_claimwatch_digest_without_a_warehouse_cannot_run(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    done = cli("--config", str(config_file(tmp_path)), "digest", "--date", "2026-01-30")
    assert done.code == 2 and "there is no warehouse" in done.err


def test_the_chart_counts_each_variants_posts_per_local_hour_with_the_corrections(
    report: DayReport,
) -> None:
    spec = chart.spec(report)
    values = spec["data"]["values"]
    offices = report.topics[0].claims[0].title
    armed = report.topics[0].claims[1].title
    five = {r["hour"]: r["posts"] for r in values if r["row"] == "count" and r["variant"] == "5"}
    assert len(five) == 24 and sum(five.values()) == 10
    assert [h for h, n in five.items() if n] == [2, 3, 4, 7, 11, 12, 13, 14, 16, 21]  # UTC - 5
    rules = sorted((r["claim"], r["hour"]) for r in values if r["row"] == "correction")
    assert rules == sorted([(armed, 10.0), (armed, 13.0), (offices, 13.0)])
    assert spec["spec"]["layer"][0]["encoding"]["y"]["axis"]["values"] == [0, 1]


# --- revisions -----------------------------------------------------------------------------------

LATE_POSTS = [  # posts of 2026-01-30 (local) that reach the warehouse after its digest
    {"source": "mastodon", "source_id": f"late-{n}", "created_at": f"2026-01-30T{h}:00:00Z",
     "text": FIVE_TEXT.format(n), "author_handle": f"late{n}"}
    for n, h in ((1, 14), (2, 15), (3, 22))
]  # fmt: skip


def no_source_config(tmp_path: Path) -> Path:
    """The shipped config with digests in tmp_path and no source enabled: a scheduler that
    only analyses and writes digests."""
    config = tomllib.loads(config_file(tmp_path).read_text(encoding="utf-8"))
    for source in config["sources"].values():
        source["enabled"] = False
    path = tmp_path / "no-sources.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def test_posts_imported_for_a_digested_day_make_a_revision_kept_beside_the_first(
    digest_seeded: Path, db_path: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    shutil.copy(digest_seeded, db_path)
    config_path = no_source_config(tmp_path)
    config = load_config(config_path, env={})
    warehouse = Warehouse(db_path, lock_timeout=5, read_timeout=5)
    first = write_digest(config, warehouse, DAY, now=utc(31, 12))
    as_sent = first.markdown_path.read_bytes()
    late = tmp_path / "late.jsonl"
    late.write_text("".join(json.dumps(p) + "\n" for p in LATE_POSTS), encoding="utf-8")
    assert cli("--config", str(config_path), "import", str(late)).code == 0

    cycle = Scheduler(config, warehouse, clock=FixedClock(utc(31, 13)), mode="once").run_once()

    assert cycle.revisions == [(DAY, 2)] and cycle.digests == []
    versions = sql(
        warehouse,
        "SELECT version, markdown_path, changes FROM digest_versions WHERE day = ? ORDER BY 1",
        DAY,
    )
    assert [(v, Path(p).name) for v, p, _ in versions] == [
        (1, "digest-2026-01-30.md"),
        (2, "digest-2026-01-30.r2.md"),
    ]
    assert first.markdown_path.read_bytes() == as_sent  # the first, as sent, is kept
    changes = versions[1][2]
    offices = 'How many ICE/HSI offices ("stations") there are in Canada'
    assert changes == (
        f"ICE / HSI presence in Canada: posts: 18 → 21; {offices}: posts: 15 → 18;"
        f" {offices}, variant 5: posts: 10 → 13"
    )
    # the posts now counted are SQL's over the views for that day
    assert variant_counts_by_sql(warehouse, OFFICES, DAY_START, DAY_END)["5"][0] == 13
    latest = "SELECT version, markdown_path, changes FROM digests WHERE day = ?"
    assert sql(warehouse, latest, DAY) == [(2, versions[1][1], changes)]
    revised = Path(versions[1][1]).read_text(encoding="utf-8")
    assert revised.startswith(
        "# claimwatch digest: Friday 30 January 2026 (America/Toronto), revision 2\n"
    )
    assert "**Revision 2 of this digest: posts of the day were stored after the version written" \
        " 2026-01-31 07:00" in revised  # fmt: skip
    assert "21 posts mentioned its claims (9 the day before" in revised
    # nothing new since: no other revision
    again = Scheduler(config, warehouse, clock=FixedClock(utc(31, 14)), mode="once").run_once()
    assert again.revisions == []


def test_a_revised_day_before_revises_the_next_days_digest_so_both_agree(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    for day in (DAY - timedelta(days=1), DAY):
        write_digest(config, warehouse, day, now=utc(31, 12))
    late_on_29 = P("late-29", "x", "late", utc(29, 15), FIVE_TEXT.format("late"), 10)
    warehouse.write(Batch(posts=posts_table((late_on_29,))))
    analyze_warehouse(warehouse, config)
    assert days_to_revise(config, warehouse, 0) == [DAY - timedelta(days=1), DAY]

    revisions = [
        revise_digest(config, warehouse, day, now=utc(31, 14))
        for day in (DAY - timedelta(days=1), DAY)
    ]

    assert [r.version if r else None for r in revisions] == [2, 2]
    assert revisions[1] is not None and revisions[1].changes is not None
    assert "ICE / HSI presence in Canada: posts the day before: 9 → 10" in revisions[1].changes
    day_before = revisions[0].markdown_path.read_text(encoding="utf-8") if revisions[0] else ""
    day_of = revisions[1].markdown_path.read_text(encoding="utf-8")
    assert "10 posts mentioned its claims (" in day_before
    assert "mentioned its claims (10 the day before" in day_of
