"""Corrections that can be read: grouped into a few marks (claims/marks.py), drawn so on the Claim
page's chart (dashboard/charts.py) and on the digest's PNG (digest/chart.py), which agree.

The crowd (`add_crowd`): the dashboard's story (tests/dashboard_story.py) plus, on the day after,
200 community corrections of ice-offices-canada within one hour (17:00-18:00 UTC) and two by the
U.S. Embassy in that same hour. tests/test_dashboard_browser.py serves it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dashboard_story import CLAIM, CONFIG, T, app_on, build, vega_charts, write_posts
from digest_story import story_config
from streamlit.testing.v1 import AppTest

from claims.marks import authority_names, correction_marks
from config import Authority, load_config
from dashboard import charts
from dashboard.charts import placed_marks, wall_clock
from digest import chart
from digest.report import DayReport, build_report
from warehouse import Warehouse

TZ = "America/Toronto"
HOUR = datetime(2026, 1, 31, 17, tzinfo=UTC)  # the crowd's hour (12:00 in Toronto)
EMBASSY = Authority(source="x", handle="usembassyottawa", name="U.S. Embassy Ottawa")
CROWD = 200


def fixes(*rows: tuple[str, str, str, datetime]) -> pl.DataFrame:
    """Corrections as the dashboard's facts have them: kind, author_handle, source, created_at."""
    return pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "author_handle": pl.String,
            "source": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def crowd_rows(at: datetime = HOUR) -> list[tuple[str, str, str, datetime]]:
    """CROWD community corrections by as many accounts within the hour from `at`."""
    return [
        ("community", f"fixer{i}", "mastodon", at + timedelta(seconds=17 * i)) for i in range(CROWD)
    ]


def hourly(frame: pl.DataFrame, names: pl.DataFrame | None = None) -> pl.DataFrame:
    return correction_marks(frame, pl.col("created_at").dt.truncate("1h"), names)


# --- the grouping ---------------------------------------------------------------------------------


def test_two_hundred_community_corrections_in_one_hour_are_one_count() -> None:
    marks = hourly(fixes(*crowd_rows()))
    assert marks.select("kind", "bucket", "corrections").rows() == [("community", HOUR, CROWD)]
    assert marks.item(0, "label") == "fixer0, fixer1, fixer2 and 197 more (community)"
    assert marks.item(0, "labelled") is False  # a count, never a label per post


def test_two_corrections_by_one_authority_in_one_bucket_are_one_labelled_mark() -> None:
    marks = hourly(
        fixes(
            ("authority", "usembassyottawa", "x", HOUR + timedelta(minutes=5)),
            ("authority", "USEmbassyOttawa", "x", HOUR + timedelta(minutes=50)),
            ("authority", "usembassyottawa", "x", HOUR + timedelta(hours=3)),  # a later hour
        ),
        authority_names([EMBASSY]),
    )
    assert marks.select("label", "bucket", "corrections", "first_at", "last_at").rows() == [
        (
            "U.S. Embassy Ottawa (authority)",
            HOUR,
            2,
            HOUR + timedelta(minutes=5),
            HOUR + timedelta(minutes=50),
        ),
        (
            "U.S. Embassy Ottawa (authority)",
            HOUR + timedelta(hours=3),
            1,
            *[HOUR + timedelta(hours=3)] * 2,
        ),
    ]
    assert marks.get_column("labelled").to_list() == [True, True]


def test_a_fact_check_is_named_by_its_publisher_else_its_handle() -> None:
    frame = fixes(
        ("factcheck", "factcheck.afp.com", "factcheck", HOUR),
        ("factcheck", "politifact.com", "factcheck", HOUR),
    ).with_columns(author_name=pl.Series(["AFP Fact Check", None]))
    assert hourly(frame).get_column("label").to_list() == [
        "AFP Fact Check (factcheck)",
        "politifact.com (factcheck)",
    ]


def test_authority_marks_come_first_in_any_short_list() -> None:
    early = HOUR - timedelta(days=1)
    marks = hourly(
        fixes(
            *crowd_rows(early),  # the community corrected first
            ("factcheck", "afp", "factcheck", HOUR),
            ("authority", "usembassyottawa", "x", HOUR + timedelta(hours=2)),
        ),
        authority_names([EMBASSY]),
    )
    assert marks.head(2).get_column("kind").to_list() == ["authority", "factcheck"]
    assert marks.get_column("kind").to_list() == ["authority", "factcheck", "community"]


