"""Load benchmark: generated posts imported into a fresh warehouse, then again (all duplicates).

    python bench/load.py                  # 1,000,000 posts (a few minutes)
    python bench/load.py --posts 100000   # quicker

Each case runs in its own process so that its peak memory is its own. The naive baseline inserts
the same posts one row at a time (look up the key, then INSERT), as a loop over posts would; it runs
on the first --baseline-posts posts only, since at its speed a million would take many minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from generate import generate_posts  # noqa: E402

from claimwatch.importer import import_file  # noqa: E402
from warehouse import Batch, Warehouse  # noqa: E402
from warehouse.schema import POST_COLUMN_NAMES  # noqa: E402

GOALS = {"fresh": 300_000, "reimport": 150_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--baseline-posts", type=int, default=20_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(*args.child)))
        return
    console = Console()
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        work = Path(tmp)
        console.print(f"generating {args.posts:,} posts…")
        files = write_inputs(work, args.posts)
        rows = [measure(console, work, case, fmt, files[fmt], args.posts) for case, fmt in CASES]
        rows.append(
            measure(console, work, "naive", "parquet", files["parquet"], args.baseline_posts)
        )
    console.print(result_table(rows, args.posts))


CASES = [
    ("import fresh", "jsonl"),
    ("import again", "jsonl"),
    ("import fresh", "parquet"),
    ("import again", "parquet"),
    ("write fresh", "arrow"),
    ("write again", "arrow"),
]


def write_inputs(work: Path, n: int) -> dict[str, Path]:
    posts = generate_posts(n)
    pq.write_table(posts, work / "posts.parquet")
    with duckdb.connect() as con:
        con.register("p", posts)
        con.execute(f"COPY p TO '{work / 'posts.jsonl'}' (FORMAT json)")
    return {
        "jsonl": work / "posts.jsonl",
        "parquet": work / "posts.parquet",
        "arrow": work / "posts.parquet",
    }


def measure(
    console: Console, work: Path, case: str, fmt: str, file: Path, n: int
) -> dict[str, Any]:
    db = work / f"{fmt}.duckdb"
    if "fresh" in case or case == "naive":
        for leftover in work.glob(f"{fmt}.duckdb*"):
            leftover.unlink()
        db = work / (f"{fmt}.duckdb" if case != "naive" else "naive.duckdb")
    console.print(f"{case} ({fmt})…")
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, fmt, str(file), str(db), str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {"case": case, "format": fmt, **json.loads(out.strip().splitlines()[-1])}


def run_case(case: str, fmt: str, file: str, db: str, n: str) -> dict[str, Any]:
    warehouse = Warehouse(Path(db))
    if case == "naive":
        posts = pq.read_table(file).slice(0, int(n))
        start = time.perf_counter()
        naive_insert(Path(db), posts)
    elif case.startswith("write"):
        posts = pq.read_table(file).slice(0, int(n))
        start = time.perf_counter()
        warehouse.write(Batch(posts=posts))
    else:
        start = time.perf_counter()
        import_file(Path(file), warehouse, fmt)
    seconds = time.perf_counter() - start
    with warehouse.reading() as con:
        stored = con.execute("SELECT count(*) FROM posts").fetchone()
    return {
        "posts": int(n),
        "seconds": seconds,
        "stored": stored[0] if stored else 0,
        "peak_mb": peak_memory_mb(),
    }


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def naive_insert(db: Path, posts: pa.Table) -> None:
    """One lookup and one INSERT per post: what a loop over posts does."""
    with Warehouse(db).writing() as con:
        columns = ", ".join(POST_COLUMN_NAMES)
        marks = ", ".join("?" for _ in POST_COLUMN_NAMES)
        for post in posts.to_pylist():
            post["post_uid"] = f"{post['source']}:{post['source_id']}"
            found = con.execute(
                "SELECT 1 FROM store.posts WHERE post_uid = ?", [post["post_uid"]]
            ).fetchone()
            if not found:
                con.execute(
                    f"INSERT INTO store.posts ({columns}) VALUES ({marks})",
                    [post.get(c) for c in POST_COLUMN_NAMES],
                )


def result_table(rows: list[dict[str, Any]], n: int) -> Table:
    baseline = next(r for r in rows if r["case"] == "naive")
    base_rate = baseline["posts"] / baseline["seconds"]
    table = Table(title=f"load benchmark, {n:,} posts, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for column in (
        "case",
        "input",
        "posts",
        "seconds",
        "posts/s",
        "vs naive",
        "goal",
        "peak MB",
        "stored",
    ):
        table.add_column(column, justify="left" if column in ("case", "input") else "right")
    for r in rows:
        rate = r["posts"] / r["seconds"]
        goal = GOALS["fresh" if "fresh" in r["case"] else "reimport"] if r["case"] != "naive" else 0
        verdict = "" if not goal else (f"{goal:,} ok" if rate >= goal else f"{goal:,} MISSED")
        table.add_row(
            r["case"],
            r["format"],
            f"{r['posts']:,}",
            f"{r['seconds']:.2f}",
            f"{rate:,.0f}",
            f"{rate / base_rate:,.0f}x",
            verdict,
            f"{r['peak_mb']:,.0f}",
            f"{r['stored']:,}",
        )
    return table


if __name__ == "__main__":
    main()
