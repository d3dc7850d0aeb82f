"""`claimwatch demo`: the whole story, offline, on an accelerated clock.

What it does, in order:

1. A fresh warehouse (`data/demo.duckdb` by default; the file, its staging folder and the demo's
   folder beside it are removed first), never the main one.
2. The story (`traffic.build_story`): the real posts and the generated traffic, every one of them
   recorded in `post_provenance` as `real` or `generated` before anything is collected, so the
   dashboard never shows a post unmarked.
3. A `SimulatedClock` from 2026-01-26 00:00 Toronto, running `speed` simulated seconds per real
   second (by default the story to 2026-01-31 08:00 in about 60 s), shared by the server and the
   scheduler.
4. The local server (`server.DemoServer`) on 127.0.0.1, and a config written beside the warehouse
   (`<db stem>/claimwatch-demo.toml`): the user's config with the served sources' `base_url` (and
   Mastodon's `instances`) pointed at the server, only those sources enabled, intervals of a
   second or two, no jitter, a heartbeat every second, digests written into the demo's folder and
   delivered nowhere. Bluesky and X get dummy credentials through the config's environment only.
5. The scheduler (`claimwatch.scheduler.Scheduler`, mode `demo`) in a thread, and the dashboard
   (`dashboard.launch`) as a child process; progress (simulated time, posts, mentions) printed as
   it goes; with `exit_when_done`, a stop once the digest of 2026-01-30 is written.
6. On the way out (done, Ctrl-C or SIGTERM): the scheduler finishes the batch in hand, one last
   analysis, the dashboard and the server are stopped, and a summary is printed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w
from rich.console import Console

from claimwatch.demo.server import DEMO_X_TOKEN, DemoServer
from claimwatch.demo.traffic import END, START, Story, build_story
from claimwatch.scheduler import Clock, Scheduler, SimulatedClock, stopping_on_signals
from claimwatch.services import dashboard_beside
from config import Config, load_config
from warehouse import Warehouse

log = logging.getLogger(__name__)

DEMO_DB = Path("data/demo.duckdb")
STORY_SECONDS = 60.0  # the default speed plays the story in about this many real seconds
DONE_DAY = date(2026, 1, 30)  # the digest that ends the story
SERVED_SOURCES = ("mastodon", "reddit", "news", "gdelt", "hackernews", "bluesky", "x")
DEMO_BLUESKY = {"handle": "demo-reader.bsky.example", "app_password": "demo-app-password"}
_PROVENANCE_CHUNK = 500
_TORONTO = ZoneInfo("America/Toronto")


def default_speed(seconds: float = STORY_SECONDS) -> float:
    """Simulated seconds per real second that play START..END in `seconds`."""
    return (END - START).total_seconds() / seconds


@dataclass(frozen=True)
class DemoOptions:
    db: Path = DEMO_DB
    config: Path = Path("config/claimwatch.toml")
    speed: float = field(default_factory=default_speed)
    seed: int = 2026
    dashboard: bool = True
    exit_when_done: bool = False
    interval_s: float = 1.5  # real seconds between two collections of a source
    address: str | None = None  # the dashboard's; None: the config's
    port: int | None = None
    timeout_s: float | None = None  # give up (exit 1) after this many real seconds


@dataclass
class DemoSummary:
    """What the demo left in its warehouse."""

    db: Path
    config: Path
    posts: dict[str, int]  # provenance -> posts stored
    by_source: dict[str, int]
    variants: dict[str, int]  # "claim:variant" -> posts mentioning it
    corrections: dict[str, int]  # kind -> corrections
    digests: list[date]
    clock_at: datetime
    elapsed_s: float
    done: bool  # the digest of DONE_DAY was written
    served: dict[str, int]
    errors: list[str]


# --- setup --------------------------------------------------------------------------------------


def fresh_paths(db: Path, main_db: Path | None = None) -> Path:
    """Remove the demo's warehouse, staging folder and demo folder; return the folder.

    Refuses the main warehouse (`main_db`), so a demo can never wipe collected data.
    """
    if main_db is not None and db.resolve() == main_db.resolve():
        raise ValueError(f"{db} is the main warehouse; the demo needs a file of its own")
    if db.suffix != ".duckdb":
        raise ValueError(f"expected the demo's warehouse to be a .duckdb file; found {db}")
    folder = db.with_suffix("")
    for path in (db, Path(f"{db}.wal")):
        path.unlink(missing_ok=True)
    for path in (Path(f"{db}.staging"), folder):
        shutil.rmtree(path, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def write_demo_config(base: Path, server_url: str, folder: Path, interval_s: float) -> Path:
    """The user's config file with the demo's changes (module docstring), written into `folder`."""
    with base.open("rb") as file:
        data: dict[str, Any] = tomllib.load(file)
    sources: dict[str, Any] = data.setdefault("sources", {})
    for source_id in [*sources, *SERVED_SOURCES]:
        sources.setdefault(source_id, {})["enabled"] = source_id in SERVED_SOURCES
    for source_id in SERVED_SOURCES:
        source = sources[source_id]
        source["interval"] = f"{int(interval_s * 1000)}ms"
        source["timeout"] = "10s"
        if source_id == "mastodon":
            source["instances"] = [server_url]
        else:
            source["base_url"] = server_url
    sources["news"]["feeds"] = []  # the demo serves Google News searches, not the outlets' feeds
    sources["gdelt"]["min_request_interval"] = "10ms"  # the server is not GDELT's
    sources["x"]["max_pages"] = 5
    sources["reddit"].pop("oauth_url", None)
    schedule = data.setdefault("schedule", {})
    schedule |= {"jitter": "0s", "heartbeat": "1s", "analyze_after_collect": True}
    digest = data.setdefault("digest", {})
    digest["output_dir"] = str(folder / "digests")
    for delivery in ("smtp", "webhook"):  # a demo's digest and alerts are delivered nowhere
        digest.pop(delivery, None)
    data.setdefault("dashboard", {}).pop("base_url", None)
    path = folder / "claimwatch-demo.toml"
    header = (
        f"# Written by `claimwatch demo` from {base}: sources pointed at the demo's local\n"
        "# server, short intervals, digests kept in the demo's folder. Do not edit.\n"
    )
    path.write_text(header + tomli_w.dumps(data), encoding="utf-8")
    return path


def demo_env(config: Config, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the demo's config resolves credentials in: the process's, without any
    source credential (so no real account is used), plus dummy Bluesky and X ones."""
    names = {
        name
        for source in config.sources.by_id().values()
        for name in source.credentials.env_names().values()
    }
    out = {k: v for k, v in (os.environ if env is None else env).items() if k not in names}
    bluesky = config.sources.bluesky.credentials.env_names()
    out[bluesky["handle"]] = DEMO_BLUESKY["handle"]
    out[bluesky["app_password"]] = DEMO_BLUESKY["app_password"]
    out[config.sources.x.credentials.env_names()["bearer_token"]] = DEMO_X_TOKEN
    return out


