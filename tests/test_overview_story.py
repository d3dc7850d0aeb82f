"""The Overview tells the story (issue 15, item 3), on the dashboard's story warehouse
(tests/dashboard_story.py gives every number): the variants' race against the corrections, when
each variant was first seen and peaked, the first authority correction and each variant's spread
after it, the verified value beside the leading variant, authorities first in short lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import streamlit as st
from dashboard_story import CLAIM, CONFIG, OTHER, at, beat, build, vega_charts
from streamlit.testing.v1 import AppTest

from config import load_config
from dashboard.data.overview import OverviewData, overview_page, race_grain, short_list
from dashboard.data.shared import NO_VARIANT, Scope
from warehouse import Warehouse

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
TZ = "America/Toronto"
EMBASSY_POST = datetime(2026, 1, 30, 17, tzinfo=UTC)  # the seed's date, at noon in Toronto


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build(tmp_path_factory.mktemp("overview") / "claimwatch.duckdb")


@pytest.fixture(scope="module")
def data(story: Warehouse) -> OverviewData:
    config = load_config(CONFIG)
    authorities = [a for claim in config.claims.values() for a in claim.corrections.authorities]
    with story.reading() as con:
        return overview_page(con, Scope((CLAIM, OTHER)), at(240), TZ, authorities)


def of(frame: pl.DataFrame, claim_id: str) -> pl.DataFrame:
    return frame.filter(pl.col("claim_id") == claim_id)


def by_variant(frame: pl.DataFrame, *columns: str) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in frame.select("variant", *columns).iter_rows()}


# --- the numbers ------------------------------------------------------------------------------


def test_the_first_authority_correction_is_the_embassys(data: OverviewData) -> None:
    turn = of(data.turns, OTHER).row(0, named=True)
    assert (turn["turn_kind"], turn["turn_by"], turn["turn_handle"], turn["turn_source"]) == (
        "authority",
        "U.S. Embassy Ottawa",  # the config's name for @usembassyottawa
        "usembassyottawa",
        "x",
    )
    assert turn["turn_at"] == EMBASSY_POST
    claims = data.claims.sort("claim_id").select("claim_id", "first_authority_by")
    assert claims.rows() == [(OTHER, "U.S. Embassy Ottawa"), (CLAIM, None)]


def test_a_claim_no_authority_corrected_turns_at_its_first_fact_check(
    data: OverviewData,
) -> None:
    turn = of(data.turns, CLAIM).row(0, named=True)
    # dailyhive's community correction came a day earlier: a fact-check outranks it
    assert (turn["turn_kind"], turn["turn_by"], turn["turn_at"]) == ("factcheck", "afp", at(90))
    assert turn["turn_url"] == "https://example.org/factcheck/s10"


def test_first_seen_and_peak_of_each_variant(data: OverviewData) -> None:
    assert data.grain == "hour"  # the story spans less than a week
    variants = by_variant(of(data.variants, CLAIM), "first_seen", "peak", "peak_posts")
    assert variants == {
        "4": (utc(27, 17), utc(31, 12), 2),  # s1 and s2 at 12:xx; s8 and g1 tie at 15:xx, later
        "5": (utc(28, 17), utc(31, 13), 2),  # b1 and afp
        NO_VARIANT: (utc(29, 17), utc(29, 17), 1),
    }


def test_each_variants_spread_before_and_after_the_turn(data: OverviewData) -> None:
    """After afp's fact-check (T+1h30): of "4", s6, s8 and g1 (3 of 7) in the 2 hours to the
    claim's last post; before it, 4 posts in the 92.5 hours from Jan 27 17:00 UTC (noon in
    Toronto)."""
    variants = by_variant(
        of(data.variants, CLAIM), "share_after_correction", "rate_before", "rate_after"
    )
    assert variants["4"] == pytest.approx((3 / 7, 4 / 92.5, 3 / 2))
    assert variants["5"] == pytest.approx((2 / 5, 3 / 68.5, 2 / 2))  # afp itself counts after


def test_the_turn_at_the_first_correction_agrees_with_variant_summary(
    story: Warehouse, data: OverviewData
) -> None:
    """The embassy's correction is also the other claim's first of any kind, so there the
    numbers are the view's own."""
    with story.reading() as con:
        view = con.execute(
            "SELECT share_after_correction, rate_before, rate_after FROM variant_summary"
            " WHERE claim_id = ?",
            [OTHER],
        ).fetchall()
    mine = of(data.variants, OTHER).select("share_after_correction", "rate_before", "rate_after")
    assert mine.rows() == view == [(1.0, None, None)]


