"""Claim analysis benchmark (issue 4): full and incremental runs over a warehouse of generated
posts, the Polars engine alone, and a per-post Python `re` loop as the baseline.

    python bench/analysis.py                      # 1,000,000 and 5,000,000 posts (~2 minutes)
    python bench/analysis.py --posts 200000       # quicker: one size

Posts come from `bench/story_posts.py` (Canadian chatter and news, a few percent about the story,
with copies and reposts); each size is loaded into a fresh warehouse file with `Warehouse.write`
(not measured). Every case runs in its own process, so that its peak memory (ru_maxrss) is its
own; the parent imports nothing heavy.

- full: `analyze_warehouse(full=True)` over every post: read from DuckDB, analyse, write back;
- incremental: 10,000 new posts written on top (half of the story copies among them copy posts
  already stored, so reposts inherit across runs), then `analyze_warehouse()`, timed alone;
- engine: `analyze_posts` on the same posts already in memory as a Polars DataFrame (no DuckDB);
- baseline: the same extraction with one Python `re` pass per post (subject, the subject-object
  window, the context, the number before the object words, the stance from keyword regexes), on
  the first --baseline-posts posts only; its posts/s is extrapolated to the others, as a rate.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
CONFIG = ROOT / "config" / "claimwatch.toml"
CHUNK = 500_000  # posts generated and written at once while preparing a warehouse
INPUT = ("post_uid", "source", "author_handle", "text", "title")  # what the engine reads

GOAL_RATE = 500_000  # posts/s, a whole `claimwatch analyze` (issue 13: on 5M posts)
GOAL_ENGINE_RATE = 1_000_000  # posts/s, the engine alone on posts in memory (issue 13)
GOAL_TIMES = 10  # x the baseline, full analysis
GOAL_INCREMENTAL_S = 2.0  # 10,000 new posts on the 5M warehouse
GOAL_PEAK_MB = 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--baseline-posts", type=int, default=200_000)
    parser.add_argument("--new-posts", type=int, default=10_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](*args.child[1:])))
        return
    console = Console(width=150)
    sizes = sorted(set(args.posts))
    rows: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="claimwatch-analysis-") as tmp:
        work = Path(tmp)
        baseline: dict[str, Any] | None = None
        for size in sizes:
            db, posts = work / f"posts-{size}.duckdb", work / f"posts-{size}.parquet"
            console.print(f"generating and loading {size:,} posts…")
            prepared = child(console, "prepare", size, db, posts)
            details.append({"case": "prepare", **prepared})
            console.print(f"full analysis of {size:,} posts…")
            full = child(console, "full", db)
            rows.append({"case": "full analysis", "size": size, **full})
            console.print(f"writing {args.new_posts:,} new posts…")
            added = child(console, "add", db, size, args.new_posts)
            console.print("incremental analysis…")
            incremental = child(console, "incremental", db)
            rows.append(
                {
                    "case": "incremental",
                    "size": size,
                    "write_new_s": added["seconds"],
                    **incremental,
                }
            )
            console.print(f"engine alone on {size:,} posts in memory…")
            rows.append({"case": "engine only", "size": size, **child(console, "engine", posts)})
            if baseline is None:
                console.print(f"baseline on the first {args.baseline_posts:,} posts…")
                baseline = child(console, "baseline", posts, args.baseline_posts)
            for leftover in work.glob(f"posts-{size}.*"):
                leftover.unlink()
        assert baseline is not None
        rows.append({"case": "baseline (re loop)", "size": baseline["posts"], **baseline})
    console.print(generation_table(details))
    console.print(result_table(rows))
    console.print(breakdown_table(rows))
    console.print(
        f"baseline and engine on the first {baseline['posts']:,} posts: the engine found "
        f"{baseline['engine_mentions']:,} mentions, the loop {baseline['mentions']:,}; "
        f"{baseline['same_mentions']:,} in both, of which {baseline['same_variant']:,} with the "
        f"same variant and {baseline['same_stance']:,} with the same stance"
    )
    for r in rows:
        if r["case"] == "incremental":
            console.print(
                f"writing the {r['posts']:,} new posts on top of {r['size']:,} took "
                f"{r['write_new_s']:.2f} s (not counted in the incremental figure)"
            )


def child(console: Console, case: str, *args: object) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, *map(str, args)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        console.print(done.stderr)
        raise SystemExit(f"case {case} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    console.print(
        f"  done in {time.perf_counter() - started:.1f} s (peak {result['peak_mb']:,.0f} MB)"
    )
    return result


# --- the children ---------------------------------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory (ru_maxrss, in KB on Linux). The parent stays small
    (no polars, pyarrow or duckdb imported), so what a child inherits from it is negligible."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(size: str, db: str, posts: str) -> dict[str, Any]:
    """Generate `size` posts into a fresh warehouse and a Parquet file of the engine's columns."""
    import pyarrow.parquet as pq
    from story_posts import generate_story_posts, summary

    from warehouse import Batch, Warehouse

    warehouse = Warehouse(Path(db))
    total, generate_s, load_s = int(size), 0.0, 0.0
    stats: list[dict[str, float]] = []
    writer: pq.ParquetWriter | None = None
    for offset in range(0, total, CHUNK):
        started = time.perf_counter()
        table = generate_story_posts(min(CHUNK, total - offset), offset=offset)
        stats.append(summary(table))
        generate_s += time.perf_counter() - started
        started = time.perf_counter()
        warehouse.write(Batch(posts=table.drop_columns(["bench_group", "bench_copy"])))
        load_s += time.perf_counter() - started
        engine_input = table.select(list(INPUT))
        writer = writer or pq.ParquetWriter(posts, engine_input.schema)
        writer.write_table(engine_input)
    if writer:
        writer.close()
    with warehouse.reading() as con:
        stored = con.execute("SELECT count(*) FROM store.posts").fetchone()
    merged = {
        key: sum(s[key] * s["posts"] for s in stats) / total for key in stats[0] if key != "posts"
    }
    return {
        "posts": total,
        "stored": stored[0] if stored else 0,
        "generate_s": generate_s,
        "load_s": load_s,
        "file_mb": Path(db).stat().st_size / 2**20,
        **merged,
        "peak_mb": peak_mb(),
    }


