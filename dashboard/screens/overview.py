"""Overview: every claim of the topic at a glance, and its story: the variants' race against the
corrections, when each variant was first seen and peaked, the first authority correction and how
each variant spread before and after it, the leading variant beside the verified value."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from config import Authority
from dashboard import common, race
from dashboard.data.overview import OverviewData

CORRECTIONS_SHOWN = 5  # rows of a claim's short list of corrections
# metric columns: the leading variant's value can be long ("$1.3 billion"), so it gets the room
METRIC_WIDTHS = [0.9, 0.9, 0.7, 1.6, 1.2]
TURN_TITLES = {
    "authority": "First authority correction",
    "factcheck": "No authority correction yet. First fact-check",
    "community": "No authority or fact-check correction yet. First correction",
}

view = common.view()
cfg = common.config()
# once per account: claims share authorities, and a name is looked up by account
authorities: tuple[Authority, ...] = tuple(
    {
        (a.source, a.handle.lower()): a
        for cid in view.scope.claim_ids
        if cid in cfg.claims
        for a in cfg.claims[cid].corrections.authorities
    }.values()
)
st.title("Claims")
st.caption(f"Time range: {view.range_label}. Times in {view.tz}.")
data: OverviewData = common.fetch("overview_page", view.scope, view.now, view.tz, authorities)
common.generated_notice(data.generated, int(data.claims.get_column("posts").sum() or 0))


def dollars_kept(text: str) -> str:
    """Config text for a Markdown element: "$1.3 billion" is money, not the start of LaTeX."""
    return text.replace("$", "\\$")


def all_claims(claims: pl.DataFrame) -> None:
    summary = claims.select(
        "claim_id",
        pl.col("posts").fill_null(0),
        pl.col("posts_24h").fill_null(0).alias("posts_24h"),
        pl.col("authors").fill_null(0),
        pl.col("authors_24h").fill_null(0).alias("authors_24h"),
        pl.col("variants").fill_null(0),
        pl.col("leading_label").alias("leading_variant"),
        "first_authority_by",
        "first_authority_at",
        "latest_correction_at",
        "latest_correction_by",
        "latest_correction_kind",
    )
    st.subheader("All claims")
    common.table(summary, view.tz, key="overview_table")


def metrics(row: dict[str, Any], truth: str | None) -> None:
    """Short values (a metric cuts a long one off), the rest in the lines under them."""
    posts, authors, variants, leading, corrected = st.columns(METRIC_WIDTHS)
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
    lines = [f"{row['leading_posts']:,} posts"] if row["leading_posts"] else []
    if truth is not None:
        same = row["leading_label"] == truth
        lines.append("the verified value" if same else f"verified value: {truth}")
    if lines:
        leading.caption(dollars_kept(" · ".join(lines)))
    latest = row["latest_correction_at"]
    zone = ZoneInfo(view.tz)
    corrected.metric(
        "Latest correction", latest.astimezone(zone).strftime("%b %d") if latest else "—"
    )
    if latest is not None:
        corrected.text(
            f"{latest.astimezone(zone).strftime('%H:%M %Z')} by {row['latest_correction_by']}"
            f" ({row['latest_correction_kind']})"
        )


def race_chart(claim_id: str, truth_key: str | None) -> None:
    of_claim = data.race.filter(pl.col("claim_id") == claim_id)
    if of_claim.height == 0:
        st.text("No posts mention this claim in the time range.")
        return
    fixes = data.corrections.filter(pl.col("claim_id") == claim_id)
    st.altair_chart(
        race.race_chart(
            of_claim,
            fixes,
            grain=data.grain,
            tz=view.tz,
            verified=truth_key,
            authorities=authorities,
        ),
        key=f"race_{claim_id}",
    )
    st.caption(
        f"The race: posts so far per variant, and corrections so far (dashed red), by {view.tz}"
        f" {data.grain}; a correction counts in its variant's curve too, and the mentions"
        " without a value race only where the claim has no variant. Above: ▼ an authority's"
        " correction, ◆ a fact-checker's."
    )


def turning_point(claim_id: str) -> None:
    """The claim's first authority correction (else its first fact-check, else its first
    correction), and each variant's spread before and after it."""
    turn = data.turns.filter(pl.col("claim_id") == claim_id)
    if turn.height == 0:
        st.markdown("**No correction of this claim yet.**")
        return
    first = turn.row(0, named=True)
    st.markdown(f"**{TURN_TITLES.get(first['turn_kind'], 'First correction')}**")
    st.text(
        f"{first['turn_by']} (@{first['turn_handle']} on {first['turn_source']})\n"
        f"{common.local_text(first['turn_at'], view.tz)}"
    )
    if first["turn_url"]:
        st.link_button("Open the post", first["turn_url"], icon=":material/open_in_new:")
    else:
        st.caption("No link to this post was collected.")
    after = data.variants.filter(
        (pl.col("claim_id") == claim_id) & pl.col("share_after_correction").is_not_null()
    )
    common.table(
        after.select(
            pl.col("shown").alias("variant"),
            "share_after_correction",
            "rate_before",
            "rate_after",
        ),
        view.tz,
        key=f"after_{claim_id}",
        column_config={
            "share_after_correction": st.column_config.ProgressColumn(
                "share after", format="percent", min_value=0, max_value=1
            ),
            "rate_before": st.column_config.NumberColumn("/h before", format="%.2f"),
            "rate_after": st.column_config.NumberColumn("/h after", format="%.2f"),
        },
    )
    st.caption(
        "Each variant's share of its posts published at or after this correction, and its posts"
        " per hour (/h) before (from its first post) and after (to the claim's latest post): all"
        " time, all sources, the rules of the view variant_summary."
    )


