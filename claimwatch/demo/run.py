"""`claimwatch demo`: the whole story, offline, on an accelerated clock.

What it does, in order:

1. A fresh warehouse (`data/demo.duckdb` by default; the file, its staging folder and the demo's
   folder beside it are removed first), never the main one.
2. The story (`traffic.build_story`): the real posts and the generated traffic, every one of them
   recorded in `post_provenance` as `real` or `generated` before anything is collected, so the
   dashboard never shows a post unmarked.
3. The story's clock (`StoryClock`) from 2026-01-26 00:00 Toronto, running `speed` simulated
   seconds per real second (by default the story to 2026-01-31 08:00 in about 60 s), shared by
   the server and the scheduler. It waits for the pipeline rather than outrunning it: it stops
   at each digest's time until the scheduler has written that digest (which it does once the
   day is collected and analysed: docs/digest.md), and at the end of the story for good.
4. The local server (`server.DemoServer`) on 127.0.0.1, and a config written beside the warehouse
   (`<db stem>/claimwatch-demo.toml`): the user's config with the served sources' `base_url` (and
   Mastodon's `instances`) pointed at the server, only those sources enabled, intervals of a
   second or two, no jitter, a heartbeat every second, digests written into the demo's folder and
   delivered nowhere. Bluesky and X get dummy credentials through the config's environment only.
5. The scheduler (`claimwatch.scheduler.Scheduler`, mode `demo`) in a thread, and the dashboard
   (`dashboard.launch`) as a child process; progress (simulated time, posts, mentions, the digest
   waited for) printed as it goes. Once the story is over (the clock at its end, the digest of
   2026-01-30 written, every post collected and analysed) the demo says so and serves on until
   Ctrl-C; with `exit_when_done`, it stops then.
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
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w
from rich.console import Console

from claimwatch.demo.server import DEMO_X_TOKEN, DemoServer
from claimwatch.demo.traffic import END, START, Story, build_story
from claimwatch.scheduler import Scheduler, stopping_on_signals
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


def write_demo_config(
    base: Path, server_url: str, folder: Path, interval_s: float, options: DemoOptions | None = None
) -> Path:
    """The user's config file with the demo's changes (module docstring), written into `folder`:
    its links point at the demo's own dashboard (`options.address`, `options.port`), never at the
    user's public one."""
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
    dashboard = data.setdefault("dashboard", {})
    for key in ("base_url", "public_url"):
        dashboard.pop(key, None)
    if options is not None:
        dashboard |= {
            key: value
            for key, value in (("address", options.address), ("port", options.port))
            if value is not None
        }
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
    """The story's clock: at START until `begin()`, then `speed` simulated seconds per real
    second, but never past END (the story ends there), nor past a digest's time (`gates`: the
    moment each day's digest is due) until the pipeline has written it (`passed`): the clock
    waits for the pipeline rather than outrunning it, at any speed."""

    def __init__(self, speed: float, gates: dict[datetime, date] | None = None) -> None:
        self.speed = speed
        self._gates = dict(sorted((gates or {}).items()))  # due at -> the day whose digest
        self._from = START
        self._t0: float | None = None
        self._lock = threading.Lock()

    def begin(self) -> None:
        with self._lock:
            self._t0 = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        if self._t0 is None:
            return START
        free = self._from + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)
        return min(free, next(iter(self._gates), END), END)

    @property
    def held_for(self) -> date | None:
        """The day whose digest the clock is waiting for, once it has reached its time."""
        with self._lock:
            gate = next(iter(self._gates), None)
            return self._gates[gate] if gate is not None and self._now() >= gate else None

    def passed(self, written: Collection[date]) -> None:
        """Let the clock run past the time of each digest in `written`."""
        with self._lock:
            for gate, day in list(self._gates.items()):
                if day in written:
                    self._from, self._t0 = self._now(), time.monotonic()
                    del self._gates[gate]

    @property
    def ended(self) -> bool:
        return self.now() >= END


def digest_gates(config: Config) -> dict[datetime, date]:
    """When each digest of the story is due (`[digest] time` local, the day after), between
    START and END: the times the story's clock waits at."""
    zone, at = config.digest.zone, config.digest.time
    first = START.astimezone(zone).date()
    days = (END.astimezone(zone).date() - first).days + 1
    gates = {}
    for n in range(days):
        due = datetime.combine(first + timedelta(days=n), at, tzinfo=zone).astimezone(UTC)
        if START <= due <= END:
            gates[due] = first + timedelta(days=n - 1)
    return gates


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
    clock = StoryClock(options.speed, digest_gates(load_config(options.config, env={})))
    rate_window = max(300.0 / options.speed, 1.0)
    stop = threading.Event()
    with DemoServer(story, clock, rate_window=rate_window) as server:
        config_path = write_demo_config(
            options.config, server.url, folder, options.interval_s, options
        )
        config = load_demo_config(config_path)
        say(f"local APIs on {server.url}; config {config_path}")
        scheduler = Scheduler(config, warehouse, clock=clock, mode="demo")
        thread = threading.Thread(target=scheduler.run, args=(stop,), name="demo-scheduler")
        with stopping_on_signals(stop), _dashboard(options, config, config_path, say, stop):
            clock.begin()  # the story starts once the dashboard can show it
            thread.start()
            done = _follow(warehouse, clock, scheduler, stop, options, started, say)
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
    clock: StoryClock,
    scheduler: Scheduler,
    stop: threading.Event,
    options: DemoOptions,
    started: float,
    say: Say,
) -> bool:
    """Let the clock past each digest the scheduler writes, and print the simulated time and
    what is stored as it goes; True once the story is over: the clock at END, the digest of
    DONE_DAY written and every post of the story collected and analysed. With
    `exit_when_done`, return then; otherwise serve on until stopped."""
    done = False
    last_line = ""
    next_line = 0.0
    while not stop.wait(0.2):
        clock.passed(scheduler.report.digests)
        if time.monotonic() >= next_line:
            next_line = time.monotonic() + 1.0
            last_line = _say_progress(warehouse, clock, last_line, say)
        if not done and _story_over(clock, scheduler):
            done = True
            say(
                f"the story is over ({END.astimezone(_TORONTO):%Y-%m-%d %H:%M} Toronto) and its"
                f" digests are written, the last of {DONE_DAY}"
                + ("" if options.exit_when_done else "; serving until Ctrl-C")
            )
            if options.exit_when_done:
                return True
        if options.timeout_s is not None and time.monotonic() - started > options.timeout_s:
            say(f"gave up after {options.timeout_s:.0f} s, before the end of the story")
            return done
    return done


def _story_over(clock: StoryClock, scheduler: Scheduler) -> bool:
    if not clock.ended or DONE_DAY not in scheduler.report.digests:
        return False
    with contextlib.suppress(Exception):  # a busy file: look again
        return scheduler.caught_up(END)
    return False


def _say_progress(warehouse: Warehouse, clock: StoryClock, last_line: str, say: Say) -> str:
    """A line of progress when it changed (a busy file just skips one)."""
    now = clock.now()
    with contextlib.suppress(Exception):
        posts, mentions, corrections, digests = _progress(warehouse)
        held = clock.held_for
        line = (
            f"{_bar(now)} {now.astimezone(_TORONTO):%a %d %b %H:%M} Toronto | posts {posts}"
            f" | mentions {mentions} | corrections {corrections}"
            + (f" | digest {digests[-1]}" if digests else "")
            + (f" | waiting for the digest of {held}" if held else "")
        )
        if line != last_line:
            say(line)
        return line
    return last_line


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