def _timed(spent: dict[str, float], key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - started

    return wrapper


def analyse(db: str, full: bool) -> dict[str, Any]:
    """`analyze_warehouse` timed as a whole, and its reads and engine calls timed on the way
    (wrapped where `claims.job` calls them; nothing else changes)."""
    import claims.job as job
    from config import load_config
    from warehouse import Warehouse

    config = load_config(CONFIG)
    spent: dict[str, float] = {}
    job.read_posts = _timed(spent, "read_db", job.read_posts)  # type: ignore[attr-defined]
    job.analyze_posts = _timed(spent, "engine", job.analyze_posts)  # type: ignore[attr-defined]
    started = time.perf_counter()
    report = job.analyze_warehouse(Warehouse(Path(db)), config, full=full)
    seconds = time.perf_counter() - started
    return {
        "posts": report.posts_read,
        "seconds": seconds,
        "read_db_s": spent.get("read_db", 0.0),
        "engine_s": spent.get("engine", 0.0),
        "write_s": report.write_seconds,
        "mentions": sum(c.mentions for c in report.claims),
        "inherited": sum(c.inherited for c in report.claims),
        "corrections": sum(c.corrections for c in report.claims),
        "modes": sorted({c.mode for c in report.claims}),
        "peak_mb": peak_mb(),
    }


def full_case(db: str) -> dict[str, Any]:
    return analyse(db, full=True)


def incremental_case(db: str) -> dict[str, Any]:
    return analyse(db, full=False)


def add(db: str, size: str, new: str) -> dict[str, Any]:
    """Write `new` posts on top (not measured): half their story copies copy stored posts."""
    from story_posts import generate_story_posts

    from warehouse import Batch, Warehouse

    warehouse = Warehouse(Path(db))
    with warehouse.reading() as con:
        parents = con.execute(
            """SELECT post_uid, author_handle, text, created_at FROM store.posts
               WHERE kind <> 'repost' AND text SIMILAR TO '.*(ICE|HSI).*(Canada|canad).*'
               USING SAMPLE 2000 ROWS"""
        ).to_arrow_table()
    table = generate_story_posts(int(new), offset=int(size), parents=parents)
    started = time.perf_counter()
    result = warehouse.write(Batch(posts=table.drop_columns(["bench_group", "bench_copy"])))
    return {
        "posts": result.stats.new,
        "seconds": time.perf_counter() - started,
        "peak_mb": peak_mb(),
    }


def engine(posts: str) -> dict[str, Any]:
    import polars as pl

    from claims.engine import analyze_posts
    from config import load_config

    config = load_config(CONFIG)
    frame = pl.read_parquet(posts)
    started = time.perf_counter()
    analysis = analyze_posts(frame, config)
    seconds = time.perf_counter() - started
    return {
        "posts": frame.height,
        "seconds": seconds,
        "mentions": analysis.mentions.height,
        "corrections": analysis.corrections.height,
        "peak_mb": peak_mb(),
    }


def baseline(posts: str, count: str) -> dict[str, Any]:
    """The naive loop on the first `count` posts; then, not timed, the engine on the same posts,
    to compare what each found."""
    import polars as pl

    from claims.engine import analyze_posts
    from config import load_config

    config = load_config(CONFIG)
    frame = pl.read_parquet(posts, n_rows=int(count))
    rows = list(frame.iter_rows())
    naive = NaiveAnalysis(config)
    started = time.perf_counter()
    found = [naive.analyse(*row) for row in rows]
    seconds = time.perf_counter() - started
    peak = peak_mb()

    loop = {(m[0], m[1]): m for post in found for m in post}
    mentions = analyze_posts(frame, config).mentions
    polars = {
        (r[0], r[1]): r
        for r in mentions.select("post_uid", "claim_id", "variant", "stance").iter_rows()
    }
    same = loop.keys() & polars.keys()
    return {
        "posts": frame.height,
        "seconds": seconds,
        "mentions": len(loop),
        "engine_mentions": len(polars),
        "same_mentions": len(same),
        "same_variant": sum(loop[k][2] == polars[k][2] for k in same),
        "same_stance": sum(loop[k][3] == polars[k][3] for k in same),
        "peak_mb": peak,
    }


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "prepare": prepare,
    "full": full_case,
    "add": add,
    "incremental": incremental_case,
    "engine": engine,
    "baseline": baseline,
}