def load_demo_config(path: Path) -> Config:
    plain = load_config(path, env={})
    return load_config(path, env=demo_env(plain))


def record_provenance(warehouse: Warehouse, story: Story) -> int:
    """Mark every post the demo serves as real or generated (`post_provenance`), in short writes."""
    rows = story.provenance_rows()
    now = datetime.now(UTC)
    for start in range(0, len(rows), _PROVENANCE_CHUNK):
        chunk = [(*row, now) for row in rows[start : start + _PROVENANCE_CHUNK]]
        with warehouse.writing() as con:
            con.executemany(
                "INSERT OR REPLACE INTO store.post_provenance"
                " (post_uid, provenance, note, recorded_at) VALUES (?, ?, ?, ?)",
                chunk,
            )
    return len(rows)


# --- running ------------------------------------------------------------------------------------


class StoryClock:
    """The story's clock: at START until `begin()`, then a `SimulatedClock` from START."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._clock: SimulatedClock | None = None

    def begin(self) -> None:
        self._clock = SimulatedClock(START, self.speed)

    def now(self) -> datetime:
        return START if self._clock is None else self._clock.now()


Say = Callable[[str], None]


def run_demo(options: DemoOptions, say: Say = print, main_db: Path | None = None) -> DemoSummary:
    """Play the story (module docstring) and return what the warehouse holds at the end."""
    started = time.monotonic()
    folder = fresh_paths(options.db, main_db)
    story = build_story(options.seed)
    warehouse = Warehouse(options.db, lock_timeout=10, read_timeout=30)
    marked = record_provenance(warehouse, story)
    counts = story.counts()
    say(
        f"story: {marked} posts ({counts.get('real', 0)} real, {counts.get('generated', 0)}"
        f" generated), {START:%Y-%m-%d} to {END:%Y-%m-%d %H:%M} UTC, at {options.speed:,.0f}x"
    )
    clock = StoryClock(options.speed)
    rate_window = max(300.0 / options.speed, 1.0)
    stop = threading.Event()
    with DemoServer(story, clock, rate_window=rate_window) as server:
        config_path = write_demo_config(options.config, server.url, folder, options.interval_s)
        config = load_demo_config(config_path)
        say(f"local APIs on {server.url}; config {config_path}")
        scheduler = Scheduler(config, warehouse, clock=clock, mode="demo")
        thread = threading.Thread(target=scheduler.run, args=(stop,), name="demo-scheduler")
        with stopping_on_signals(stop), _dashboard(options, config, config_path, say, stop):
            clock.begin()  # the story starts once the dashboard can show it
            thread.start()
            done = _follow(warehouse, clock, stop, options, started, say)
            ended_at = clock.now()
            stop.set()
            thread.join()
        _final_analysis(warehouse, config, say)
        summary = summarise(warehouse, options.db, config_path, ended_at, started, done)
        summary.served = dict(server.log.served)
        summary.errors = list(scheduler.report.errors)
    return summary


def _follow(
    warehouse: Warehouse,
    clock: Clock,
    stop: threading.Event,
    options: DemoOptions,
    started: float,
    say: Say,
) -> bool:
    """Print the simulated time and what is stored as it goes; True once the story's digest is
    written (and, with `exit_when_done`, return then)."""
    done = False
    caught_up: _CatchingUp | None = None
    last_line = ""
    while not stop.wait(1.0):
        now = clock.now()
        with contextlib.suppress(Exception):  # a busy file just skips one progress line
            posts, mentions, corrections, digests = _progress(warehouse)
            done = done or DONE_DAY in digests
            line = (
                f"{_bar(now)} {now.astimezone(_TORONTO):%a %d %b %H:%M} Toronto | posts {posts}"
                f" | mentions {mentions} | corrections {corrections}"
                + (f" | digest {digests[-1]}" if digests else "")
            )
            if line != last_line:
                say(line)
                last_line = line
        if done and options.exit_when_done:
            # the digest can be written before every source has collected its day: let each
            # one finish one more run first, so that a stop never cuts a post of the story off
            caught_up = caught_up or _CatchingUp(warehouse)
            if caught_up.done(warehouse):
                return True
        if options.timeout_s is not None and time.monotonic() - started > options.timeout_s:
            say(f"gave up after {options.timeout_s:.0f} s without the digest of {DONE_DAY}")
            return done
    return done


class _CatchingUp:
    """Whether every source has finished a run since this was made."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.before = _finished_runs(warehouse)

    def done(self, warehouse: Warehouse) -> bool:
        if not self.before:  # the file was busy (or nothing has run yet): look again
            self.before = _finished_runs(warehouse)
            return False
        now = _finished_runs(warehouse)
        return all(now.get(source, 0) > count for source, count in self.before.items())