def test_the_race_counts_each_variant_and_the_corrections_so_far(data: OverviewData) -> None:
    race = of(data.race, CLAIM)
    final = race.group_by("series", "variant").agg(pl.col("so_far").last(), pl.len())
    # the mentions without a value are no side of a race between values
    assert sorted(final.select("series", "variant", "so_far").rows(), key=str) == sorted(
        [("variant", "4", 7), ("variant", "5", 5), ("corrections", None, 2)], key=str
    )
    # every hour of the axis, quiet ones included: Jan 27 17:00 to Jan 31 15:00 UTC
    assert set(final.get_column("len")) == {3 * 24 + 23}
    rising = race.group_by("series", "variant").agg(pl.col("so_far").diff().min())
    assert rising.get_column("so_far").min() == 0  # never falls


def test_a_claim_without_variants_races_its_mentions(data: OverviewData) -> None:
    final = of(data.race, OTHER).group_by("series", "variant").agg(pl.col("so_far").last())
    assert sorted(final.rows(), key=str) == sorted(
        [("variant", NO_VARIANT, 2), ("corrections", None, 2)], key=str
    )


def test_short_lists_put_authorities_then_fact_checks_first_each_newest_first() -> None:
    rows = [
        ("community", "newest", utc(31, 9)),
        ("authority", "embassy", utc(30, 1)),
        ("factcheck", "afp", utc(30, 5)),
        ("community", "older", utc(29)),
        ("authority", "ice", utc(30, 3)),
    ]
    corrections = pl.DataFrame(
        [(CLAIM, kind, who, when, "x", None, None, who, f"x:{who}") for kind, who, when in rows],
        schema=[
            *("claim_id", "kind", "who", "created_at", "source", "variant", "url"),
            *("author_handle", "post_uid"),
        ],
        orient="row",
    )
    assert short_list(corrections).get_column("who").to_list() == [
        "ice",
        "embassy",
        "afp",
        "newest",
        "older",
    ]


def test_the_embassys_correction_heads_the_other_claims_list(data: OverviewData) -> None:
    """Both at the same moment: the authority's first, whatever the post ids say."""
    listed = of(data.corrections, OTHER).select("kind", "who").rows()
    assert listed == [("authority", "U.S. Embassy Ottawa"), ("community", "dailyhive")]


def test_a_story_longer_than_a_week_races_by_day() -> None:
    week = pl.DataFrame({"created_at": [utc(1), utc(8)]})
    month = pl.DataFrame({"created_at": [utc(1), utc(8, 0, 1)]})
    assert (race_grain(week), race_grain(month)) == ("hour", "day")


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def page(story: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("CLAIMWATCH_DB", str(story.path))
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(CONFIG))
    beat(story)
    st.cache_data.clear()
    at_ = AppTest.from_file(str(APP), default_timeout=60)
    at_.run()
    assert not at_.exception, [e.value for e in at_.exception]
    yield at_
    st.cache_data.clear()


def test_the_overview_draws_each_claims_race(page: AppTest) -> None:
    drawn = vega_charts(page)
    assert len(drawn) == 2  # one per claim
    spec, tables = drawn[0]  # ice-offices-canada, the first claim of the config
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Posts so far"
    assert spec["layer"][0]["mark"]["interpolate"] == "step-after"
    race = [r for t in tables if "so_far" in t.column_names for r in t.to_pylist()]
    final = {r["shown"]: r["so_far"] for r in race if r["end"]}
    assert final == {"4": 7, "5 (verified)": 5, "corrections": 2}
    # the fact-check is a labelled mark above the curves
    marks = next(t for t in tables if "label" in t.column_names)
    assert marks.column("label").to_pylist() == ["afp (factcheck)"]


def test_the_overview_names_the_authority_with_a_link_where_there_is_one(page: AppTest) -> None:
    shown = "\n".join(str(t.value) for t in page.text)
    assert "U.S. Embassy Ottawa (@usembassyottawa on x)\n2026-01-30 12:00 EST" in shown
    headings = [m.value for m in page.markdown]
    assert "**First authority correction**" in headings
    assert "**No authority correction yet. First fact-check**" in headings
    links = [b.proto.url for b in page.get("link_button")]
    assert links == ["https://example.org/factcheck/s10"]  # afp's; the embassy's has none


def test_the_verified_value_stands_beside_the_leading_variant(page: AppTest) -> None:
    leading = [m.value for m in page.metric if m.label == "Leading variant"]
    assert leading == ["4", "—"]  # the other claim has no value to lead
    assert "7 posts · verified value: 5" in [c.value for c in page.caption]


def test_metric_values_stay_short(page: AppTest) -> None:
    """The time and who of the latest correction go under its metric, which shows the day."""
    latest = [m.value for m in page.metric if m.label == "Latest correction"]
    assert latest == ["Jan 31", "Jan 30"]
    assert "08:30 EST by afp (factcheck)" in [str(t.value) for t in page.text]