def variants_table(claim_id: str, truth_key: str | None) -> None:
    of_claim = data.variants.filter(pl.col("claim_id") == claim_id)
    if of_claim.height == 0:
        return
    verified = pl.col("variant") == truth_key if truth_key else pl.lit(None, pl.Boolean)
    common.table(
        of_claim.select(
            pl.col("shown").alias("variant"),
            "posts_24h",
            "posts",
            "authors_24h",
            "authors",
            verified.alias("verified"),
            "first_seen",
            "peak",
            "peak_posts",
        ),
        view.tz,
        key=f"variants_{claim_id}",
        column_config={
            "verified": st.column_config.CheckboxColumn("verified"),
            "peak": st.column_config.DatetimeColumn(
                f"peak {data.grain} ({view.tz})", format="YYYY-MM-DD HH:mm"
            ),
            "peak_posts": st.column_config.NumberColumn(f"posts that {data.grain}"),
        },
    )


def corrections_table(claim_id: str) -> None:
    of_claim = data.corrections.filter(pl.col("claim_id") == claim_id)
    if of_claim.height == 0:
        return
    names = common.variant_names(data.variants.filter(pl.col("claim_id") == claim_id))
    common.table(
        of_claim.head(CORRECTIONS_SHOWN).select(
            "kind",
            "who",
            "created_at",
            "source",
            pl.col("variant").replace(names),
            "url",
        ),
        view.tz,
        key=f"corrections_{claim_id}",
    )
    more = of_claim.height - CORRECTIONS_SHOWN
    st.caption(
        "Authorities' corrections first, then fact-checkers', then the community's; each newest"
        " first." + (f" {more:,} more on the Claim page." if more > 0 else "")
    )


def claim_panel(row: dict[str, Any]) -> None:
    claim_id: str = row["claim_id"]
    truth_key = common.verified_value(cfg, claim_id)
    truth = common.verified_text(cfg, claim_id)
    with st.container(border=True):
        st.subheader(common.claim_title(cfg, claim_id), anchor=False)
        if truth:
            st.caption(dollars_kept(truth))
        shown = common.variant_names(data.variants.filter(pl.col("claim_id") == claim_id))
        metrics(row, shown.get(truth_key, truth_key) if truth_key else None)
        chart, story = st.columns([3, 2])
        with chart:
            race_chart(claim_id, truth_key)
        with story:
            turning_point(claim_id)
        st.markdown("**Variants: when each was first seen and peaked**")
        variants_table(claim_id, truth_key)
        corrections_table(claim_id)
        st.page_link(
            "screens/claim.py",
            label="Spread and corrections over time",
            icon=":material/show_chart:",
            query_params={"claim": claim_id},
        )


def version_name(row: dict[str, Any]) -> str:
    name = "first version" if row["version"] == 1 else f"revision {row['version']}"
    when = common.local_text(row["written_at"], view.tz)
    return f"{name}{' (latest)' if row['latest'] else ''}, written {when}"


def digest_versions(versions: pl.DataFrame) -> None:
    """A day's digest: its latest version, and its history when posts of the day arrived late
    and it was revised (each version kept as written)."""
    rows = versions.rows(named=True)  # the latest first
    if len(rows) > 1:
        st.info(
            f"Revised {len(rows) - 1} time(s): posts of the day were stored after it was first"
            f" written. Latest, {version_name(rows[0])}: {rows[0]['changes']}",
            icon=":material/history:",
        )
        shown = st.selectbox(
            "Version",
            range(len(rows)),
            format_func=lambda i: version_name(rows[i]),
            key=f"digest_version_{rows[0]['day']}",
        )
        common.table(
            versions.select(
                pl.when(pl.col("version") == 1)
                .then(pl.lit("first version"))
                .otherwise(pl.format("revision {}", pl.col("version")))
                .alias("version"),
                "written_at",
                pl.col("changes").fill_null("(as first written)").alias("what changed"),
            ),
            view.tz,
            key=f"digest_history_{rows[0]['day']}",
        )
        chosen = rows[shown]
    else:
        chosen = rows[0]
    common.digest(Path(chosen["markdown_path"]))


claims = pl.DataFrame({"claim_id": list(view.scope.claim_ids)}).join(
    data.claims, on="claim_id", how="left"
)
all_claims(claims)
for claim_row in claims.iter_rows(named=True):
    claim_panel(claim_row)

st.subheader("Daily digests")
written: pl.DataFrame = common.fetch("digests")
if written.height:
    days = written.get_column("day").unique(maintain_order=True).to_list()
    day = st.selectbox("Digest of", days, key="digest_day")
    digest_versions(written.filter(pl.col("day") == day))
else:
    st.text(
        "No digest written yet: the scheduler writes the day before's at [digest] time"
        " (or run `claimwatch digest`)."
    )
