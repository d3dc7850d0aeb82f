"""Spread paths: how a variant travelled. Reply, quote and repost trees from the posts' parent
links, the top spreaders by reach, copies across platforms, and when each platform first saw it."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, common
from dashboard.data.paths import PathsData

ALL_VARIANTS = "(all variants)"
TREE_ROWS = 300

view = common.view()
st.title("Spread paths")
claim_id = common.pick_claim(view, "paths_claim")
if claim_id is None:
    st.stop()
one = view.scope.only(claim_id)
stats: pl.DataFrame = common.fetch("variant_stats", one)
if stats.height == 0:
    st.info("No post mentions this claim within the filters.")
    st.stop()
leading = stats.sort(["posts", "reach"], descending=True).get_column("variant").to_list()
options = [*leading, ALL_VARIANTS]
wanted = common.url_choice("variant", "paths_variant")
if wanted in options:
    st.session_state["paths_variant"] = wanted
shown = common.variant_names(stats)
variant: str = st.selectbox(
    "Variant", options, key="paths_variant", format_func=lambda v: shown.get(v, v)
)
common.keep_in_url("variant", "paths_variant", None if variant == ALL_VARIANTS else variant)
data: PathsData = common.fetch(
    "paths_page", view.scope, claim_id, None if variant == ALL_VARIANTS else variant
)
common.generated_notice(data.generated, data.tree.height)
st.caption(f"Time range: {view.range_label}. Times in {view.tz}.")

posts_m, trees_m, biggest_m, platforms_m, copies_m = st.columns(5)
posts_m.metric("Posts", f"{data.tree.height:,}")
trees_m.metric("Trees (replies, quotes, reposts)", f"{data.cascades.height:,}")
biggest: int = data.cascades.select(pl.col("posts").max()).item() or 0
biggest_m.metric("Largest tree, posts", f"{biggest:,}")
platforms_m.metric("Platforms", f"{data.first_by_source.height:,}")
copies_m.metric("Copies across platforms", f"{int(data.crossposts.get_column('copies').sum()):,}")

st.subheader("When each platform first saw it")
if data.first_by_source.height:
    st.altair_chart(charts.first_seen_chart(data.first_by_source, view.tz), key="first_seen")
    common.table(data.first_by_source, view.tz, key="first_table")

st.subheader("Trees of replies, quotes and reposts")
st.caption(
    "A tree gathers the posts of the variant linked by their parent (what they reply to, quote or"
    " repost); its root is the highest post reached, or the post outside the variant they answer."
)
if data.cascades.height:
    common.table(data.cascades.head(200), view.tz, key="cascades_table", height=300)
    roots = data.cascades.get_column("root").head(200).to_list()
    root: str = st.selectbox("Show the tree of", roots, key="paths_root")
    tree = (
        data.tree.filter(pl.col("root") == root)
        .sort(["depth", "created_at"])
        .head(TREE_ROWS)
        .select(
            "depth",
            "created_at",
            "kind",
            "source",
            "author_handle",
            "reach",
            "parent_uid",
            "post_uid",
        )
    )
    common.table(tree, view.tz, key="tree_table")
else:
    st.text("No post of this variant replies to, quotes or reposts another.")

st.page_link(
    "screens/posts.py",
    label="The posts of this variant, with their text and links",
    icon=":material/list:",
    query_params={"claim": claim_id} | ({} if variant == ALL_VARIANTS else {"variant": variant}),
)

st.subheader("Top spreaders by reach")
common.table(data.spreaders, view.tz, key="spreaders_table")

st.subheader("Copies across platforms")
st.caption("A copy has the same normalised text as an earlier post on another platform.")
if data.crossposts.height:
    common.table(data.crossposts, view.tz, key="crossposts_table")
else:
    st.text("No copy across platforms.")
