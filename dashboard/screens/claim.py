"""Claim: spread over time per variant, corrections on the time axis, the variants' numbers
beside the verified value, and the posts behind any point of the chart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st

from dashboard import charts, common
from dashboard.data.claim import ClaimData
from dashboard.data.shared import Grain, PostQuery, PostsData, bucket_bounds

POINT_POSTS = 500  # posts listed under the chart for one point

view = common.view()
cfg = common.config()
st.title("Claim")
claim_id = common.pick_claim(view, "claim_pick")
if claim_id is None:
    st.stop()
claim = cfg.claims.get(claim_id)
if claim and claim.description:
    st.caption(claim.description)
verified = common.verified_text(cfg, claim_id)
if verified:
    st.info(verified, icon=":material/verified:")

left, right = st.columns(2)
grain: Grain = left.radio("Buckets", ["hour", "day"], index=1, horizontal=True, key="grain")
measure: str = right.radio(
    "Measure",
    list(charts.MEASURES),
    horizontal=True,
    key="measure",
    format_func=lambda m: charts.MEASURES[m],
)
data: ClaimData = common.fetch("claim_page", view.scope, claim_id, grain, view.tz)
common.generated_notice(data.generated, int(data.variants.get_column("posts").sum() or 0))
st.caption(f"Time range: {view.range_label}. Times in {view.tz}; buckets are {view.tz} {grain}s.")

if data.spread.height == 0:
    st.info("No post mentions this claim within the filters.")
    st.stop()

event: Any = st.altair_chart(
    charts.spread_chart(
        data.spread,
        data.corrections,
        measure=measure,
        grain=grain,
        tz=view.tz,
        authorities=claim.corrections.authorities if claim else (),
    ),
    key=f"spread_{claim_id}_{grain}_{measure}",
    on_select="rerun",
    selection_mode="point",
)
if data.corrections.height:
    st.caption(
        f"Above the chart, the corrections of each {grain}: ▼ an authority's, ◆ a fact-checker's,"
        " labelled with who made them; the red bars count the community's. Hover over them for"
        " who and when."
    )

# --- variants beside the verified value ----------------------------------------------------------
st.subheader("Variants")
truth = common.verified_value(cfg, claim_id)
summary = data.summary.select(
    "variant",
    "share_after_correction",
    "rate_before",
    "rate_after",
    "rate_fell",
    "first_correction_at",
)
variants = (
    data.variants.drop("claim_id")
    .join(summary, on="variant", how="left")
    .with_columns(
        verified=pl.col("variant") == truth if truth is not None else pl.lit(None, pl.Boolean)
    )
    .select(
        pl.col("shown").alias("variant"),
        "verified",
        "posts",
        "authors",
        "reach",
        "sources",
        "first_seen",
        "last_seen",
        "share_after_correction",
        "rate_before",
        "rate_after",
        "rate_fell",
    )
)
common.table(
    variants,
    view.tz,
    key="variants_table",
    column_config={
        "verified": st.column_config.CheckboxColumn("is verified value"),
        "share_after_correction": st.column_config.ProgressColumn(
            "share after 1st correction",
            help="Of the variant's posts (all time, all sources), the share published at or"
            " after the claim's first correction.",
            format="percent",
            min_value=0,
            max_value=1,
        ),
        "rate_before": st.column_config.NumberColumn(
            "posts/h before", format="%.2f", help="Before the claim's first correction."
        ),
        "rate_after": st.column_config.NumberColumn(
            "posts/h after", format="%.2f", help="After the claim's first correction."
        ),
    },
)
first_correction = data.summary.get_column("first_correction_at").drop_nulls()
st.caption(
    "posts, authors, reach, first and last seen: within the filters. Share and rates before and"
    " after the first correction: all time, all sources (the view variant_summary)"
    + (
        f"; the claim was first corrected {common.local_text(first_correction[0], view.tz)}."
        if first_correction.len()
        else "; the claim has no correction yet."
    )
)

shown = common.variant_names(data.variants)
st.subheader("Corrections")
if data.corrections.height:
    common.table(
        data.corrections.with_columns(pl.col("variant").replace(shown).alias("variant")).select(
            "created_at", "author_handle", "kind", "source", "variant", "url", "post_uid"
        ),
        view.tz,
        key="corrections_table",
    )
else:
    st.text("No correction within the filters.")

# --- the posts behind a point --------------------------------------------------------------------
st.subheader("Posts behind a point")
buckets = data.spread.get_column("bucket").unique().sort().to_list()
labels = {b.isoformat(): common.local_text(b, view.tz) for b in buckets}
variant_names = data.spread.get_column("variant").unique().sort().to_list()
picked = (event.selection.get("point") if event else None) or []
if picked:
    point = picked[0]
    clicked = (str(point.get("bucket_key")), str(point.get("variant")))
    if clicked != st.session_state.get("_clicked"):
        st.session_state["_clicked"] = clicked
        bucket = datetime.strptime(clicked[0], "%Y-%m-%dT%H:%M:%S%z")
        st.session_state["point_bucket"] = bucket.isoformat()
        st.session_state["point_variant"] = clicked[1]
st.caption("Click a point of the chart, or choose a bucket and a variant.")
if st.session_state.get("point_bucket") not in labels:
    # the latest bucket with posts, and its first variant with posts: never an empty list
    bucket, first_variant = charts.latest_point(data.spread)
    st.session_state["point_bucket"] = bucket.isoformat()
    st.session_state["point_variant"] = first_variant
if st.session_state.get("point_variant") not in variant_names:
    st.session_state["point_variant"] = variant_names[0]
pick_bucket, pick_variant = st.columns(2)
bucket_key: str = pick_bucket.selectbox(
    f"{grain.title()} ({view.tz})",
    list(labels),
    key="point_bucket",
    format_func=lambda key: labels.get(key, key),
)
variant: str = pick_variant.selectbox(
    "Variant", variant_names, key="point_variant", format_func=lambda v: shown.get(v, v)
)
start, end = bucket_bounds(datetime.fromisoformat(bucket_key), grain, view.tz)
posts: PostsData = common.fetch(
    "point_posts",
    view.scope,
    PostQuery(claim_id, variant, start, end, limit=POINT_POSTS),
)
st.text(
    ("1 post mentions" if posts.total == 1 else f"{posts.total:,} posts mention")
    + f" variant {shown.get(variant, variant)} in the {grain} starting"
    f" {labels[bucket_key]}"
    + (f" (showing the first {POINT_POSTS:,})" if posts.total > POINT_POSTS else "")
)
common.table(
    posts.posts.select(
        "created_at", "source", "author_handle", "stance", "matched_text", "provenance", "post_uid"
    ),
    view.tz,
    key="point_posts",
)
st.page_link(
    "screens/posts.py",
    label="Open these posts, with their text and links, in the Posts page (search, export)",
    icon=":material/list:",
    query_params={"claim": claim_id, "variant": variant, "bucket": bucket_key, "grain": grain},
)