def test_labels_take_turns_on_three_rows_and_the_first_six_are_labelled() -> None:
    """Eight fact-checks an hour apart, then an authority in the last hour: neighbours in time
    are on different rows; the authority is labelled before any fact-check."""
    rows = [("factcheck", f"site{i}", "factcheck", HOUR + timedelta(hours=i)) for i in range(8)]
    marks = hourly(fixes(*rows, ("authority", "ICEgov", "x", HOUR + timedelta(hours=8))))
    along = marks.sort("bucket")
    assert along.get_column("lane").to_list() == [0, 1, 2, 0, 1, 2, 0, 1, 2]
    assert marks.filter("labelled").get_column("who").to_list() == [
        "ICEgov",
        "site0",
        "site1",
        "site2",
        "site3",
        "site4",
    ]


# --- the Claim page's chart -----------------------------------------------------------------------


def add_crowd(warehouse: Warehouse) -> None:
    """The crowd of the module's docstring, as the analysis would have stored it."""
    minutes = (HOUR - T) / timedelta(minutes=1)
    posts = [
        ("mastodon", f"fix{i}", handle, minutes + (at - HOUR) / timedelta(minutes=1), "5",
         "corrects", f"It is 5 offices, not 4 ({i})", {})
        for i, (_, handle, _, at) in enumerate(crowd_rows())
    ] + [
        ("x", f"embassy{i}", "usembassyottawa", minutes + late, "5", "corrects",
         f"HSI has personnel at the embassy and four consulates ({i})", {})
        for i, late in enumerate((5, 50))
    ]  # fmt: skip
    write_posts(warehouse, posts)
    kinds = ["community"] * CROWD + ["authority"] * 2
    with warehouse.writing() as con:
        con.execute(
            "INSERT INTO store.corrections SELECT uid, ?, '5', kind, 'v1', now()"
            " FROM (SELECT unnest(?) AS uid, unnest(?) AS kind)",
            [CLAIM, [f"{p[0]}:{p[1]}" for p in posts], kinds],
        )


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    warehouse = build(tmp_path_factory.mktemp("crowd") / "claimwatch.duckdb")
    add_crowd(warehouse)
    return warehouse


