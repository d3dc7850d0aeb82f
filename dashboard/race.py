"""The race of a claim's variants (the Overview): each variant's posts so far against the
corrections so far, on one time axis, as Hoaxy draws claims against fact-checks. Who is ahead,
when each took off, and whether the corrections caught up, read at a glance.

The conventions of `dashboard/charts.py`: times on the display zone's wall clock (`wall_clock`),
the variants' colours and legend order (`_variant_color`), the correction red, and the
authorities' and fact-checkers' labelled marks on a strip above the curves (`placed_marks`,
`correction_layers`); the community's corrections are the dashed curve, not bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from config import Authority
from dashboard import charts
from dashboard.data.shared import Grain

VERIFIED = " (verified)"  # after the verified variant's name in the legend


def race_chart(
    race: pl.DataFrame,
    corrections: pl.DataFrame,
    *,
    grain: Grain,
    tz: str,
    verified: str | None = None,
    authorities: Sequence[Authority] = (),
) -> alt.LayerChart | alt.FacetChart:
    """One claim's race (`race` as `data.overview.race_of` gives it), step curves of posts so
    far per variant (the verified one named so) and of corrections so far, the authorities' and
    fact-checkers' corrections (of `corrections`) labelled above them."""
    is_verified = pl.col("variant") == verified if verified else pl.lit(False)
    data = charts.wall_clock(race, "bucket", tz).with_columns(
        shown=pl.when(is_verified).then(pl.col("shown") + VERIFIED).otherwise("shown"),
        end=pl.col("bucket") == pl.col("bucket").max(),
    )
    variants = data.filter(pl.col("series") == "variant")
    flagged = corrections.filter(pl.col("kind") != "community")
    marks = charts.placed_marks(flagged, variants, grain=grain, tz=tz, authorities=authorities)
    y_scale = (
        alt.Scale(range=[alt.ExprRef("height"), charts.STRIP + 6])
        if marks.height
        else alt.Undefined
    )
    y = alt.Y(
        "so_far:Q",
        title="Posts so far",
        scale=y_scale,
        axis=alt.Axis(format="d", tickMinStep=1),  # counts: no tick between two posts
    )
    x = charts._time_axis("bucket_wall", tz)
    layers = [*_variant_layers(variants, x, y, grain)]
    fixes = data.filter(pl.col("series") == "corrections")
    if fixes.height:
        layers += _correction_layers(fixes, x, y, grain)
    under, over = charts.correction_layers(marks, grain=grain, tz=tz) if marks.height else ([], [])
    chart: alt.LayerChart | alt.FacetChart = alt.layer(*layers, *under, *over).properties(
        height=charts.HEIGHT
    )
    return chart


def _tooltip(grain: Grain, what: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("shown:N", title=what),
        alt.Tooltip("bucket_label:N", title=f"{grain.title()} starting"),
        alt.Tooltip("posts:Q", title=f"Posts this {grain}", format=","),
        alt.Tooltip("so_far:Q", title="So far", format=","),
    ]


def _variant_layers(variants: pl.DataFrame, x: alt.X, y: alt.Y, grain: Grain) -> list[alt.Chart]:
    base = alt.Chart(variants).encode(x=x, y=y, color=charts._variant_color(variants))
    curves = base.mark_line(interpolate="step-after", strokeWidth=2.5)
    # a point where the variant gained posts: a one-bucket race still shows, and hovers
    gains = (
        base.mark_point(filled=True, size=45)
        .encode(tooltip=_tooltip(grain, "Variant"))
        .transform_filter(alt.datum.posts > 0)
    )
    return [curves, gains]


def _correction_layers(fixes: pl.DataFrame, x: alt.X, y: alt.Y, grain: Grain) -> list[alt.Chart]:
    base = alt.Chart(fixes).encode(x=x, y=y)
    curve = base.mark_line(
        interpolate="step-after", color=charts.CORRECTION_RED, strokeDash=[6, 3], strokeWidth=2
    )
    gains = (
        base.mark_point(shape="cross", size=60, color=charts.CORRECTION_RED, filled=True)
        .encode(tooltip=_tooltip(grain, "Series"))
        .transform_filter(alt.datum.posts > 0)
    )
    name = (
        base.mark_text(color=charts.CORRECTION_RED, align="right", baseline="bottom", dy=-4)
        .encode(text=alt.value("corrections"))
        .transform_filter(alt.datum.end)
    )
    return [curve, gains, name]