def _finished_runs(warehouse: Warehouse) -> dict[str, int]:
    """Finished collector runs per source (not imports nor analyses)."""
    with contextlib.suppress(Exception), warehouse.reading() as con:
        rows = con.execute(
            "SELECT source, count(*) FROM collector_runs WHERE finished_at IS NOT NULL"
            " AND source NOT IN ('import', 'analysis') GROUP BY source"
        ).fetchall()
        return {str(source): int(count) for source, count in rows}
    return {}


def _bar(now: datetime, width: int = 24) -> str:
    share = (now - START) / (END - START)
    filled = max(0, min(width, round(share * width)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _progress(warehouse: Warehouse) -> tuple[int, int, int, list[date]]:
    with warehouse.reading() as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM claim_mentions),"
            " (SELECT count(*) FROM corrections)"
        ).fetchone()
        days = [d for (d,) in con.execute("SELECT day FROM digests ORDER BY day").fetchall()]
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), days


def _final_analysis(warehouse: Warehouse, config: Config, say: Say) -> None:
    from claims.job import analyze_warehouse

    try:
        report = analyze_warehouse(warehouse, config)
    except Exception as error:  # the summary still says what is there
        say(f"last analysis failed: {error}")
        return
    log.info("last analysis: %d post(s) read", report.posts_read)