@pytest.fixture
def app(crowded: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    yield from app_on(crowded, monkeypatch)


def claim_chart(app: AppTest, grain: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Claim page's chart of CLAIM by `grain`, and the rows of its corrections' marks."""
    app.query_params.update({"claim": CLAIM})
    app.run()
    app.switch_page("screens/claim.py").run()
    app.radio(key="grain").set_value(grain).run()
    assert not app.exception, [e.value for e in app.exception]
    spec, tables = vega_charts(app)[0]
    marks = [t for t in tables if "lane_y" in t.column_names]
    assert len(marks) == 1
    return spec, marks[0].to_pylist()


@pytest.mark.parametrize("grain", ["hour", "day"])
def test_the_claim_chart_draws_a_few_marks_for_two_hundred_corrections(
    app: AppTest, grain: str
) -> None:
    spec, marks = claim_chart(app, grain)
    flags = [m for m in marks if m["kind"] != "community"]
    # the embassy's two posts are one mark; afp's fact-check the other
    assert sorted((m["label"], m["corrections"]) for m in flags) == [
        ("U.S. Embassy Ottawa (authority)", 2),
        ("afp (factcheck)", 1),
    ]
    assert all(m["labelled"] for m in flags)
    # the crowd is one count (its hour or day holds nothing else of the community's)
    crowd = [m for m in marks if m["kind"] == "community"]
    assert sorted(m["corrections"] for m in crowd) == [1, CROWD]  # dailyhive's, and the crowd
    assert len(marks) == 4  # each layer of the corrections draws one mark per row at most
    assert spec["layer"][0]["encoding"]["y"]["title"] == f"Posts per {grain}"


def test_the_claims_points_still_select_a_bucket(app: AppTest) -> None:
    """The click selection is the series' points', whatever the corrections' layers add."""
    spec, _ = claim_chart(app, "hour")
    [picked] = spec["params"]
    assert (picked["name"], picked["select"]["fields"]) == ("point", ["bucket_key", "variant"])
    [view] = [layer for layer in spec["layer"] if layer.get("name") in picked["views"]]
    assert view["mark"]["type"] == "point"
    assert view["transform"] == [{"filter": "(datum.posts > 0)"}]


def test_the_corrections_strip_is_above_the_series(app: AppTest) -> None:
    """The series' scale ends below the strip, so no flag, label or bar sits on a point."""
    spec, marks = claim_chart(app, "day")
    bottom, top = spec["layer"][0]["encoding"]["y"]["scale"]["range"]
    assert (bottom, top) == ({"expr": "height"}, charts.STRIP + 6)
    assert all((m["lane_y"] or m["bar_base"]) < charts.STRIP for m in marks)


# --- the digest's PNG -----------------------------------------------------------------------------


@pytest.fixture
def report(digest_warehouse: Warehouse, tmp_path: Path) -> DayReport:
    config = story_config(tmp_path)
    day = date(2026, 1, 30)
    return build_report(config, digest_warehouse, day, now=datetime(2026, 1, 31, 12, tzinfo=UTC))


def digest_crowd(report: DayReport) -> pl.DataFrame:
    """The report's corrections, and CROWD more community ones and two by the embassy within
    the hour from 15:00 in Toronto."""
    at = report.start + timedelta(hours=15)
    more = [
        ("ice-offices-canada", kind, handle, None, source, when)
        for kind, handle, source, when in crowd_rows(at)
    ] + [
        ("ice-offices-canada", "authority", "usembassyottawa", "U.S. Embassy Ottawa", "x",
         at + timedelta(minutes=m))
        for m in (5, 50)
    ]  # fmt: skip
    extra = pl.DataFrame(more, schema=chart.MARK_COLUMNS, orient="row")
    return pl.concat([chart.listed_corrections(report), extra])


def correction_rows(spec: dict[str, Any], claim_id: str = "ice-offices-canada") -> list[Any]:
    title = {"ice-offices-canada": "How many ICE/HSI offices"}[claim_id]
    return [
        (r["kind"], r["label"], r["hour"], r["corrections"])
        for r in spec["data"]["values"]
        if r["row"] == "correction" and r["claim"].startswith(title)
    ]


def test_the_digest_png_renders_its_corrections_grouped(report: DayReport) -> None:
    crowd = digest_crowd(report)
    rows = correction_rows(chart.spec(report, crowd))
    assert rows == [
        ("authority", "U.S. Embassy Ottawa (authority)", 15.0, 2),
        ("community", "dailyhive (community)", 13.0, 1),  # listed by the report
        ("community", "fixer0, fixer1, fixer2 and 197 more (community)", 15.0, CROWD),
    ]
    png = chart.spread_chart(report, crowd)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_the_digest_says_when_it_charts_only_the_community_corrections_it_lists(
    report: DayReport,
) -> None:
    offices = report.topics[0].claims[0]
    more = dataclasses.replace(offices, correction_counts={"community": 50})
    topic = dataclasses.replace(report.topics[0], claims=[more, *report.topics[0].claims[1:]])
    told = dataclasses.replace(report, topics=[topic])
    subtitle = chart.spec(told)["title"]["subtitle"]
    assert f"{offices.title}: 1 of the day's 50 community corrections charted" in subtitle[-1]
    assert len(chart.spec(report)["title"]["subtitle"]) == 2  # all of them charted: no such line


def test_the_digest_and_the_claim_chart_group_alike(report: DayReport) -> None:
    """The same corrections, by the hour in Toronto: the same marks, the same counts."""
    crowd = digest_crowd(report).filter(pl.col("claim_id") == "ice-offices-canada")
    digest = sorted((k, label, n) for k, label, _, n in correction_rows(chart.spec(report, crowd)))
    series = wall_clock(pl.DataFrame({"bucket": [report.start]}), "bucket", TZ)
    names = load_config(CONFIG).claims[CLAIM].corrections.authorities
    dashboard = placed_marks(crowd, series, grain="hour", tz=TZ, authorities=names)
    assert digest == sorted(dashboard.select("kind", "label", "corrections").rows())