# --- the baseline ---------------------------------------------------------------------------------


class NaiveAnalysis:
    """The claims of a config, one post at a time with Python's `re`: what a straightforward
    per-post implementation does. Same config terms, simpler rules: a mention is the subject and
    the object within the claim's window in one sentence, in a post that names a context term or
    no place elsewhere; the variant is the number right before the object words (or the claim's
    units), none when the post gives several; the stance is corrects (an authority, a fact-check
    publisher, or a fact or correcting phrase outside a question), denies (a denial word),
    questions (a question mark with a question word, or a doubt word), else asserts."""

    def __init__(self, config: Any) -> None:
        lexicons = list(config.language.values())
        self.numbers = {
            word.lower(): value for lexicon in lexicons for word, value in lexicon.numbers.items()
        }
        number = "|".join(
            [r"\d{1,3}", *(re.escape(w) for w in sorted(self.numbers, key=len, reverse=True))]
        )
        self.number = f"(?i:{number})"
        self.denials = _terms(t for lexicon in lexicons for t in lexicon.denials)
        self.questions = _terms(t for lexicon in lexicons for t in lexicon.questions)
        self.doubt = _terms(t for lexicon in lexicons for t in lexicon.doubt)
        self.url = re.compile(r"https?://\S+|www\.\S+")
        self.claims = [
            NaiveClaim(claim_id, claim, self.number) for claim_id, claim in config.claims.items()
        ]

    def analyse(
        self, post_uid: str, source: str, handle: str, text: str, title: str | None
    ) -> list[tuple[str, str, str | None, str]]:
        """(post_uid, claim_id, variant, stance) of every claim the post mentions."""
        body = self.url.sub(" ", f"{text}\n{title or ''}").replace("\ufe0f\u20e3", "")
        found = []
        for claim in self.claims:
            if not claim.mentions(body):
                continue
            found.append(
                (
                    post_uid,
                    claim.claim_id,
                    claim.variant(body, self.numbers),
                    self.stance(claim, source, handle, body),
                )
            )
        return found

    def stance(self, claim: NaiveClaim, source: str, handle: str, text: str) -> str:
        if f"{source}:{handle}".lower() in claim.authorities:
            return "corrects"
        if source == "factcheck" or handle.lower() in claim.publishers:
            return "corrects"
        asked = "?" in text
        if not asked and (
            claim.phrases.search(text)
            or any(all(w.search(text) for w in fact) for fact in claim.facts)
        ):
            return "corrects"
        if self.denials.search(text):
            return "denies"
        if (asked and self.questions.search(text)) or self.doubt.search(text):
            return "questions"
        return "asserts"


