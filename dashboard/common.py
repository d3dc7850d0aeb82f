"""What every page shares: the warehouse and config in use, the sidebar's filters, cached reads,
the data's freshness, and showing posts' words safely.

One truth per page run: the sidebar reads a snapshot once (`snapshot`: the data's stamp, the
heartbeats, the sidebar's counts and, for the pages that count with them, the facts), and every
number the page shows is computed for that snapshot's stamp (`fetch`), kept until the stamp
changes; so the freshness, the scheduler's state and the counts agree on every page.

Reading while the scheduler writes (docs/read-while-writing.md): each read runs in one short
read-only session (`Warehouse.reading()`), closed before anything is drawn. A watcher checks the
stamp every `WATCH_EVERY_S` seconds (one tiny query, then a pause) and reruns the page when the
data changed.

Post text, handles and matched words are data: they are shown in tables and `st.text`, never
through Markdown or HTML, so `<script>` or `[link](javascript:...)` in a post shows as written.
"""

from __future__ import annotations

import os
import sys
import time as clock
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from claims.quantities import written
from config import Config, Quantity, load_config
from dashboard.data.claim import claim_page, point_posts
from dashboard.data.overview import digests, overview_page
from dashboard.data.paths import paths_page
from dashboard.data.posts import posts_page
from dashboard.data.shared import (
    Cache,
    DataMovedError,
    FactsCache,
    Freshness,
    Scope,
    Snapshot,
    data_stamp,
    is_alive,
    reference_now,
    variant_stats,
)
from dashboard.data.sources import sources_page
from dashboard.data.sql import view_columns
from warehouse import Warehouse, WarehouseError

DEFAULT_DB = Path("data/claimwatch.duckdb")
DEFAULT_CONFIG = Path("config/claimwatch.toml")
WATCH_EVERY_S = 30
ALL_TOPICS = "(all topics)"
ROW_PX = 35  # a table row, and its header, as Streamlit draws them
WRAP_FROM_PX = 64  # Streamlit wraps a cell's text in rows taller than 4rem
POST_ROW_PX = 110  # a row of a table of posts: five lines of its text
WIDE_TEXTS = ("text", "title")  # the columns of a post's words: given the room to read them
PRESETS: dict[str, timedelta | None] = {
    "All time": None,
    "Last 24 hours": timedelta(hours=24),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "Custom dates": None,
}


@dataclass(frozen=True)
class Settings:
    db: Path
    config_path: Path


def settings() -> Settings:
    """The paths: `-- --db PATH --config PATH` after the script (as `streamlit_command` passes
    them), else CLAIMWATCH_DB / CLAIMWATCH_CONFIG, else the defaults."""
    given: dict[str, str] = {}
    if Path(sys.argv[0]).name == "app.py":
        args = sys.argv[1:]
        for flag in ("--db", "--config"):
            if flag in args and args.index(flag) + 1 < len(args):
                given[flag] = args[args.index(flag) + 1]
    db = given.get("--db") or os.environ.get("CLAIMWATCH_DB") or str(DEFAULT_DB)
    config = given.get("--config") or os.environ.get("CLAIMWATCH_CONFIG") or str(DEFAULT_CONFIG)
    return Settings(Path(db), Path(config))


@st.cache_resource(show_spinner=False)
def _load_config(path: str, modified: float) -> Config:
    return load_config(Path(path))


def config() -> Config:
    path = settings().config_path
    try:
        return _load_config(str(path), path.stat().st_mtime)
    except FileNotFoundError:
        st.error(f"The config file {path} does not exist (set CLAIMWATCH_CONFIG or --config).")
        st.stop()
        raise


def warehouse() -> Warehouse:
    read_timeout = config().warehouse.read_timeout.total_seconds()
    return Warehouse(settings().db, read_timeout=read_timeout)


@st.cache_resource(show_spinner=False)
def facts_cache(db: str) -> FactsCache:
    """The mentions of the warehouse `db` in memory, shared by every session (data/shared.py says
    why); read again in the background as soon as the data changes."""
    cache = FactsCache()
    path = Path(db)
    reader = Warehouse(path, read_timeout=config().warehouse.read_timeout.total_seconds())
    cache.keep_fresh(reader.reading, WATCH_EVERY_S, until=lambda: not path.exists())
    return cache


# the data functions a page fetches by name (`fetch`), each from its page's module of data/
_QUERIES: dict[str, Callable[..., Any]] = {
    query.__name__: query
    for query in (
        variant_stats,
        overview_page,
        digests,
        claim_page,
        point_posts,
        posts_page,
        paths_page,
        sources_page,
        view_columns,
    )
}
# the page functions that take the cache; the others read small views only
_WITH_CACHE = {
    "variant_stats",
    "overview_page",
    "claim_page",
    "posts_page",
    "point_posts",
    "paths_page",
    "sources_page",
}
# the pages that count with the facts: their snapshot reads the facts too (`snapshot`)
FACTS_PAGES = {"", "claim", "posts", "paths"}
MOVES_FOLLOWED = 3  # reruns in a row when the data moves during a page run (then: shown as read)


