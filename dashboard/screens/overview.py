"""Overview: every claim of the topic at a glance, with a small spread chart each."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboard import charts, common
from dashboard.data.overview import OverviewData

view = common.view()
cfg = common.config()
st.title("Claims")
st.caption(f"Time range: {view.range_label}. Times in {view.tz}.")
data: OverviewData = common.fetch("overview_page", view.scope, view.now, view.tz)
common.generated_notice(data.generated, int(data.claims.get_column("posts").sum() or 0))

claims = pl.DataFrame({"claim_id": list(view.scope.claim_ids)}).join(
    data.claims, on="claim_id", how="left"
)
summary = claims.select(
    "claim_id",
    pl.col("posts").fill_null(0),
    pl.col("posts_24h").fill_null(0).alias("posts_24h"),
    pl.col("authors").fill_null(0),
    pl.col("authors_24h").fill_null(0).alias("authors_24h"),
    pl.col("variants").fill_null(0),
    pl.col("leading_label").alias("leading_variant"),
    "latest_correction_at",
    "latest_correction_by",
    "latest_correction_kind",
)
st.subheader("All claims")
common.table(summary, view.tz, key="overview_table")

for row in claims.iter_rows(named=True):
    claim_id: str = row["claim_id"]
    with st.container(border=True):
        st.subheader(common.claim_title(cfg, claim_id), anchor=False)
        verified = common.verified_text(cfg, claim_id)
        if verified:
            st.caption(verified)
        posts, authors, variants, leading, corrected = st.columns(5)
        posts.metric(
            "Posts, last 24 h",
            f"{row['posts_24h'] or 0:,}",
            help="Posts mentioning the claim in the 24 hours before now (within the filters).",
        )
        posts.caption(f"{row['posts'] or 0:,} in the time range")
        authors.metric("Authors, last 24 h", f"{row['authors_24h'] or 0:,}")
        authors.caption(f"{row['authors'] or 0:,} in the time range")
        variants.metric("Variants", f"{row['variants'] or 0:,}")
        leading.metric("Leading variant", row["leading_label"] or "—")
        if row["leading_posts"]:
            leading.caption(f"{row['leading_posts']:,} posts")
        latest = row["latest_correction_at"]
        corrected.metric(
            "Latest correction",
            latest.astimezone(ZoneInfo(view.tz)).strftime("%b %d %H:%M") if latest else "—",
        )
        if row["latest_correction_by"]:
            corrected.text(
                f"by {row['latest_correction_by']} ({row['latest_correction_kind']})\n"
                f"{common.local_text(latest, view.tz)}"
            )
        of_claim = data.variants.filter(pl.col("claim_id") == claim_id)
        if of_claim.height:
            common.table(
                of_claim.select(
                    pl.col("shown").alias("variant"),
                    "posts_24h",
                    "posts",
                    "authors_24h",
                    "authors",
                    "first_seen",
                    "last_seen",
                ),
                view.tz,
                key=f"variants_{claim_id}",
            )
        daily = data.daily.filter(pl.col("claim_id") == claim_id)
        if daily.height:
            st.altair_chart(charts.spark(daily, view.tz), key=f"spark_{claim_id}")
        else:
            st.text("No posts mention this claim in the time range.")
        st.page_link(
            "screens/claim.py",
            label="Spread and corrections over time",
            icon=":material/show_chart:",
            query_params={"claim": claim_id},
        )

st.subheader("Daily digests")
written: pl.DataFrame = common.fetch("digests")
if written.height:
    day = st.selectbox("Digest of", written.get_column("day").to_list(), key="digest_day")
    chosen = written.filter(pl.col("day") == day).row(0, named=True)
    common.digest(Path(chosen["markdown_path"]))
else:
    st.text(
        "No digest written yet: the scheduler writes the day before's at [digest] time"
        " (or run `claimwatch digest`)."
    )