class NaiveClaim:
    def __init__(self, claim_id: str, claim: Any, number: str) -> None:
        gap, word = r"[^\w.!?\n]+", r"[\w'\u2019#@-]+"
        subject, thing = _alternation(_all(claim.subject)), _alternation(_all(claim.object))
        window = f"(?:{gap}{word}){{0,{claim.window}}}?{gap}"
        self.claim_id = claim_id
        self.subject = re.compile(subject)
        self.window = re.compile(f"{subject}{window}{thing}|{thing}{window}{subject}")
        self.context = _terms(_all(claim.context))
        self.elsewhere = _terms(_all(claim.elsewhere))
        units = _all(claim.object) + (_all(claim.quantity.units) if claim.quantity else [])
        self.value = (
            re.compile(rf"(?<!\w)({number})(?!\w)(?:{gap}{word}){{0,2}}?{gap}{_alternation(units)}")
            if claim.quantity
            else None
        )
        self.range = (claim.quantity.min, claim.quantity.max) if claim.quantity else (0, 0)
        fixes = claim.corrections
        self.authorities = {f"{a.source}:{a.handle}".lower() for a in fixes.authorities}
        self.publishers = {p.lower() for p in fixes.factcheck_publishers}
        self.phrases = _terms(_all(fixes.phrases))
        self.facts = [
            [_terms([part]) for part in ([fact] if isinstance(fact, str) else fact)]
            for facts in fixes.facts.values()
            for fact in facts
        ]

    def mentions(self, text: str) -> bool:
        if not self.subject.search(text) or not self.window.search(text):
            return False
        return bool(self.context.search(text) or not self.elsewhere.search(text))

    def variant(self, text: str, numbers: dict[str, int]) -> str | None:
        if self.value is None:
            return None
        values = set()
        for match in self.value.finditer(text):
            said = match.group(1).lower()
            value = int(said) if said.isdigit() else numbers.get(said)
            if value is not None and self.range[0] <= value <= self.range[1]:
                values.add(value)
        return str(values.pop()) if len(values) == 1 else None


def _all(table: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(term for terms in table.values() for term in terms))


def _alternation(terms: Iterable[str]) -> str:
    """Whole words; a term with an acronym in it ("ICE", "l'ICE") case-sensitive, others not."""
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        pattern = r"\s+".join(re.escape(w) for w in term.split())
        acronym = any(len(run) >= 2 and run.isupper() for run in re.findall(r"[^\W\d_]+", term))
        parts.append(pattern if acronym else f"(?i:{pattern})")
    return r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"