def snapshot(with_facts: bool = False) -> Snapshot:
    """The page run's one read of the warehouse (`FactsCache.snapshot`); a warehouse problem
    stops the page with its message."""
    wh = warehouse()
    try:
        with wh.reading() as con:
            return facts_cache(str(wh.path)).snapshot(con, with_facts)
    except WarehouseError as error:
        st.error(str(error))
        st.stop()
        raise


def fetch(name: str, *args: Any) -> Any:
    """`<name>(con, *args)` (a data function of `_QUERIES`) for this page run's snapshot: kept
    until the data changes, so a rerun on the same data reads nothing. When the data moved since
    the snapshot, the page runs again on a new one, so that it never shows two states at once."""
    wh = warehouse()
    cache = facts_cache(str(wh.path))
    stamp = st.session_state["_cw_view"].snapshot.stamp  # drawn by `view()` before
    query = _QUERIES[name]

    def compute(pinned: Cache) -> Any:
        with wh.reading() as con:
            return query(con, *args, cache=pinned) if name in _WITH_CACHE else query(con, *args)

    try:
        with st.spinner("Reading the warehouse…"):
            try:
                return cache.result(stamp, _key(name, args), lambda: compute(cache.at(stamp)))
            except DataMovedError:
                moves = st.session_state.get("_cw_moves", 0)
                if moves < MOVES_FOLLOWED:
                    st.session_state["_cw_moves"] = moves + 1
                    st.rerun()
                return compute(cache)  # still moving: the newest, this once
    except WarehouseError as error:
        st.error(str(error))
        st.stop()
        raise


def _key(name: str, args: tuple[Any, ...]) -> Hashable:
    try:
        hash(args)
    except TypeError:  # config models: their text says what they are
        return (name, repr(args))
    return (name, args)


# --- the sidebar --------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What the sidebar chose, and what every page needs to draw it."""

    scope: Scope
    topic: str | None
    range_label: str
    now: datetime  # the reference "now" (a live demo's simulated clock, else the wall clock)
    tz: str
    snapshot: Snapshot  # the page run's one read: freshness, heartbeats, the data's stamp
    scheduler_alive: bool

    @property
    def fresh(self) -> Freshness:
        return self.snapshot.fresh


def sidebar(with_facts: bool = False) -> View:
    """Draw the filters and the freshness in the sidebar (every page: the entry script calls it,
    `with_facts` for a page of FACTS_PAGES), and keep the result for the page in session state.
    Everything the page shows comes from the snapshot read here."""
    cfg = config()
    tz = cfg.schedule.timezone
    snap = snapshot(with_facts)
    if snap.stamp != st.session_state.get("_cw_stamp"):
        st.session_state["_cw_stamp"] = snap.stamp
    else:  # the data held still for a whole run: a later move is followed again
        st.session_state["_cw_moves"] = 0
    fresh = snap.fresh
    wall = datetime.now(UTC)
    alive = is_alive(fresh.heartbeat, cfg.schedule.heartbeat, wall)
    # to the minute: "the last 24 hours" move on each minute, and results stay cached meanwhile
    now = reference_now(fresh.heartbeat, alive, wall).replace(second=0, microsecond=0)
    bar = st.sidebar
    bar.header("Filters")
    topics = [ALL_TOPICS, *cfg.topics]
    topic = bar.selectbox(
        "Topic",
        topics,
        key="f_topic",
        format_func=lambda t: t if t == ALL_TOPICS else f"{cfg.topics[t].title} ({t})",
    )
    preset = bar.selectbox("Time range", list(PRESETS), key="f_range")
    since, until = _time_range(preset, now, tz)
    if any(s not in fresh.sources for s in st.session_state.get("f_sources", [])):
        st.session_state["f_sources"] = [
            s for s in st.session_state["f_sources"] if s in fresh.sources
        ]
    sources = bar.multiselect(
        "Sources", list(fresh.sources), key="f_sources", placeholder="All sources"
    )
    claim_ids = tuple(
        cid for cid, claim in cfg.claims.items() if topic == ALL_TOPICS or claim.topic == topic
    )
    view = View(
        scope=Scope(claim_ids, since, until, tuple(sources)),
        topic=None if topic == ALL_TOPICS else topic,
        range_label=_range_label(preset, since, until, tz),
        now=now,
        tz=tz,
        snapshot=snap,
        scheduler_alive=alive,
    )
    st.session_state["_cw_rendered_at"] = clock.monotonic()
    _freshness(view, wall)
    st.session_state["_cw_view"] = view
    st.session_state["_cw_drawn"] = True
    return view


