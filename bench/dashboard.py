"""Dashboard benchmark (issue 6): every page's queries on warehouses of 1M and 5M posts, cold and
warm, against a naive baseline that pulls the rows into Python and counts there.

    python bench/dashboard.py                    # 1,000,000 and 5,000,000 posts
    python bench/dashboard.py --posts 200000     # quicker: one size
    python bench/dashboard.py --rebuild          # generate the warehouses again

Warehouses: posts from `bench/story_posts.py` (Canadian chatter and news, a few percent about the
story, with copies and reposts) written with `Warehouse.write`, then `analyze_warehouse(full=True)`,
plus a few hundred collector runs and scheduler rows. Building the 5M one takes minutes, so each
is cached as `bench/.cache/dashboard-<posts>.duckdb` (gitignored) and reused.

What is timed is what a page run does, the way `dashboard/common.py` does it, with the sidebar's
widest filters (all claims, all time, all sources) and the process's `FactsCache`: the page run's
one snapshot (`FactsCache.snapshot`: the data's stamp, the heartbeats, the sidebar's counts and,
for a page that counts with them, the facts, in one read-only session), then its function of
`dashboard/data/` (`overview_page`, `claim_page`...) for that snapshot's stamp
(`FactsCache.result`, which reads in a session of its own only what it does not hold yet). Each
page runs in its own process:

- cold: the first run after the OS page cache was dropped (`/proc/sys/vm/drop_caches`, as root;
  the table says when that was not possible), in a process that has not read the file: the
  facts (every mention with its post's fields, and the corrections) are read from the views;
- warm: the median of the next 5 runs, each in a new session (the dashboard closes the file
  between reads): the snapshot finds the stamp unchanged and the page's result is the one kept;
- other filters: a run whose filters differ from the last (the page computed again from the
  facts in memory), the median of 5;
- uncached: a run that reads the views itself (no cache), OS cache warm: what every run would
  cost without the cache;
- naive: the same page's numbers computed in Python from the rows pulled with plain SELECTs
  (`fetchall`, then dicts and sets), warm, once.

Goals at 5M posts: every page under 100 ms warm and under 1 s cold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
CONFIG = ROOT / "config" / "claimwatch.toml"
CACHE = ROOT / "bench" / ".cache"
CHUNK = 500_000
TZ = "America/Toronto"
WARM_RUNS = 5
PAGES = ("overview", "claim", "posts", "paths", "sources", "sql")
READS_FACTS = {"overview", "claim", "posts", "paths"}
GOAL_WARM_MS = 100
GOAL_COLD_MS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](*args.child[1:]), default=str))
        return
    console = Console(width=150)
    rows: list[dict[str, Any]] = []
    for size in sorted(set(args.posts)):
        db = CACHE / f"dashboard-{size}.duckdb"
        if args.rebuild or not db.exists():
            console.print(f"building a warehouse of {size:,} posts (cached as {db})…")
            built = child(console, "build", size, db)
            console.print(
                f"  generated and written in {built['load_s']:.1f} s, analysed in"
                f" {built['analyze_s']:.1f} s: {built['mentions']:,} mentions"
            )
        for page in PAGES:
            console.print(f"{size:,} posts: {page}…")
            rows.append({"size": size, "page": page, **child(console, "page", db, page)})
    console.print(result_table(rows))


def child(console: Console, case: str, *args: object) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", case, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        console.print(done.stderr)
        raise SystemExit(f"case {case} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- building a warehouse -------------------------------------------------------------------------


def build(size: str, db: str) -> dict[str, Any]:
    from story_posts import generate_story_posts

    from claims.job import analyze_warehouse
    from config import load_config
    from warehouse import Batch, Warehouse

    path = Path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    warehouse = Warehouse(path, lock_timeout=60)
    started = time.perf_counter()
    total = int(size)
    for offset in range(0, total, CHUNK):
        table = generate_story_posts(min(CHUNK, total - offset), offset=offset)
        warehouse.write(Batch(posts=table.drop_columns(["bench_group", "bench_copy"])))
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    report = analyze_warehouse(warehouse, load_config(CONFIG), full=True)
    analyze_s = time.perf_counter() - started
    _operations(warehouse)
    return {
        "load_s": load_s,
        "analyze_s": analyze_s,
        "mentions": sum(c.mentions for c in report.claims),
    }


def _operations(warehouse: Any) -> None:
    """A month of collector runs every 15 minutes for five sources, their jobs, a heartbeat."""
    with warehouse.writing() as con:
        con.execute(
            """
            INSERT INTO store.collector_runs
            SELECT 'bench-' || s || '-' || i, s, 'ice-canada',
                   TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL 15 MINUTE,
                   TIMESTAMPTZ '2026-01-01 00:00:30+00' + i * INTERVAL 15 MINUTE,
                   CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'ok' END, 40, 5,
                   CASE WHEN i % 50 = 0 THEN 'HTTP 503' END,
                   '{"limit": 300, "remaining": 250, "requests": 2}'
            FROM range(2976) r(i),
                 (VALUES ('mastodon'), ('reddit'), ('news'), ('gdelt'), ('hackernews')) v(s)"""
        )
        con.execute(
            """
            INSERT INTO store.scheduler_jobs
            SELECT 'collect:' || s || ':ice-canada', 'collect', s, 'ice-canada', 900, 900,
                   now() + INTERVAL 10 MINUTE, now(), 'ok', NULL, 0, 'bench', now()
            FROM (VALUES ('mastodon'), ('reddit'), ('news'), ('gdelt'), ('hackernews')) v(s)"""
        )
        con.execute(
            "INSERT INTO store.heartbeats VALUES ('bench', 1, 'bench', 'run', now(), now(),"
            " now(), now())"
        )


# --- one page -------------------------------------------------------------------------------------


def page(db: str, name: str) -> dict[str, Any]:
    from config import load_config
    from dashboard.data import (  # noqa: F401  imported before the clock starts, as in the app
        claim,
        overview,
        paths,
        posts,
        sources,
        sql,
    )
    from warehouse import Warehouse

    dropped = _drop_os_cache()
    warehouse = Warehouse(Path(db))
    claims = tuple(load_config(CONFIG).claims)
    started = time.perf_counter()
    with warehouse.reading() as con:
        context = _context(con, claims)
    context_ms = (time.perf_counter() - started) * 1000
    _drop_os_cache()
    cold_ms, rows = _timed_run(warehouse, name, context)
    warm = [_timed_run(warehouse, name, context)[0] for _ in range(WARM_RUNS)]
    other = [_timed_run(warehouse, name, context, kept=False)[0] for _ in range(WARM_RUNS)]
    assert context["cache"].loads == (1 if name in READS_FACTS else 0), "the facts were reread"
    uncached = [_timed_uncached(warehouse, name, context) for _ in range(2)]
    started = time.perf_counter()
    naive_rows = NAIVE[name](warehouse, context) if name in NAIVE else None
    naive_ms = (time.perf_counter() - started) * 1000 if naive_rows is not None else None
    return {
        "cold_ms": cold_ms,
        "warm_ms": statistics.median(warm),
        "warm_max_ms": max(warm),
        "other_ms": statistics.median(other),
        "uncached_ms": min(uncached),
        "naive_ms": naive_ms,
        "rows": rows,
        "naive_rows": naive_rows,
        "os_cache_dropped": dropped,
        "context_ms": context_ms,
    }


def _drop_os_cache() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def _context(con: Any, claims: tuple[str, ...]) -> dict[str, Any]:
    """What the sidebar and the URL give a page: the widest scope, the data's latest time as
    "now", the first claim and its leading variant."""
    from dashboard.data.shared import FactsCache, Scope

    latest = con.execute("SELECT max(created_at) FROM posts").fetchone()[0]
    claim = claims[0]
    leading = con.execute(
        "SELECT variant FROM variant_summary WHERE claim_id = ? AND is_leading", [claim]
    ).fetchone()
    return {
        "scope": Scope(claims),
        "now": latest,
        "claim": claim,
        "variant": leading[0] if leading else None,
        "cache": FactsCache(),
    }


def _timed_run(
    warehouse: Any, name: str, context: dict[str, Any], kept: bool = True
) -> tuple[float, int]:
    """A page run as the dashboard does it: the snapshot, then the page for its stamp (the
    result kept from the last run, unless `kept` is false: other filters)."""
    cache = context["cache"]
    started = time.perf_counter()
    with warehouse.reading() as con:
        stamp = cache.snapshot(con, with_facts=name in READS_FACTS).stamp

    def compute() -> int:
        with warehouse.reading() as con:
            return BATCHES[name](con, {**context, "cache": cache.at(stamp)})

    rows = cache.result(stamp, name, compute) if kept else compute()
    return (time.perf_counter() - started) * 1000, rows


def _timed_uncached(warehouse: Any, name: str, context: dict[str, Any]) -> float:
    from dashboard.data.shared import freshness

    started = time.perf_counter()
    with warehouse.reading() as con:
        freshness(con)  # the sidebar's
        BATCHES[name](con, {**context, "cache": None})
    return (time.perf_counter() - started) * 1000


def _overview(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.overview import overview_page

    data = overview_page(con, c["scope"], c["now"], TZ, cache=c["cache"])
    return int(data.claims.get_column("posts").sum())


def _claim(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.claim import claim_page, point_posts
    from dashboard.data.shared import PostQuery

    data = claim_page(con, c["scope"], c["claim"], "hour", TZ, cache=c["cache"])
    last = data.spread.get_column("bucket").max()
    point = PostQuery(c["claim"], c["variant"], last, None, limit=500)
    point_posts(con, c["scope"], point, cache=c["cache"])  # the posts under the chart
    return data.spread.height


def _posts(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.posts import posts_page
    from dashboard.data.shared import PostQuery, variant_stats

    variant_stats(con, c["scope"].only(c["claim"]), cache=c["cache"])  # the picker
    query = PostQuery(c["claim"], c["variant"])
    data = posts_page(con, c["scope"], query, cache=c["cache"])
    return data.total


def _paths(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.paths import paths_page
    from dashboard.data.shared import variant_stats

    variant_stats(con, c["scope"].only(c["claim"]), cache=c["cache"])  # the picker
    data = paths_page(con, c["scope"], c["claim"], c["variant"], cache=c["cache"])
    return data.tree.height


def _sources(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.sources import sources_page

    data = sources_page(con, c["scope"], "day", TZ, "collected_at", cache=c["cache"])
    return int(data.per_source.get_column("posts").sum())


def _sql(con: Any, c: dict[str, Any]) -> int:
    from dashboard.data.sql import view_columns
    from warehouse.views import VIEWS

    # the page lists the schema; the query in the box runs only when asked, at its own cost
    columns = view_columns(con, tuple(VIEWS))
    return columns.height


BATCHES: dict[str, Callable[[Any, dict[str, Any]], int]] = {
    "overview": _overview,
    "claim": _claim,
    "posts": _posts,
    "paths": _paths,
    "sources": _sources,
    "sql": _sql,
}


# --- the naive baseline: rows into Python, counted there ------------------------------------------


def _mention_rows(warehouse: Any, claim: str | None = None) -> list[tuple[Any, ...]]:
    where = "WHERE m.claim_id = ?" if claim else ""
    with warehouse.reading() as con:
        rows: list[tuple[Any, ...]] = con.execute(
            "SELECT m.claim_id, m.variant, m.post_uid, m.created_at, p.author_id,"
            " p.author_handle, p.author_followers, p.likes, p.reposts, p.replies, p.quotes"
            f" FROM claim_mentions m JOIN posts p USING (post_uid) {where}",
            [claim] if claim else [],
        ).fetchall()
    return rows


def _reach(row: tuple[Any, ...]) -> int:
    return sum(max(v or 0, 0) for v in row[6:11])


def _naive_overview(warehouse: Any, c: dict[str, Any]) -> int:
    day_ago = c["now"] - timedelta(hours=24)
    posts: dict[str, int] = defaultdict(int)
    authors: dict[str, set[str]] = defaultdict(set)
    recent: dict[str, int] = defaultdict(int)
    by_variant: dict[tuple[str, str | None], int] = defaultdict(int)
    for row in _mention_rows(warehouse):
        claim = row[0]
        posts[claim] += 1
        authors[claim].add(row[4] or row[5])
        by_variant[(claim, row[1])] += 1
        if day_ago <= row[3] < c["now"]:
            recent[claim] += 1
    with warehouse.reading() as con:
        fixes = con.execute("SELECT claim_id, created_at, author_handle FROM corrections")
        corrections = fixes.fetchall()
    latest: dict[str, datetime] = {}
    for claim, at, _ in corrections:
        latest[claim] = max(latest.get(claim, at), at)
    days: dict[tuple[str, str | None, datetime], int] = defaultdict(int)
    for row in _mention_rows(warehouse):
        day = row[3].replace(hour=0, minute=0, second=0, microsecond=0)
        days[(row[0], row[1], day)] += 1
    return sum(posts.values())


def _naive_claim(warehouse: Any, c: dict[str, Any]) -> int:
    hours: dict[tuple[str | None, datetime], list[Any]] = defaultdict(lambda: [0, set(), 0])
    for row in _mention_rows(warehouse, c["claim"]):
        bucket = hours[(row[1], row[3].replace(minute=0, second=0, microsecond=0))]
        bucket[0] += 1
        bucket[1].add(row[4] or row[5])
        bucket[2] += _reach(row)
    return len(hours)


def _naive_posts(warehouse: Any, c: dict[str, Any]) -> int:
    with warehouse.reading() as con:
        rows = con.execute(
            "SELECT m.post_uid, m.variant, m.stance, m.matched_text, m.created_at, p.text, p.url"
            " FROM claim_mentions m JOIN posts p USING (post_uid) WHERE m.claim_id = ?",
            [c["claim"]],
        ).fetchall()
    chosen = sorted((r for r in rows if r[1] == c["variant"]), key=lambda r: (r[4], r[0]))
    return len(chosen)


def _naive_paths(warehouse: Any, c: dict[str, Any]) -> int:
    with warehouse.reading() as con:
        rows = con.execute(
            "SELECT m.post_uid, m.variant, p.parent_uid, m.source, m.created_at"
            " FROM claim_mentions m JOIN posts p USING (post_uid) WHERE m.claim_id = ?",
            [c["claim"]],
        ).fetchall()
    mine = {r[0]: r for r in rows if r[1] == c["variant"]}
    depth: dict[str, int] = {}
    for uid in mine:
        steps, up = 0, mine[uid][2]
        while up in mine and steps < 64:
            steps, up = steps + 1, mine[up][2]
        depth[uid] = steps
    first: dict[str, datetime] = {}
    for r in mine.values():
        first[r[3]] = min(first.get(r[3], r[4]), r[4])
    return len(mine)


def _naive_sources(warehouse: Any, c: dict[str, Any]) -> int:
    with warehouse.reading() as con:
        rows = con.execute("SELECT source, collected_at FROM posts").fetchall()
    days: dict[tuple[str, datetime], int] = defaultdict(int)
    for source, at in rows:
        days[(source, at.replace(hour=0, minute=0, second=0, microsecond=0))] += 1
    return sum(days.values())


NAIVE: dict[str, Callable[[Any, dict[str, Any]], int]] = {
    "overview": _naive_overview,
    "claim": _naive_claim,
    "posts": _naive_posts,
    "paths": _naive_paths,
    "sources": _naive_sources,
}
CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {"build": build, "page": page}


def result_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Dashboard pages: each page run's reads and computing (ms)")
    columns = ("posts in warehouse", "page", "cold", "warm (median of 5)", "other filters")
    for name in (*columns, "uncached, warm", "naive, warm"):
        table.add_column(name, justify="right")
    table.add_column("naive / warm", justify="right")
    table.add_column(f"goal (5M: warm < {GOAL_WARM_MS}, cold < {GOAL_COLD_MS})")
    for r in rows:
        naive = r["naive_ms"]
        ok = r["warm_ms"] < GOAL_WARM_MS and r["cold_ms"] < GOAL_COLD_MS
        table.add_row(
            f"{r['size']:,}",
            r["page"],
            f"{r['cold_ms']:,.0f}" + ("" if r["os_cache_dropped"] else " (OS cache warm)"),
            f"{r['warm_ms']:,.0f}",
            f"{r['other_ms']:,.0f}",
            f"{r['uncached_ms']:,.0f}",
            f"{naive:,.0f}" if naive is not None else "—",
            f"{naive / r['warm_ms']:,.1f}" if naive is not None else "—",
            ("met" if ok else "MISSED") if r["size"] >= 5_000_000 else "",
        )
    return table


if __name__ == "__main__":
    main()
