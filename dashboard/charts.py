"""The dashboard's charts (Altair, shipped with Streamlit), in the display time zone.

Times reach the browser as the wall-clock time of the display zone encoded as UTC, on a UTC scale:
Vega-Lite would otherwise redraw them in the browser's own zone, and an analyst in Vancouver would
see other hours than one in Ottawa. The axis title names the zone. Tooltips carry times already
written out. Colours come from the Streamlit theme, so charts read in light and dark themes; the
correction marks use one red that reads on both.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.data.shared import Grain, fill_gaps

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


def _time_axis(field: str, tz: str, title: str | None = None) -> alt.X:
    return alt.X(
        f"{field}:T",
        title=title or f"Time ({tz})",
        scale=alt.Scale(type="utc"),
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
) -> alt.LayerChart | alt.FacetChart:
    """Spread over time per variant, each correction a dashed rule labelled with who made it.
    Clicking a point selects its bucket and variant (selection `point`, fields bucket_key and
    variant)."""
    data = wall_clock(fill_gaps(spread, grain, tz), "bucket", tz).with_columns(
        bucket_key=pl.col("bucket").dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    unit = f"{MEASURES[measure]} per {grain}"
    shown = _shown(data)
    base = alt.Chart(data).encode(
        x=_time_axis("bucket_wall", tz),
        y=alt.Y(f"{measure}:Q", title=unit),
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
    layers: list[alt.Chart] = [lines, points]
    if corrections.height:
        marks = wall_clock(corrections, "created_at", tz).with_columns(
            label=pl.col("author_handle").fill_null("?") + " (" + pl.col("kind") + ")"
        )
        rule = (
            alt.Chart(marks)
            .mark_rule(color=CORRECTION_RED, strokeDash=[5, 3], strokeWidth=1.5)
            .encode(
                x=_time_axis("created_at_wall", tz),
                tooltip=[
                    alt.Tooltip("label:N", title="Correction by"),
                    alt.Tooltip("created_at_label:N", title="At"),
                    alt.Tooltip("source:N", title="Source"),
                ],
            )
        )
        text = (
            alt.Chart(marks)
            .mark_text(color=CORRECTION_RED, angle=270, align="right", baseline="bottom", dx=-4)
            .encode(x=_time_axis("created_at_wall", tz), y=alt.value(4), text="label:N")
        )
        layers += [rule, text]
    chart: alt.LayerChart | alt.FacetChart = alt.layer(*layers).properties(height=360)
    return chart


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


def spark(daily: pl.DataFrame, tz: str) -> alt.Chart:
    """A small daily spread chart of one claim, a line per variant."""
    data = wall_clock(fill_gaps(daily, "day", tz), "bucket", tz)
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=_time_axis("bucket_wall", tz, title=f"Day ({tz})"),
            y=alt.Y("posts:Q", title="Posts per day"),
            color=_variant_color(data),
            tooltip=[
                alt.Tooltip(f"{_shown(data)}:N", title="Variant"),
                alt.Tooltip("bucket_label:N", title="Day starting"),
                alt.Tooltip("posts:Q", title="Posts", format=","),
            ],
        )
        .properties(height=140)
    )
    return chart


def per_source_chart(per_source: pl.DataFrame, *, grain: str, tz: str, by: str) -> alt.Chart:
    """Posts per source and bucket, stacked bars: a source that stops shows as a gap."""
    data = wall_clock(per_source, "bucket", tz)
    what = "collected" if by == "collected_at" else "published"
    chart: alt.Chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_time_axis("bucket_wall", tz, title=f"Time {what} ({tz})"),
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