def _time_range(preset: str, now: datetime, tz: str) -> tuple[datetime | None, datetime | None]:
    if preset == "Custom dates":
        zone = ZoneInfo(tz)
        today = now.astimezone(zone).date()
        picked = st.sidebar.date_input(
            f"From, to (days in {tz})", value=(today - timedelta(days=6), today), key="f_dates"
        )
        days = list(picked) if isinstance(picked, tuple | list) else [picked]
        if not days:
            return None, None
        first: date = days[0]
        last: date = days[-1]
        start = datetime.combine(first, time(0), zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end
    width = PRESETS[preset]
    return (None, None) if width is None else (now - width, None)


def _range_label(preset: str, since: datetime | None, until: datetime | None, tz: str) -> str:
    if since is None and until is None:
        return "all time"
    start = local_text(since, tz) if since else "the start"
    end = local_text(until, tz) if until else "now"
    return f"{preset.lower()}: {start} to {end}"


def _freshness(view: View, wall: datetime) -> None:
    bar = st.sidebar
    bar.divider()
    bar.subheader("Data freshness")
    fresh = view.fresh
    latest = local_text(fresh.latest_collected_at, view.tz) if fresh.latest_collected_at else "—"
    bar.text(f"{fresh.posts:,} posts\nlatest collected: {latest}")
    beat = fresh.heartbeat
    if view.scheduler_alive and beat:
        ago = _ago(wall - beat["beat_at"])
        clock = ""
        if beat["mode"] == "demo" and beat["clock_at"] is not None:
            clock = f"; demo clock: {local_text(view.now, view.tz)}"
        bar.success(
            f"Scheduler running ({mode_name(beat['mode'])}), last heartbeat {ago} ago{clock}"
        )
    else:
        last = f" Last heartbeat: {local_text(beat['beat_at'], view.tz)}." if beat else ""
        bar.warning(f"No scheduler running: nothing new is being collected.{last}")
    if bar.button("Refresh now", key="refresh"):
        facts_cache(str(warehouse().path)).clear()
        st.rerun()
    if bar.toggle("Auto-refresh", value=True, key="f_auto"):
        _watch(view.snapshot.stamp)


@st.fragment(run_every=timedelta(seconds=WATCH_EVERY_S))
def _watch(stamp: tuple[Any, ...]) -> None:
    """Every WATCH_EVERY_S seconds: one short read of the data's stamp; a whole rerun only when
    the data changed. The pause between reads lets the scheduler's writes in."""
    rendered = st.session_state.get("_cw_rendered_at", 0.0)
    if clock.monotonic() - rendered < WATCH_EVERY_S / 2:
        return  # the page itself was just drawn (this is the fragment's run within it)
    wh = warehouse()
    try:
        with wh.reading() as con:
            now = data_stamp(con)
    except WarehouseError:
        return
    if now != stamp:
        st.rerun(scope="app")


def view() -> View:
    """The sidebar's choices for the page: drawn by the entry script in this run, or (a page run
    alone, as AppTest runs a page after the first run) drawn now."""
    if not st.session_state.pop("_cw_drawn", False):
        sidebar()
        st.session_state.pop("_cw_drawn", None)
    current: View = st.session_state["_cw_view"]
    return current


# --- showing things -----------------------------------------------------------------------------


def mode_name(mode: object) -> str:
    """A scheduler's mode, for a Markdown element: only the words the scheduler writes."""
    return str(mode) if mode in ("run", "once", "demo") else "unknown"


def local_text(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def _ago(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def local_columns(frame: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Every time column as the wall-clock time of `tz` (sortable; the zone goes in the column
    header through `time_header`)."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(tz).dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def time_header(name: str, tz: str) -> str:
    return f"{name} ({tz})"


def table(
    frame: pl.DataFrame,
    tz: str,
    *,
    key: str | None = None,
    links: tuple[str, ...] = ("url",),
    height: int | None = None,
    column_config: dict[str, Any] | None = None,
    row_height: int | None = None,
) -> Any:
    """A data frame as a sortable table: times in `tz` (named in the header), links as links
    (only http and https ones reach the table), every text cell shown as plain text. `height`
    is the most it takes: a table of fewer rows is as tall as they are, with no blank rows.
    A `row_height` over WRAP_FROM_PX wraps long texts over several lines in their cells."""
    shown = local_columns(frame, tz)
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if column_config and name in column_config:
            config[name] = column_config[name]
            continue
        if isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(
                time_header(name, tz), format="YYYY-MM-DD HH:mm"
            )
        elif name in links:
            config[name] = st.column_config.LinkColumn(name, display_text="open")
        elif name in WIDE_TEXTS:
            config[name] = st.column_config.TextColumn(name, width="large")
        elif dtype == pl.String:
            config[name] = st.column_config.TextColumn(name)
    return st.dataframe(
        shown,
        column_config=config,
        hide_index=True,
        key=key,
        height=_fitted(frame.height, height, row_height),
        width="stretch",
        row_height=row_height,
    )


def _fitted(rows: int, most: int | None, row_height: int | None) -> int | Literal["auto"]:
    if most is None and row_height is None:
        return "auto"  # Streamlit's: up to ten rows, as tall as they are
    tall = (max(rows, 1) + 1) * (row_height or ROW_PX) + 3  # the rows, the header, the border
    return min(tall, most or 10 * (row_height or ROW_PX) + ROW_PX + 3)


def generated_notice(generated: int, total: int | None = None) -> None:
    if generated:
        of = f" of the {total:,}" if total is not None else ""
        st.warning(
            f"Demo data: {generated:,}{of} posts counted on this page were generated by"
            " `claimwatch demo`, not collected (see the provenance column of the post tables)."
        )


def claim_title(cfg: Config, claim_id: str) -> str:
    claim = cfg.claims.get(claim_id)
    return f"{claim.title} ({claim_id})" if claim else claim_id


def verified_text(cfg: Config, claim_id: str) -> str | None:
    claim = cfg.claims.get(claim_id)
    if claim is None:
        return None
    if claim.quantity is not None and claim.quantity.verified is not None:
        note = f": {claim.quantity.verified_note}" if claim.quantity.verified_note else ""
        return f"Verified value: {verified_written(claim.quantity)[1]}{note}"
    if claim.verified:
        return f"Verified: {claim.verified}"
    return None


def verified_value(cfg: Config, claim_id: str) -> str | None:
    claim = cfg.claims.get(claim_id)
    if claim and claim.quantity is not None and claim.quantity.verified is not None:
        return verified_written(claim.quantity)[0]
    return None


def verified_written(quantity: Quantity) -> tuple[str, str]:
    """The verified value as a variant key and as people read it: ("10000", "10,000")."""
    assert quantity.verified is not None
    return written(quantity.verified, quantity.kind, quantity.currency)


def variant_names(stats: pl.DataFrame) -> dict[str, str]:
    """Variant key -> how it is shown ("1300000000" -> "$1.3 billion"), from `shown`."""
    if "shown" not in stats.columns:
        return {}
    pairs = stats.select("variant", "shown").unique("variant")
    return dict(zip(pairs.get_column("variant"), pairs.get_column("shown"), strict=True))


def pick_claim(view: View, key: str) -> str | None:
    """The claim chosen on this page: `?claim=` first, then the last one picked; kept in the URL."""
    cfg = config()
    options = list(view.scope.claim_ids)
    if not options:
        st.info("No claim is configured for this topic.")
        return None
    wanted = url_choice("claim", key)
    if wanted is not None and wanted not in options:
        st.warning(f"The claim in the link is not among the claims of this topic: {wanted!r}.")
    elif wanted is not None:
        st.session_state[key] = wanted
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    chosen: str = st.selectbox("Claim", options, key=key, format_func=lambda c: claim_title(cfg, c))
    keep_in_url("claim", key, chosen)
    return chosen


def url_choice(param: str, key: str) -> str | None:
    """The value of `?param=` when the link brought a new one (not the one this page last wrote
    there): a choice made on the page wins over a URL it wrote itself."""
    wanted = st.query_params.get(param)
    if wanted is None or wanted == st.session_state.get(f"{key}__url"):
        return None
    st.session_state[f"{key}__url"] = wanted
    return wanted


def keep_in_url(param: str, key: str, value: str | None) -> None:
    if value is None:
        if param in st.query_params:
            del st.query_params[param]
        st.session_state[f"{key}__url"] = None
        return
    st.query_params[param] = value
    st.session_state[f"{key}__url"] = value


def digest(markdown: Path) -> None:
    """A digest file as written: its Markdown (post texts in it are escaped by the digest, and
    raw HTML is never rendered here) and its chart."""
    try:
        text = markdown.read_text(encoding="utf-8")
    except OSError as error:
        st.warning(f"The digest file {markdown} cannot be read: {error}")
        return
    chart = markdown.with_suffix(".png")
    lines = [ln for ln in text.splitlines() if not ln.startswith(("![", "<!--"))]
    st.caption(str(markdown))
    if chart.exists():
        st.image(str(chart))
    st.markdown("\n".join(lines))
