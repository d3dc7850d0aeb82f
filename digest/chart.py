"""The day's spread chart: posts per hour of each variant (stacked bars), one panel per claim, with
the day's corrections on a strip above the bars, grouped as the dashboard's Claim chart groups them
(`claims.marks`): an authority's or a fact-checker's as a labelled mark per hour, the community's as
a bar of their count per hour, its number written above it. A Vega-Lite spec rendered to PNG by
vl-convert, offline.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import vl_convert

from claims.marks import correction_marks
from digest.report import DayReport

WIDTH = 640
PANEL_HEIGHT = 240  # strip included
SCALE = 2  # pixels per point: sharp on high-density screens and in mail clients that scale
# the strip, in pixels from the top of a panel: the community's bars, then three rows of labels
STRIP = 80
BAR_BASE, BAR_MAX = 34, 22
LANE_TOP, LANE_STEP = 46, 13
LABEL_FLIP = 0.7  # a label right of this share of the day runs leftwards, inside the panel
RED = "#cf222e"
# Tableau 10 without its red, which is the corrections' colour
VARIANT_COLOURS = ["#4c78a8", "#f58518", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
                   "#9d755d", "#bab0ac"]  # fmt: skip
MARK_COLUMNS = pl.Schema(
    {
        "claim_id": pl.String(),
        "kind": pl.String(),
        "author_handle": pl.String(),
        "author_name": pl.String(),
        "source": pl.String(),
        "created_at": pl.Datetime("us", "UTC"),
    }
)


def spread_chart(report: DayReport, corrections: pl.DataFrame | None = None) -> bytes:
    """The chart as PNG bytes (`corrections`: as `spec` takes them)."""
    return vl_convert.vegalite_to_png(spec(report, corrections), scale=SCALE)


def spec(report: DayReport, corrections: pl.DataFrame | None = None) -> dict[str, Any]:
    """The Vega-Lite spec. `corrections`: the day's corrections (columns of MARK_COLUMNS), by
    default those the report lists (`listed_corrections`)."""
    listed = listed_corrections(report) if corrections is None else corrections
    rows = _rows(report, listed)
    counts = [r for r in rows if r["row"] == "count"]
    if not counts:
        return _empty(report)
    x_title = f"hour of the day ({report.timezone})"
    x = {
        "field": "hour",
        "type": "quantitative",
        "title": x_title,
        "scale": {"domain": [0, report.hours]},
        # no grid: Vega-Lite would draw it the height of the posts' range from the panel's top
        "axis": {"tickMinStep": 1, "values": list(range(0, report.hours + 1, 3)), "grid": False},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {
            "text": f"Posts per hour of each variant, {report.day.isoformat()}",
            "subtitle": _subtitle(report, rows),
            "subtitleColor": "#656d76",
        },
        "data": {"values": rows},
        "facet": {"row": {"field": "claim", "type": "nominal", "title": None,
                          "header": {"labelAngle": 0, "labelAlign": "left", "labelAnchor": "start",
                                     "labelOrient": "top", "labelFontWeight": "bold"}}},
        "spec": {
            "width": WIDTH,
            "height": PANEL_HEIGHT,
            "layer": [
                {
                    "transform": [{"filter": "datum.row === 'count'"}],
                    "mark": {"type": "bar", "stroke": "white", "strokeWidth": 0.5},
                    "encoding": {
                        "x": x | {"bin": {"binned": True, "step": 1}},
                        "x2": {"field": "hour_end"},
                        "y": {
                            "field": "posts",
                            "type": "quantitative",
                            "title": "posts",
                            "stack": "zero",
                            "axis": {"values": _count_ticks(counts), "format": "d"},
                            # the strip above is the corrections'
                            "scale": {"range": [PANEL_HEIGHT, STRIP + 4]},
                        },
                        "color": {"field": "variant", "type": "nominal", "title": "variant",
                                  "scale": {"range": VARIANT_COLOURS}},
                        "order": {"field": "variant"},
                    },
                },
                _rules(x),
                *_strip(x),
            ],
        },
        "resolve": {"scale": {"y": "independent"}},
        "config": {"font": "sans-serif"},
    }  # fmt: skip


def _count_ticks(counts: list[dict[str, Any]]) -> list[int]:
    """Whole numbers only on the posts axis (at most about 6 ticks): Vega would put 0.5 between
    0 and 1; the panels' scales differ, and each shows the ticks inside its own."""
    totals: dict[tuple[str, int], int] = {}
    for row in counts:
        key = (row["claim"], row["hour"])
        totals[key] = totals.get(key, 0) + row["posts"]
    top = max(totals.values(), default=1) or 1
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def listed_corrections(report: DayReport) -> pl.DataFrame:
    """The corrections the report lists (`ClaimDay.corrections`: at most CORRECTIONS_LISTED per
    claim, authorities and fact-checks first), one row each, as `spec` takes them."""
    rows = [
        (c.claim_id, c.kind, c.author_handle, c.author_name, c.source, c.created_at)
        for topic in report.topics
        for claim in topic.claims
        for c in claim.corrections
    ]
    return pl.DataFrame(rows, schema=MARK_COLUMNS, orient="row")