def _terms(terms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(_alternation(terms))


# --- tables ---------------------------------------------------------------------------------------


def generation_table(prepared: list[dict[str, Any]]) -> Table:
    table = Table(title="generated posts")
    columns = ("posts", "story", "of it copies", "distinct story texts", "US ICE", "traps",
               "French", "chars", "file MB", "generate s", "load s")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for p in prepared:
        table.add_row(
            f"{p['posts']:,}",
            f"{p['share_story']:.1%}",
            f"{p['story_copied']:.0%}",
            f"{p['story_distinct_texts']:.0%}",
            f"{p['share_us_ice']:.1%}",
            f"{p['share_trap']:.1%}",
            f"{p['french']:.0%}",
            f"{p['mean_chars']:.0f}",
            f"{p['file_mb']:,.0f}",
            f"{p['generate_s']:.1f}",
            f"{p['load_s']:.1f}",
        )
    return table


def result_table(rows: list[dict[str, Any]]) -> Table:
    base = next(r for r in rows if r["case"].startswith("baseline"))
    base_rate = base["posts"] / base["seconds"]
    table = Table(title=f"claim analysis benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for column in ("case", "warehouse", "posts", "seconds", "posts/s", "x baseline", "peak MB",
                   "goal", "met?"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("case", "goal", "met?") else "right")
    for r in rows:
        rate = r["posts"] / r["seconds"]
        goal, missed = goals(r, rate, rate / base_rate)
        table.add_row(
            r["case"],
            "" if r["case"].startswith("baseline") else f"{r['size']:,}",
            f"{r['posts']:,}",
            f"{r['seconds']:.2f}",
            f"{rate:,.0f}",
            f"{rate / base_rate:,.1f}x",
            f"{r['peak_mb']:,.0f}",
            goal,
            "" if not goal else ("yes" if not missed else "no: " + ", ".join(missed)),
        )
    return table


def goals(row: dict[str, Any], rate: float, times: float) -> tuple[str, list[str]]:
    """The goal a row answers, and which parts of it it missed."""
    missed = [] if row["peak_mb"] < GOAL_PEAK_MB else [f"peak {row['peak_mb']:,.0f} MB"]
    if row["case"] == "full analysis":
        if rate < GOAL_RATE:
            missed.append(f"{rate:,.0f}/s")
        if times < GOAL_TIMES:
            missed.append(f"{times:.1f}x")
        return f">= {GOAL_RATE:,}/s, >= {GOAL_TIMES}x, < 4 GB", missed
    if row["case"] == "incremental":
        if row["seconds"] >= GOAL_INCREMENTAL_S:
            missed.append(f"{row['seconds']:.2f} s")
        return f"< {GOAL_INCREMENTAL_S:.0f} s, < 4 GB", missed
    if row["case"] == "engine only":
        if rate < GOAL_ENGINE_RATE:
            missed.append(f"{rate:,.0f}/s")
        return f">= {GOAL_ENGINE_RATE:,}/s, < 4 GB", missed
    return "< 4 GB", missed


def breakdown_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="where the time of analyze_warehouse goes (seconds)")
    for column in ("case", "warehouse", "total", "read DuckDB", "engine", "write", "other",
                   "mentions", "inherited", "corrections"):  # fmt: skip
        table.add_column(column, justify="left" if column == "case" else "right")
    for r in rows:
        if "read_db_s" not in r:
            continue
        other = r["seconds"] - r["read_db_s"] - r["engine_s"] - r["write_s"]
        table.add_row(
            r["case"],
            f"{r['size']:,}",
            f"{r['seconds']:.2f}",
            f"{r['read_db_s']:.2f}",
            f"{r['engine_s']:.2f}",
            f"{r['write_s']:.2f}",
            f"{other:.2f}",
            f"{r['mentions']:,}",
            f"{r['inherited']:,}",
            f"{r['corrections']:,}",
        )
    return table


if __name__ == "__main__":
    main()
