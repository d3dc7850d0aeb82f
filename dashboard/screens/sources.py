"""Sources: every collector's last run, the scheduler's jobs and pulse, and posts per source over
time, so that a silent source is never mistaken for a claim dying out."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import charts, common
from dashboard.data.shared import Grain
from dashboard.data.sources import SourcesData, offline_sources

view = common.view()
cfg = common.config()
st.title("Sources")
left, right = st.columns(2)
grain: Grain = left.radio("Buckets", ["hour", "day"], index=1, horizontal=True, key="src_grain")
by: str = right.radio(
    "Count posts by",
    ["collected_at", "created_at"],
    horizontal=True,
    key="src_by",
    format_func=lambda b: "when collected" if b == "collected_at" else "when published",
)
data: SourcesData = common.fetch("sources_page", view.scope, grain, view.tz, by)

st.subheader("Scheduler")
beats = view.snapshot.heartbeats  # the sidebar's: the same state on every page
if view.scheduler_alive:
    beat = beats.row(0, named=True)
    st.success(
        f"Scheduler running: {common.mode_name(beat['mode'])} mode, last heartbeat"
        f" {common.local_text(beat['beat_at'], view.tz)}"
    )
    st.text(f"host {beat['host']}, pid {beat['pid']}, process {beat['process_id']}")
else:
    last_beat = (
        common.local_text(beats.row(0, named=True)["beat_at"], view.tz) if beats.height else ""
    )
    st.error(
        "No scheduler running: no live heartbeat"
        + (f" (the last one: {last_beat})" if beats.height else "")
        + ". Nothing is being collected, so the spread shown stops where collection stopped."
    )
if beats.height:
    with st.expander("Heartbeats"):
        common.table(beats, view.tz, key="beats_table")

st.subheader("Jobs")
if data.jobs.height:
    backing = data.jobs.filter(pl.col("backing_off"))
    if backing.height:
        st.warning(f"{backing.height} job(s) backing off after failures:")
        st.text(", ".join(backing.get_column("job_id").to_list()))
    common.table(
        data.jobs,
        view.tz,
        key="jobs_table",
        column_config={
            "interval_s": st.column_config.NumberColumn("interval in force (s)", format="%.0f"),
            "base_interval_s": st.column_config.NumberColumn("configured (s)", format="%.0f"),
            "failures": st.column_config.NumberColumn("failures in a row"),
        },
    )
else:
    st.text("No scheduler job recorded yet (`claimwatch run` records them).")

st.subheader("Last run of each collector")
offline = offline_sources(data.runs)
if offline:
    st.error(
        f"No network: {len(offline)} sources unreachable ({', '.join(offline)}). Nothing new is"
        " collected until the connection is back; each source backs off and tries again."
    )
failing = data.runs.filter(pl.col("status").is_in(["failed", "partial"]))
if failing.height:
    st.warning(f"{failing.height} source(s) whose last run did not succeed:")
    st.text(
        ", ".join(f"{s} ({t})" for s, t in zip(failing["source"], failing["status"], strict=True))
    )
    # whole, wrapped: the table's cell shows only the start of a long error
    for run in failing.iter_rows(named=True):
        st.text(f"{run['source']} ({run['topic']}), {run['status']}: {run['error']}")
common.table(
    data.runs,
    view.tz,
    key="runs_table",
    column_config={"rate_limit_left": st.column_config.NumberColumn("rate limit left")},
)

st.subheader("Posts per source over time")
common.generated_notice(data.generated)
what = "collected" if by == "collected_at" else "published"
st.caption(f"Posts {what} per {view.tz} {grain}, within the sidebar's time range and sources.")
if data.per_source.height:
    st.altair_chart(
        charts.per_source_chart(data.per_source, grain=grain, tz=view.tz, by=by),
        key=f"per_source_{grain}_{by}",
    )
    totals = (
        data.per_source.group_by("source")
        .agg(pl.col("posts").sum(), pl.col("bucket").max().alias("latest_bucket"))
        .sort("posts", descending=True)
    )
    common.table(totals, view.tz, key="per_source_table")
else:
    st.text("No post in the time range.")

if data.recent_failures.height:
    with st.expander(f"Recent failed or partial runs ({data.recent_failures.height})"):
        common.table(data.recent_failures, view.tz, key="failures_table")
