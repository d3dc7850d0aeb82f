"""The dashboard's charts (Altair, shipped with Streamlit), in the display time zone.

Times reach the browser as the wall-clock time of the display zone encoded as UTC, on a UTC scale:
Vega-Lite would otherwise redraw them in the browser's own zone, and an analyst in Vancouver would
see other hours than one in Ottawa. The axis title names the zone. Tooltips carry times already
written out. Colours come from the Streamlit theme, so charts read in light and dark themes; the
correction marks use one red that reads on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import altair as alt
import polars as pl

from claims.marks import authority_names, correction_marks
from config import Authority
from dashboard.data.shared import Grain, bucket_of, fill_gaps

CORRECTION_RED = "#e4572e"
MEASURES = {
    "posts": "Posts",
    "authors": "Authors (distinct)",
    "reach": "Reach (followers + engagement)",
}


def wall_clock(frame: pl.DataFrame, column: str, tz: str) -> pl.DataFrame:
    """Add `<column>_wall` (the local time, encoded as UTC for a UTC scale) and `<column>_label`
    (the local time in words, with the zone's abbreviation)."""
    local = pl.col(column).dt.convert_time_zone(tz)
    return frame.with_columns(
        local.dt.replace_time_zone(None).dt.replace_time_zone("UTC").alias(f"{column}_wall"),
        local.dt.strftime("%Y-%m-%d %H:%M %Z").alias(f"{column}_label"),
    )


def _time_axis(field: str, tz: str, title: str | None = None, padding: int = 0) -> alt.X:
    """`padding`: pixels kept free at each end, so that a point on the first or last bucket
    (and a correction's mark on it) is drawn whole."""
    return alt.X(
        f"{field}:T",
        title=title or f"Time ({tz})",
        scale=alt.Scale(type="utc", padding=padding or alt.Undefined),
        axis=alt.Axis(format="%b %d %H:%M", labelAngle=0),
    )


def spread_chart(
    spread: pl.DataFrame,
    corrections: pl.DataFrame,
    *,
    measure: str,
    grain: Grain,
    tz: str,
    selectable: bool = True,
    authorities: Sequence[Authority] = (),
) -> alt.LayerChart | alt.FacetChart:
    """Spread over time per variant, the corrections on a strip above it (`correction_layers`).
    Clicking a point selects its bucket and variant (selection `point`, fields bucket_key and
    variant)."""
    data = wall_clock(fill_gaps(spread, grain, tz), "bucket", tz).with_columns(
        bucket_key=pl.col("bucket").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    unit = f"{MEASURES[measure]} per {grain}"
    shown = _shown(data)
    marks = placed_marks(corrections, data, grain=grain, tz=tz, authorities=authorities)
    # with corrections, the series leave the strip above them to the corrections
    # ("height": Streamlit fits the plot into the chart's height, less the axes)
    y_scale = alt.Scale(range=[alt.ExprRef("height"), STRIP + 6]) if marks.height else alt.Undefined
    base = alt.Chart(data).encode(
        x=_time_axis("bucket_wall", tz, padding=24),
        # counts: no tick between two whole numbers
        y=alt.Y(f"{measure}:Q", title=unit, scale=y_scale, axis=alt.Axis(tickMinStep=1)),
        color=_variant_color(data),
    )
    tooltip = [
        alt.Tooltip(f"{shown}:N", title="Variant"),
        alt.Tooltip("bucket_label:N", title=f"{grain.title()} starting"),
        alt.Tooltip("posts:Q", title="Posts", format=","),
        alt.Tooltip("authors:Q", title="Authors", format=","),
        alt.Tooltip("reach:Q", title="Reach", format=","),
    ]
    lines = base.mark_line()
    # points only where there were posts: those are what a click can open
    points = (
        base.mark_point(filled=True, size=70)
        .encode(tooltip=tooltip)
        .transform_filter(alt.datum.posts > 0)
    )
    if selectable:
        picked = alt.selection_point(name="point", fields=["bucket_key", "variant"], on="click")
        points = points.add_params(picked).encode(
            size=alt.condition(picked, alt.value(140), alt.value(60))
        )
    under, over = correction_layers(marks, grain=grain, tz=tz) if marks.height else ([], [])
    chart: alt.LayerChart | alt.FacetChart = alt.layer(lines, *under, points, *over).properties(
        height=HEIGHT
    )
    return chart


# --- the corrections' strip -----------------------------------------------------------------------
# Above the series, in pixels from the top of the plot: the community's corrections as bars of
# their count per bucket, then the labelled marks of authorities and fact-checkers on three
# staggered rows (neighbours in time on different rows, so their labels do not run into each
# other), their rules running down through the series.
HEIGHT = 420  # the chart, strip included
STRIP = 96
BAR_BASE, BAR_MAX = 40, 26
LANE_TOP, LANE_STEP = 54, 15  # the rows of labels (claims.marks.LANES of them)
LABEL_FLIP = 0.7  # a label right of this share of the time axis runs leftwards, inside the plot
LABEL_SIDES: tuple[tuple[Literal["left", "right"], int, bool], ...] = (
    ("left", 8, False),  # (align, dx, near_end)
    ("right", -8, True),
)


def placed_marks(
    corrections: pl.DataFrame,
    series: pl.DataFrame,
    *,
    grain: Grain,
    tz: str,
    authorities: Sequence[Authority] = (),
) -> pl.DataFrame:
    """The correction marks (`claims.marks.correction_marks`, in the chart's buckets) with where
    they go on the strip: `lane_y` for an authority's or fact-checker's mark,
    `bar_top` and a bar around its bucket for the community's, `near_end` for a label to flip.
    `series` is the chart's data (its `bucket_wall` gives the time axis's span)."""
    if corrections.height == 0:
        return pl.DataFrame()
    marks = correction_marks(corrections, bucket_of(grain, tz), authority_names(authorities))
    marks = wall_clock(wall_clock(marks, "bucket", tz), "first_at", tz)
    marks = wall_clock(marks, "last_at", tz).with_columns(
        at=pl.when(pl.col("corrections") == 1)
        .then(pl.col("first_at_label"))
        .otherwise(pl.col("first_at_label") + " to " + pl.col("last_at_label"))
    )
    walls = pl.concat([series.get_column("bucket_wall"), marks.get_column("bucket_wall")])
    start, end = walls.min(), walls.max()
    span = (pl.lit(end) - pl.lit(start)).dt.total_seconds()
    marks = marks.with_columns(
        near_end=(pl.col("bucket_wall") - pl.lit(start)).dt.total_seconds()
        > LABEL_FLIP * pl.max_horizontal(span, pl.lit(1))
    )
    return pl.concat(
        [
            marks.filter(pl.col("kind") != "community").with_columns(
                lane_y=LANE_TOP + pl.col("lane") * LANE_STEP
            ),
            _bars(marks.filter(pl.col("kind") == "community"), grain),
        ],
        how="diagonal_relaxed",
    )


def _bars(community: pl.DataFrame, grain: Grain) -> pl.DataFrame:
    """A bar per bucket, centred on it (where the series' points are), its height the count."""
    half = pl.duration(minutes=24 if grain == "hour" else 24 * 24)  # 0.4 of a bucket
    top = pl.col("corrections").max()
    return community.with_columns(
        bar_from=pl.col("bucket_wall") - half,
        bar_to=pl.col("bucket_wall") + half,
        bar_top=BAR_BASE - pl.max_horizontal(BAR_MAX * pl.col("corrections") / top, pl.lit(2)),
        bar_base=pl.lit(BAR_BASE),
        tallest=pl.col("corrections") == top,
    )


def correction_layers(
    marks: pl.DataFrame, *, grain: Grain, tz: str
) -> tuple[list[alt.Chart], list[alt.Chart]]:
    """The strip's layers: those drawn under the series' points (community bars and their count,
    the authorities' rules down the plot) and those over them (the flags and their labels)."""
    chart = alt.Chart(marks)
    x = _time_axis("bucket_wall", tz)
    strip_y = {"y": alt.Y("lane_y:Q", scale=None, axis=None, title=None)}
    community = alt.datum.kind == "community"
    starting = alt.Tooltip("bucket_label:N", title=f"{grain.title()} starting")
    bars = (
        chart.mark_bar(color=CORRECTION_RED, opacity=0.6)
        .encode(
            x=_time_axis("bar_from", tz),
            x2="bar_to:T",
            y=alt.Y("bar_top:Q", scale=None, axis=None, title=None),
            y2="bar_base:Q",
            tooltip=[
                alt.Tooltip("corrections:Q", title="Community corrections", format=","),
                starting,
                alt.Tooltip("who:N", title="By"),
                alt.Tooltip("at:N", title="At"),
            ],
        )
        .transform_filter(community)
    )
    count = (
        chart.mark_text(color=CORRECTION_RED, baseline="bottom", dy=-2, fontSize=11)
        .encode(x=x, y=alt.Y("bar_top:Q", scale=None, axis=None), text="corrections:Q")
        .transform_filter(community & alt.datum.tallest)
    )
    rules = (
        chart.mark_rule(color=CORRECTION_RED, strokeDash=[4, 3], strokeWidth=1)
        .encode(x=x, **strip_y, y2=alt.value("height"))
        .transform_filter(~community)
    )
    tooltip = [
        alt.Tooltip("label:N", title="Correction by"),
        starting,
        alt.Tooltip("corrections:Q", title="Posts"),
        alt.Tooltip("at:N", title="At"),
        alt.Tooltip("sources:N", title="Source"),
    ]
    flags = (
        chart.mark_point(filled=True, size=90, color=CORRECTION_RED, opacity=1)
        .encode(
            x=x,
            **strip_y,
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(
                    domain=["authority", "factcheck"], range=["triangle-down", "diamond"]
                ),
                legend=None,
            ),
            tooltip=tooltip,
        )
        .transform_filter(~community)
    )
    labels = [
        chart.mark_text(color=CORRECTION_RED, align=align, dx=dx, baseline="middle", fontSize=12)
        .encode(x=x, **strip_y, text="label:N", tooltip=tooltip)
        .transform_filter(~community & alt.datum.labelled & (alt.datum.near_end == flip))
        for align, dx, flip in LABEL_SIDES
    ]
    return [bars, count, rules], [flags, *labels]


def _shown(data: pl.DataFrame) -> str:
    """The column that names a variant to a reader: its label ("$1.3 billion"), when present."""
    return "shown" if "shown" in data.columns else "variant"


def _variant_color(data: pl.DataFrame) -> alt.Color:
    """A colour per variant, the legend in the order of their values ($4.5 billion before $34
    billion), the mentions without a value last."""
    shown = _shown(data)
    order = (
        data.select("variant", shown)
        .unique()
        .with_columns(pl.col("variant").cast(pl.Float64, strict=False).alias("_value"))
        .sort("_value", shown, nulls_last=True)
        .get_column(shown)
        .to_list()
    )
    return alt.Color(f"{shown}:N", title="Variant", sort=order)


def latest_point(spread: pl.DataFrame) -> tuple[datetime, str]:
    """The bucket and variant of the chart's latest point with posts (a spread has one): the
    latest bucket with posts, and the first of its variants (in key order) with posts."""
    point = spread.filter(pl.col("posts") > 0).sort(["bucket", "variant"], descending=[True, False])
    bucket: datetime = point.item(0, "bucket")
    variant: str = point.item(0, "variant")
    return bucket, variant


def per_source_chart(per_source: pl.DataFrame, *, grain: str, tz: str, by: str) -> alt.Chart:
    """Posts per source and bucket, stacked bars: a source that stops shows as a gap."""
    data = wall_clock(per_source, "bucket", tz).with_columns(
        # each bar as wide as its bucket: a single bucket is a bar, not a line of no width
        bucket_end=pl.col("bucket_wall") + pl.duration(hours=1 if grain == "hour" else 24)
    )
    what = "collected" if by == "collected_at" else "published"
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_time_axis("bucket_wall", tz, title=f"Time {what} ({tz})"),
            x2="bucket_end:T",
            y=alt.Y("posts:Q", title=f"Posts {what} per {grain}", stack=True),
            color=alt.Color("source:N", title="Source"),
            tooltip=[
                alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("bucket_label:N", title=f"{grain.title()} starting"),
                alt.Tooltip("posts:Q", title="Posts", format=","),
            ],
        )
        .properties(height=320)
    )
    return chart


def first_seen_chart(first: pl.DataFrame, tz: str) -> alt.Chart:
    """When each platform first saw the variant: one point per source on the time axis."""
    data = wall_clock(first, "first_seen", tz)
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_point(filled=True, size=120)
        .encode(
            x=_time_axis("first_seen_wall", tz, title=f"First seen ({tz})"),
            y=alt.Y("source:N", title="Source", sort=None),
            color=alt.Color("source:N", legend=None),
            tooltip=[
                alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("first_seen_label:N", title="First seen"),
                alt.Tooltip("first_author:N", title="By"),
                alt.Tooltip("posts:Q", title="Posts", format=","),
            ],
        )
        .properties(height=80 + 40 * max(first.height, 1))
    )
    return chart