def summarise(
    warehouse: Warehouse,
    db: Path,
    config_path: Path,
    clock_at: datetime,
    started: float,
    done: bool,
) -> DemoSummary:
    with warehouse.reading() as con:
        posts = dict(
            con.execute(
                "SELECT coalesce(pp.provenance, 'unmarked'), count(*) FROM posts p"
                " LEFT JOIN post_provenance pp USING (post_uid) GROUP BY ALL"
            ).fetchall()
        )
        by_source = dict(con.execute("SELECT source, count(*) FROM posts GROUP BY ALL").fetchall())
        variants = dict(
            con.execute(
                "SELECT claim_id || ':' || variant, posts FROM variant_summary"
                " WHERE variant IS NOT NULL"
            ).fetchall()
        )
        corrections = dict(
            con.execute("SELECT kind, count(*) FROM corrections GROUP BY ALL").fetchall()
        )
        digests = [d for (d,) in con.execute("SELECT day FROM digests ORDER BY day").fetchall()]
    return DemoSummary(
        db=db,
        config=config_path,
        posts={str(k): int(v) for k, v in posts.items()},
        by_source={str(k): int(v) for k, v in by_source.items()},
        variants={str(k): int(v) for k, v in variants.items()},
        corrections={str(k): int(v) for k, v in corrections.items()},
        digests=digests,
        clock_at=clock_at,
        elapsed_s=time.monotonic() - started,
        done=done,
        served={},
        errors=[],
    )


@contextlib.contextmanager
def _dashboard(
    options: DemoOptions, config: Config, config_path: Path, say: Say, stop: threading.Event
) -> Iterator[None]:
    """The dashboard as a child process while the demo runs (unless `options.dashboard` is off)."""
    if not options.dashboard:
        yield
        return
    address = options.address or config.dashboard.address
    port = options.port or config.dashboard.port
    log_path = config_path.parent / "dashboard.log"
    with dashboard_beside(
        options.db.resolve(), config_path.resolve(), address, port, log_path, stop
    ) as process:
        if process is not None:
            say(f"dashboard: http://{address}:{port} (Ctrl-C stops the demo)")
        else:
            say(f"the dashboard did not start (see {log_path}); the demo goes on without it")
        yield


def print_summary(summary: DemoSummary, out: Console) -> None:
    """What the demo left, for a person: where it is, what is in it, what to query next."""
    lines = [
        f"demo warehouse: {summary.db} (config {summary.config})",
        f"simulated time reached {summary.clock_at.astimezone(_TORONTO):%Y-%m-%d %H:%M} Toronto"
        f" in {summary.elapsed_s:.0f} s",
        "posts: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(summary.posts.items()))
        + " ("
        + ", ".join(f"{source} {n}" for source, n in sorted(summary.by_source.items()))
        + ")",
        "variants: " + ", ".join(f"{k} {n} posts" for k, n in sorted(summary.variants.items())),
        "corrections: " + ", ".join(f"{n} {k}" for k, n in sorted(summary.corrections.items())),
        "digests: " + (", ".join(str(day) for day in summary.digests) or "none"),
    ]
    if not summary.done:
        lines.append(f"the digest of {DONE_DAY} was not written")
    lines += [f"error: {error}" for error in dict.fromkeys(summary.errors)]
    lines.append(f'next: claimwatch --db {summary.db} sql "SELECT * FROM variant_summary"')
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