def _rows(report: DayReport, corrections: pl.DataFrame) -> list[dict[str, Any]]:
    titles = {c.claim_id: c.title for t in report.topics for c in t.claims}
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for hour in report.hourly:
        label = "(no value)" if hour.variant is None else hour.variant
        counts.setdefault((hour.claim_id, label), {})[hour.hour] = hour.posts
    rows: list[dict[str, Any]] = []
    for (claim_id, variant), by_hour in counts.items():
        rows += [
            {
                "row": "count",
                "claim": titles.get(claim_id, claim_id),
                "variant": variant,
                "hour": hour,
                "hour_end": hour + 1,
                "posts": by_hour.get(hour, 0),
            }
            for hour in range(report.hours)
        ]
    charted = [claim_id for claim_id, _ in counts]
    day = corrections.filter(pl.col("claim_id").is_in(charted))
    return rows + _mark_rows(report, day, titles)


def _mark_rows(
    report: DayReport, corrections: pl.DataFrame, titles: dict[str, str]
) -> list[dict[str, Any]]:
    """The correction marks of every panel (rows "correction"), placed on its strip; their
    `hour` is the hour of the day they fall in, as the posts' (the digest's hourly counts)."""
    if corrections.height == 0:
        return []
    hour = (pl.col("created_at") - pl.lit(report.start)).dt.total_microseconds() // 3_600_000_000
    marks = correction_marks(corrections, hour.cast(pl.Int64), per=["claim_id"])
    community = pl.col("kind") == "community"
    tallest = pl.col("corrections").filter(community).max().over("claim_id")
    placed = marks.select(
        row=pl.lit("correction"),
        claim=pl.col("claim_id").replace_strict(titles, default=pl.col("claim_id")),
        kind="kind",
        label="label",
        corrections="corrections",
        hour=pl.col("bucket").cast(pl.Float64),
        hour_mid=pl.col("bucket") + 0.5,
        bar_from=pl.col("bucket") + 0.12,
        bar_to=pl.col("bucket") + 0.88,
        lane_y=LANE_TOP + pl.col("lane") * LANE_STEP,
        labelled="labelled",
        near_end=pl.col("bucket") > LABEL_FLIP * report.hours,
        bar_top=BAR_BASE
        - pl.max_horizontal(BAR_MAX * pl.col("corrections") / tallest, pl.lit(2.0)),
        bar_base=pl.lit(BAR_BASE),
        panel_bottom=pl.lit(PANEL_HEIGHT),
    )
    return placed.to_dicts()


