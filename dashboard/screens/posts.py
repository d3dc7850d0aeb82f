"""Posts: the posts behind any point of any chart (`/posts?claim=<id>&variant=<v>`, optionally
`&bucket=<ISO start>&grain=hour|day`), searchable and sortable, exported to CSV and Parquet."""

from __future__ import annotations

import io
from datetime import datetime

import polars as pl
import streamlit as st

from dashboard import common
from dashboard.data.shared import NO_VARIANT, POSTS_LIMIT, PostQuery, PostsData, bucket_bounds

ALL_VARIANTS = "(all variants)"

view = common.view()
st.title("Posts")
claim_id = common.pick_claim(view, "posts_claim")
if claim_id is None:
    st.stop()
one = view.scope.only(claim_id)
stats: pl.DataFrame = common.fetch("variant_stats", one)
variants = [ALL_VARIANTS, *stats.get_column("variant").to_list()]

wanted = common.url_choice("variant", "posts_variant")
if wanted is not None:
    if wanted not in variants:
        variants.append(wanted)  # a link to a variant with no post in the filters: say so below
    st.session_state["posts_variant"] = wanted
left, right = st.columns([1, 2])
names = common.variant_names(stats)
variant: str = left.selectbox(
    "Variant", variants, key="posts_variant", format_func=lambda v: names.get(v, v)
)
common.keep_in_url("variant", "posts_variant", None if variant == ALL_VARIANTS else variant)
search: str = right.text_input(
    "Search the text, title, author and matched words", key="posts_search"
)

# a time window from the link (a bucket of a chart), until cleared
bucket = common.url_choice("bucket", "posts_bucket")
if bucket is not None:
    st.session_state["posts_window"] = (bucket, st.query_params.get("grain", "day"))
window = st.session_state.get("posts_window")
start = end = None
if window:
    try:
        start, end = bucket_bounds(
            datetime.fromisoformat(window[0]), "hour" if window[1] == "hour" else "day", view.tz
        )
    except ValueError:
        st.warning(f"The link's bucket is not a time: {window[0]!r}; showing every time.")
        st.session_state["posts_window"] = None
if start is not None and end is not None:
    st.text(
        f"Only the {window[1] if window else ''} from {common.local_text(start, view.tz)}"
        f" to {common.local_text(end, view.tz)}"
    )
    if st.button("Show every time in the range", key="clear_window"):
        st.session_state["posts_window"] = None
        common.keep_in_url("bucket", "posts_bucket", None)
        if "grain" in st.query_params:
            del st.query_params["grain"]
        st.rerun()

query = PostQuery(claim_id, None if variant == ALL_VARIANTS else variant, start, end, search=search)
data: PostsData = common.fetch("posts_page", view.scope, query)
common.generated_notice(data.generated, data.total)
shown = data.posts.height
st.text(
    f"{data.total:,} posts"
    + (f" (showing and exporting the first {shown:,}, oldest first)" if data.total > shown else "")
    + f"; time range {view.range_label}"
    + ("" if variant != NO_VARIANT else "; variant (none): mentions that give no value")
)
posts = data.posts  # the columns and order of posts_page (data/posts.py), as exported
# on screen, the words right after the time, so they are read without scrolling sideways; rows
# tall enough for a post's text, wrapped in its cell, never cut at one line
words = [c for c in common.WIDE_TEXTS if c in posts.columns]
common.table(
    posts.select(posts.columns[0], *words, pl.exclude(posts.columns[0], *words)),
    view.tz,
    key="posts_table",
    height=720,
    row_height=common.POST_ROW_PX,
)

csv_col, parquet_col = st.columns(2)
name = f"claimwatch-{claim_id}-{'all' if variant == ALL_VARIANTS else variant}"
csv_col.download_button(
    "Export CSV",
    posts.write_csv(),
    file_name=f"{name}.csv",
    mime="text/csv",
    key="export_csv",
)
parquet = io.BytesIO()
posts.write_parquet(parquet)
parquet_col.download_button(
    "Export Parquet",
    parquet.getvalue(),
    file_name=f"{name}.parquet",
    mime="application/vnd.apache.parquet",
    key="export_parquet",
)
st.caption(f"Exports hold the rows listed (at most {POSTS_LIMIT:,}), times in UTC.")