FLAG = "datum.row === 'correction' && datum.kind !== 'community'"
CROWD = "datum.row === 'correction' && datum.kind === 'community'"
PIXELS = {"type": "quantitative", "scale": None, "axis": None, "title": None}  # y in pixels


def _rules(x: dict[str, Any]) -> dict[str, Any]:
    """The authorities' and fact-checkers' rules, from their flag down the panel."""
    return {
        "transform": [{"filter": FLAG}],
        "mark": {"type": "rule", "strokeDash": [4, 3], "color": RED, "strokeWidth": 1},
        "encoding": {
            "x": x | {"field": "hour_mid"},
            "y": {"field": "lane_y"} | PIXELS,
            "y2": {"field": "panel_bottom"},
        },
    }


def _strip(x: dict[str, Any]) -> list[dict[str, Any]]:
    """The strip's flags with their labels, and the community's bars with their count."""
    at = x | {"field": "hour_mid"}
    pixels = PIXELS
    lane = {"field": "lane_y"} | pixels
    flag, crowd = FLAG, CROWD
    labels = [
        {
            "transform": [{"filter": f"{flag} && datum.labelled && datum.near_end === {flip}"}],
            "mark": {
                "type": "text",
                "align": align,
                "dx": dx,
                "baseline": "middle",
                "fontSize": 10,
                "color": RED,
            },
            "encoding": {"x": at, "y": lane, "text": {"field": "label"}},
        }
        for align, dx, flip in (("left", 6, "false"), ("right", -6, "true"))
    ]
    return [
        {
            "transform": [{"filter": flag}],
            "mark": {"type": "point", "filled": True, "size": 50, "color": RED, "opacity": 1},
            "encoding": {
                "x": at,
                "y": lane,
                "shape": {"field": "kind", "type": "nominal", "legend": None,
                          "scale": {"domain": ["authority", "factcheck"],
                                    "range": ["triangle-down", "diamond"]}},
            },
        },
        *labels,
        {
            "transform": [{"filter": crowd}],
            "mark": {"type": "bar", "color": RED, "opacity": 0.6},
            "encoding": {
                "x": x | {"field": "bar_from"},
                "x2": {"field": "bar_to"},
                "y": {"field": "bar_top"} | pixels,
                "y2": {"field": "bar_base"},
            },
        },
        {
            "transform": [{"filter": crowd}],
            "mark": {"type": "text", "baseline": "bottom", "dy": -1, "fontSize": 9, "color": RED},
            "encoding": {"x": at, "y": {"field": "bar_top"} | pixels,
                         "text": {"field": "corrections", "type": "quantitative"}},
        },
    ]  # fmt: skip


def _subtitle(report: DayReport, rows: list[dict[str, Any]]) -> list[str]:
    """What the strip shows, and for a claim whose community corrections the chart has only in
    part (the report lists a few), how many it shows."""
    shown: dict[str, int] = {}
    for r in rows:
        if r["row"] == "correction" and r["kind"] == "community":
            shown[r["claim"]] = shown.get(r["claim"], 0) + r["corrections"]
    lines = [
        "Above each panel, the corrections: triangles an authority's, diamonds a fact-checker's"
        " (who made it);",
        "red bars the community's per hour, their count above.",
    ]
    for claim in (c for t in report.topics for c in t.claims):
        day = claim.correction_counts.get("community", 0)
        if claim.title in shown and shown[claim.title] < day:
            lines.append(
                f"{claim.title}: {shown[claim.title]} of the day's {day} community corrections"
                " charted (those the digest lists)."
            )
    return lines


def _empty(report: DayReport) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Posts per hour of each variant, {report.day.isoformat()}",
        "width": WIDTH,
        "height": PANEL_HEIGHT,
        "data": {"values": [{"text": "No post mentioned a claim on this day."}]},
        "mark": {"type": "text", "fontSize": 14, "color": "#656d76"},
        "encoding": {"text": {"field": "text"}},
    }
