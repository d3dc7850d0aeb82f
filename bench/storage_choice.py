"""Measure how the claimwatch warehouse could store posts.

Compares, in one run, on the same generated data:

* ``A``       plain DuckDB file, ``posts`` with ``post_uid`` PRIMARY KEY, upsert with
              ``INSERT ... ON CONFLICT (post_uid) DO UPDATE``.
* ``A2``      plain DuckDB file, same table without any key; dedup with an anti-join
              ``INSERT`` plus ``UPDATE ... FROM`` for changed engagement.
* ``B``       DuckLake, SQLite catalog, Parquet data files; anti-join ``INSERT`` plus
              ``UPDATE ... FROM`` (same SQL as A2).
* ``B-wal``   as B, but the writer attaches with ``META_JOURNAL_MODE 'WAL'`` (SQLite
              WAL journal for the catalog; readers attach as in B).
* ``B-merge`` DuckLake as B, but one ``MERGE INTO`` statement per write.

For each backend: (1) bulk load of N posts from an Arrow table, (2) re-load of the same
N posts (10% with changed like counts), (3) 200 batches of 100 posts (half new, half
duplicates), each in its own open-write-close cycle, (4) a reader query (posts per source
per day), (5) cross-process reader/writer behaviour, (6) on-disk size, (7) peak RSS.
Each backend runs in its own child process so that peak RSS is per backend.

Needs only: duckdb==1.5.5, pyarrow, duckdb-extensions==1.5.5,
duckdb-extension-ducklake==1.5.5, duckdb-extension-sqlite-scanner==1.5.5.
Extensions are installed from those wheels' local files; nothing is downloaded.

Usage::

    python bench/storage_choice.py              # N = 1,000,000
    python bench/storage_choice.py --quick      # N = 50,000
    python bench/storage_choice.py --posts 200000 --backends A2,B
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ALL_BACKENDS = ("A", "A2", "B", "B-wal", "B-merge")
DEFAULT_WORKDIR = Path("/tmp/claimwatch-storage-bench")
SOURCES = ("bluesky", "mastodon", "reddit", "youtube", "news", "telegram")
NEW_PER_BATCH_FRACTION = 0.5
PROBE_TIMEOUT_S = 20.0
POLL_S = 0.05

COLUMNS: tuple[tuple[str, str], ...] = (
    ("post_uid", "VARCHAR"),
    ("source", "VARCHAR"),
    ("source_id", "VARCHAR"),
    ("url", "VARCHAR"),
    ("author_id", "VARCHAR"),
    ("author_handle", "VARCHAR"),
    ("author_followers", "BIGINT"),
    ("created_at", "TIMESTAMPTZ"),
    ("collected_at", "TIMESTAMPTZ"),
    ("lang", "VARCHAR"),
    ("text", "VARCHAR"),
    ("hashtags", "VARCHAR"),
    ("parent_uid", "VARCHAR"),
    ("is_reply", "BOOLEAN"),
    ("likes", "BIGINT"),
    ("reposts", "BIGINT"),
    ("replies", "BIGINT"),
    ("quotes", "BIGINT"),
    ("views", "BIGINT"),
    ("claim_id", "VARCHAR"),
    ("raw", "VARCHAR"),
)
COLS = ", ".join(name for name, _ in COLUMNS)
ENGAGEMENT = ("likes", "reposts", "replies", "quotes")

VOCAB = (  # noqa: SIM905
    "the a of to and in is it that for on with as was at by this be not are from or have "
    "vaccine claim study says new report viral video photo shows fake false true fact check "
    "government minister election vote fraud ballots climate heat record flood fire war army "
    "border migrants crime police court ruling law tax prices energy oil gas power grid "
    "doctors hospital virus outbreak cases deaths data chart million billion percent people "
    "city country europe america china russia ukraine germany france britain india brazil "
    "scientists researchers experts officials media news source link thread read watch share "
    "breaking update confirmed denied debunked misleading context missing altered edited old"
).split()

N_PHRASES = 4096
TEXT_PHRASES = 24  # phrases of 3 words concatenated, then cut to 200..399 bytes


def make_phrases() -> list[str]:
    """Fixed 3-word phrases; a post's text is a hash-chosen sequence of them."""
    rng = random.Random(7)
    return [" ".join(rng.choice(VOCAB) for _ in range(3)) for _ in range(N_PHRASES)]


READER_QUERY = """
SELECT source, date_trunc('day', created_at) AS day, count(*) AS n
FROM posts GROUP BY ALL ORDER BY ALL
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def dir_stats(path: Path) -> tuple[int, int]:
    """Return (total bytes, number of .parquet files) under path (or of a single file)."""
    if path.is_file():
        return path.stat().st_size, 0
    total = 0
    parquet = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += (Path(root) / name).stat().st_size
            parquet += name.endswith(".parquet")
    return total, parquet


# --------------------------------------------------------------------------- data


def post_select(ids_sql: str, likes_bump_sql: str = "0", extra: str = "") -> str:
    """SQL producing one post row per id ``i`` from ``ids_sql`` (vectorised, no Python loop).

    Every value is a deterministic function of ``i`` so that re-generating an id gives
    the same post; ``likes_bump_sql`` adds to the like count (to simulate engagement change).
    """
    vocab = "[" + ", ".join(f"'{w}'" for w in VOCAB) + "]"
    phrases = "[" + ", ".join(f"'{p}'" for p in make_phrases()) + "]"
    picks = ", ".join(
        f"ph[(1 + h(i, {100 + k}) % {N_PHRASES})::BIGINT]" for k in range(TEXT_PHRASES)
    )
    sources = "[" + ", ".join(f"'{s}'" for s in SOURCES) + "]"
    return f"""
WITH ids AS ({ids_sql}),
phrases AS (SELECT {phrases} AS ph),
base AS (
  SELECT ids.*,
    {sources}[(1 + i % {len(SOURCES)})::BIGINT] AS source,
    printf('%08x', h(i, 0) % 4294967296) || '-' || i::VARCHAR AS source_id,
    'u' || (h(i, 1) % 200000)::VARCHAR AS author_id,
    TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_seconds((h(i, 4) % 7776000)::BIGINT)
      AS created_at,
    left(concat_ws(' ', {picks}), (200 + h(i, 6) % 200)::BIGINT) AS text,
    ((h(i, 3) % 1000) * (h(i, 3) % 1000) // 5000)::BIGINT + ({likes_bump_sql}) AS likes
  FROM ids, phrases
)
SELECT
  source || ':' || source_id AS post_uid,
  source,
  source_id,
  'https://' || source || '.example/p/' || source_id AS url,
  author_id,
  'user' || author_id || '.' || source || '.example' AS author_handle,
  ((h(i, 2) % 3000) * (h(i, 2) % 3000) // 100)::BIGINT AS author_followers,
  created_at,
  created_at + to_seconds((h(i, 5) % 86400)::BIGINT) AS collected_at,
  ['en', 'en', 'en', 'de', 'fr', 'es', 'pt', 'nl'][(1 + h(i, 7) % 8)::BIGINT] AS lang,
  text,
  CASE WHEN h(i, 8) % 3 = 0 THEN NULL
       ELSE '#' || {vocab}[1 + (h(i, 9) % {len(VOCAB)})::BIGINT] || ',#factcheck' END
    AS hashtags,
  CASE WHEN h(i, 10) % 5 = 0
       THEN source || ':' || printf('%08x', h(i, 11) % 4294967296) END AS parent_uid,
  h(i, 10) % 5 = 0 AS is_reply,
  likes,
  (likes // 4)::BIGINT AS reposts,
  (h(i, 12) % 40)::BIGINT AS replies,
  (h(i, 13) % 10)::BIGINT AS quotes,
  CASE WHEN source = 'youtube' THEN (likes * 37 + h(i, 14) % 1000)::BIGINT END AS views,
  CASE WHEN h(i, 15) % 4 = 0 THEN 'claim-' || (h(i, 16) % 50)::VARCHAR END AS claim_id,
  to_json(struct_pack(
    uri := 'at://did:plc:' || author_id || '/app.bsky.feed.post/' || source_id,
    cid := md5(source_id),
    author := struct_pack(did := 'did:plc:' || author_id,
                          handle := 'user' || author_id || '.example'),
    record := struct_pack("$type" := 'app.bsky.feed.post',
                          createdAt := strftime(created_at, '%Y-%m-%dT%H:%M:%S.000Z'),
                          langs := ['en']),
    counts := struct_pack(likeCount := likes, repostCount := likes // 4),
    embed := struct_pack("$type" := 'app.bsky.embed.external',
                         uri := 'https://news.example/a/' || md5(author_id),
                         title := substr(text, 20, 60))
  ))::VARCHAR AS raw
  {extra}
FROM base
"""


def reload_bump(i: str = "i") -> str:
    """Like-count change applied to 10% of posts by the re-load (stage 2)."""
    return f"CASE WHEN {i} % 10 = 0 THEN 1 + {i} % 97 ELSE 0 END"


def generate_data(data_dir: Path, n: int, batches: int, batch_size: int) -> dict[str, Any]:
    """Write posts/reload/batches Parquet files and the expected end states."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # h(i, k): k-th independent hash of post number i (hash(i, k) is not independent).
    con.execute("CREATE TEMP MACRO h(i, k) AS hash(i * 131 + k)")
    n_new = int(batch_size * NEW_PER_BATCH_FRACTION)
    t0 = time.perf_counter()
    con.execute(
        f"COPY ({post_select(f'SELECT range AS i FROM range({n})')}) "
        f"TO '{data_dir / 'posts.parquet'}' (FORMAT parquet)"
    )
    con.execute(
        f"COPY ({post_select(f'SELECT range AS i FROM range({n})', reload_bump())}) "
        f"TO '{data_dir / 'reload.parquet'}' (FORMAT parquet)"
    )
    # Batch b: n_new new ids after n, plus n_dup distinct existing ids; of the
    # duplicates, every 10th has a changed like count (relative to the re-load state).
    ids = f"""
      SELECT b, j,
        CASE WHEN j < {n_new} THEN {n} + b * {n_new} + j
             ELSE (b * 4999 + (j - {n_new}) * 20011) % {n} END AS i,
        j >= {n_new} AND (j - {n_new}) % 10 = 0 AS changed
      FROM range({batches}) bb(b), range({batch_size}) jj(j)
    """
    bump = f"CASE WHEN j >= {n_new} THEN {reload_bump()} ELSE 0 END + "
    bump += "CASE WHEN changed THEN 1000 + b ELSE 0 END"
    con.execute(
        f"COPY ({post_select(ids, bump, ', b AS batch_no')} ORDER BY batch_no) "
        f"TO '{data_dir / 'batches.parquet'}' (FORMAT parquet)"
    )
    log(f"generated data in {time.perf_counter() - t0:.1f}s")

    posts = f"read_parquet('{data_dir / 'posts.parquet'}')"
    reload = f"read_parquet('{data_dir / 'reload.parquet'}')"
    batch = f"read_parquet('{data_dir / 'batches.parquet'}')"
    row = con.execute(
        f"SELECT count(*), count(DISTINCT post_uid), avg(strlen(text)), avg(strlen(raw)), "
        f"sum(likes) FROM {posts}"
    ).fetchone()
    assert row is not None
    count, distinct, avg_text, avg_raw, likes_loaded = row
    assert count == distinct == n, "post_uid must be unique"
    reload_row = con.execute(f"SELECT sum(likes) FROM {reload}").fetchone()
    assert reload_row is not None
    final_row = con.execute(
        f"""
        WITH last AS (
          SELECT post_uid, likes FROM {batch}
          QUALIFY row_number() OVER (PARTITION BY post_uid ORDER BY batch_no DESC) = 1)
        SELECT count(*), sum(likes) FROM (
          SELECT post_uid, likes FROM last
          UNION ALL
          SELECT r.post_uid, r.likes FROM {reload} r ANTI JOIN last USING (post_uid))
        """
    ).fetchone()
    assert final_row is not None
    con.close()
    return {
        "n": n,
        "avg_text_bytes": round(float(avg_text), 1),
        "avg_raw_bytes": round(float(avg_raw), 1),
        "likes_after_load": int(likes_loaded),
        "likes_after_reload": int(reload_row[0]),
        "rows_after_batches": int(final_row[0]),
        "likes_after_batches": int(final_row[1]),
        "changed_in_reload": (n + 9) // 10,
        "batches": batches,
        "batch_size": batch_size,
    }


# --------------------------------------------------------------------------- backends


@dataclass
class Backend:
    name: str
    root: Path
    ext_dir: Path

    @property
    def is_lake(self) -> bool:
        return self.name.startswith("B")

    @property
    def db_file(self) -> Path:
        return self.root / "posts.duckdb"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def data_path(self) -> Path:
        return self.root / "data"

    def config(self) -> dict[str, Any]:
        return {
            "extension_directory": str(self.ext_dir),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": True,
        }

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open a connection in which the unqualified name ``posts`` is the table."""
        if not self.is_lake:
            con = duckdb.connect(str(self.db_file), read_only=read_only, config=self.config())
            con.execute("SET TimeZone = 'UTC'")
            return con
        con = duckdb.connect(config=self.config())
        con.execute("SET TimeZone = 'UTC'")
        con.execute("LOAD ducklake")
        con.execute("LOAD sqlite_scanner")
        opts = "READ_ONLY" if read_only else f"DATA_PATH '{self.data_path}/'"
        if self.name == "B-wal" and not read_only:
            opts += ", META_JOURNAL_MODE 'WAL'"
        con.execute(f"ATTACH 'ducklake:sqlite:{self.catalog}' AS lake ({opts})")
        con.execute("USE lake")
        return con

    def create(self, con: duckdb.DuckDBPyConnection) -> None:
        cols = [f"{name} {typ}" for name, typ in COLUMNS]
        if self.name == "A":
            cols[0] += " PRIMARY KEY"
        con.execute(f"CREATE TABLE posts ({', '.join(cols)})")

    def bulk_insert(self, con: duckdb.DuckDBPyConnection) -> int:
        return fetch_count(con, f"INSERT INTO posts ({COLS}) SELECT {COLS} FROM batch")

    def upsert(self, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        """Insert new posts from view ``batch``; update engagement of changed duplicates."""
        changed = " OR ".join(f"posts.{c} IS DISTINCT FROM b.{c}" for c in ENGAGEMENT)
        set_b = ", ".join(f"{c} = b.{c}" for c in ENGAGEMENT)
        if self.name == "A":
            set_ex = ", ".join(f"{c} = EXCLUDED.{c}" for c in ENGAGEMENT)
            changed_ex = " OR ".join(f"posts.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in ENGAGEMENT)
            n = fetch_count(
                con,
                f"INSERT INTO posts ({COLS}) SELECT {COLS} FROM batch "
                f"ON CONFLICT (post_uid) DO UPDATE SET {set_ex} WHERE {changed_ex}",
            )
            return {"inserted_or_updated": n}
        if self.name == "B-merge":
            n = fetch_count(
                con,
                f"MERGE INTO posts USING batch AS b ON posts.post_uid = b.post_uid "
                f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {set_b} "
                f"WHEN NOT MATCHED THEN INSERT BY NAME",
            )
            return {"inserted_or_updated": n}
        # A2 and B: explicit transaction, UPDATE ... FROM then anti-join INSERT.
        con.execute("BEGIN TRANSACTION")
        try:
            updated = fetch_count(
                con,
                f"UPDATE posts SET {set_b} FROM batch AS b "
                f"WHERE posts.post_uid = b.post_uid AND ({changed})",
            )
            inserted = fetch_count(
                con,
                f"INSERT INTO posts ({COLS}) SELECT {', '.join('b.' + c for c, _ in COLUMNS)} "
                f"FROM batch AS b ANTI JOIN posts AS p ON p.post_uid = b.post_uid",
            )
            con.execute("COMMIT")
        except BaseException:
            # A failed COMMIT has already ended the transaction; keep the original error.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        return {"updated": updated, "inserted": inserted}

    def disk(self) -> dict[str, int]:
        if self.is_lake:
            cat, _ = dir_stats(self.catalog)
            data, files = dir_stats(self.data_path) if self.data_path.exists() else (0, 0)
            return {"bytes": cat + data, "catalog_bytes": cat, "parquet_files": files}
        size = self.db_file.stat().st_size
        wal = self.db_file.with_suffix(".duckdb.wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        return {"bytes": size + wal_size, "wal_bytes": wal_size, "parquet_files": 0}

    def maintenance(self, con: duckdb.DuckDBPyConnection) -> list[tuple[str, float]]:
        """DuckLake: flush inlined rows, compact, expire snapshots, delete old files."""
        steps = [
            "SELECT count(*) FROM ducklake_flush_inlined_data('lake')",
            "SELECT count(*) FROM ducklake_rewrite_data_files('lake')",
            "SELECT count(*) FROM ducklake_merge_adjacent_files('lake')",
            "SELECT count(*) FROM ducklake_expire_snapshots('lake', older_than => now())",
            "SELECT count(*) FROM ducklake_cleanup_old_files('lake', cleanup_all => true)",
        ]
        if not self.is_lake:
            steps = ["CHECKPOINT"]
        out = []
        for sql in steps:
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            out.append((sql, time.perf_counter() - t0))
        return out


def fetch_count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall(), not fetchone(): a result that is not read to the end keeps the
    # DuckDB transaction - and with DuckLake the SQLite catalog read lock - open.
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def check_state(be: Backend, rows: int, likes: int, stage: str) -> None:
    con = be.connect(read_only=True)
    try:
        row = con.execute("SELECT count(*), sum(likes), count(DISTINCT post_uid) FROM posts")
        got = row.fetchone()
    finally:
        con.close()
    assert got is not None
    if (int(got[0]), int(got[1]), int(got[2])) != (rows, likes, rows):
        raise AssertionError(
            f"{be.name} after {stage}: count/likes/distinct {got} != expected {rows}/{likes}"
        )


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[None]:
    con.register("batch", table)
    try:
        yield
    finally:
        con.unregister("batch")


def with_uid_prefix(table: pa.Table, prefix: str) -> pa.Table:
    uids = pc.binary_join_element_wise(prefix, table.column("post_uid"), "")
    return table.set_column(0, "post_uid", uids)


# --------------------------------------------------------------------------- probes


def probe_main(args: argparse.Namespace) -> None:
    """Second process: try to read (or hold a read) while the benchmark writes."""
    be = Backend(args.backend, Path(args.root), Path(args.ext_dir))
    start = time.time()
    out: dict[str, Any] = {"start": start}
    if args.probe == "poll":
        attempts = 0
        first_error = None
        while time.time() - start < float(args.timeout):
            attempts += 1
            try:
                con = be.connect(read_only=True)
                out["count"] = fetch_count(con, "SELECT count(*) FROM posts")
                con.close()
                out["success"] = time.time()
                break
            except duckdb.Error as exc:
                first_error = first_error or f"{type(exc).__name__}: {exc}"
                time.sleep(POLL_S)
        out.update(attempts=attempts, first_error=first_error)
    else:
        con = be.connect(read_only=True)
        if args.probe == "hold-txn":
            con.execute("BEGIN TRANSACTION")
        out["count"] = fetch_count(con, "SELECT count(*) FROM posts")
        print("READY", flush=True)
        time.sleep(float(args.hold))
        if args.probe == "hold-txn":
            out["count_again"] = fetch_count(con, "SELECT count(*) FROM posts")
            con.execute("COMMIT")
        con.close()
        out["released"] = time.time()
    print(json.dumps(out), flush=True)


def spawn_probe(
    be: Backend, probe: str, hold: float, timeout: float = PROBE_TIMEOUT_S
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--probe",
        probe,
        "--backend",
        be.name,
        "--root",
        str(be.root),
        "--ext-dir",
        str(be.ext_dir),
        "--hold",
        str(hold),
        "--timeout",
        str(timeout),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def probe_result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, _ = proc.communicate(timeout=PROBE_TIMEOUT_S + 60)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    return dict(json.loads(lines[-1])) if lines else {"error": stdout}


def write_while_reader_holds(
    be: Backend, sample: pa.Table, key: str, probe: str, probe_hold: float
) -> dict[str, Any]:
    """A second process holds a read; this process retries an open-write-close cycle
    until it succeeds or until 3 s after the reader let go."""
    proc = spawn_probe(be, probe, probe_hold)
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    if ready != "READY":
        proc.kill()
        return {"error": f"probe did not start: {ready!r}"}
    t0 = time.time()
    deadline = t0 + probe_hold + 3.0
    attempts = 0
    errors: list[str] = []
    t_first_error = None
    t_ok = None
    while time.time() < deadline:
        attempts += 1
        con = None
        try:
            con = be.connect()
            with registered(con, with_uid_prefix(sample.slice(0, 100), f"{key}|")):
                be.upsert(con)
            con.close()
            t_ok = time.time()
            break
        except duckdb.Error as exc:
            t_first_error = t_first_error or time.time()
            msg = f"{type(exc).__name__}: {exc}"
            if msg not in errors:
                errors.append(msg)
            if con is not None:
                with contextlib.suppress(duckdb.Error):
                    con.close()
            time.sleep(POLL_S)
    r = probe_result(proc)
    out: dict[str, Any] = {
        "reader_hold_s": probe_hold,
        "writer_ok": t_ok is not None,
        "writer_wait_s": round(t_ok - t0, 3) if t_ok else None,
        "first_error_at_s": round(t_first_error - t0, 3) if t_first_error else None,
        "reader_released_at_s": round(r["released"] - t0, 3) if "released" in r else None,
        "attempts": attempts,
        "errors": errors,
    }
    if t_ok is None:
        # The reader is gone. Can a third process still read?
        after = probe_result(spawn_probe(be, "poll", 0.0, timeout=3.0))
        out["third_process_read_after"] = {
            "ok": "success" in after,
            "first_error": after.get("first_error"),
        }
    return out


def concurrency(be: Backend, sample: pa.Table, hold: float) -> dict[str, Any]:
    """(5) cross-process behaviour. 5b runs last: it may leave this process unusable."""
    res: dict[str, Any] = {}

    # 5a: this process holds an open write transaction (uncommitted rows) for `hold`
    # seconds, commits, keeps the connection open `hold` more seconds, then closes.
    # A second process polls: open read-only / ATTACH READ_ONLY + count(*).
    con = be.connect()
    con.execute("BEGIN TRANSACTION")
    with registered(con, with_uid_prefix(sample, "probe-a|")):
        fetch_count(con, f"INSERT INTO posts ({COLS}) SELECT {COLS} FROM batch")
    proc = spawn_probe(be, "poll", hold)
    time.sleep(hold)
    con.execute("COMMIT")
    t_commit = time.time()
    time.sleep(hold)
    con.close()
    t_close = time.time()
    r = probe_result(proc)
    start = r.get("start", t_commit)
    res["5a_reader_during_write"] = {
        "reader_ok": "success" in r,
        "reader_wait_s": round(r["success"] - start, 3) if "success" in r else None,
        "writer_commit_at_s": round(t_commit - start, 3),
        "writer_close_at_s": round(t_close - start, 3),
        "reader_saw_rows": r.get("count"),
        "attempts": r.get("attempts"),
        "first_error": r.get("first_error"),
    }
    # 5c: a second process has a read-only connection open, idle between queries.
    res["5c_writer_during_idle_reader"] = write_while_reader_holds(
        be, sample, "5c", "hold-idle", hold
    )
    # 5b: a second process holds an explicit read transaction for hold + 4 seconds
    # (longer than the 5 s SQLite busy timeout DuckLake's catalog connection uses).
    res["5b_writer_during_read_txn"] = write_while_reader_holds(
        be, sample, "5b", "hold-txn", hold + 4.0
    )
    return res


# --------------------------------------------------------------------------- child


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def reader_latency(be: Backend) -> dict[str, float]:
    """(4) posts per source per day over all posts: cold (open+query+close) and warm."""
    cold = []
    for _ in range(3):
        t0 = time.perf_counter()
        con = be.connect(read_only=True)
        con.execute(READER_QUERY).to_arrow_table()
        con.close()
        cold.append(time.perf_counter() - t0)
    con = be.connect(read_only=True)
    warm = []
    groups = 0
    for _ in range(5):
        t0 = time.perf_counter()
        groups = con.execute(READER_QUERY).to_arrow_table().num_rows
        warm.append(time.perf_counter() - t0)
    con.close()
    return {
        "cold_ms": round(1000 * statistics.median(cold), 1),
        "warm_ms": round(1000 * statistics.median(warm), 1),
        "groups": groups,
    }


def child_main(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    data_dir = work / "data"
    expected = json.loads((work / "expected.json").read_text())
    n = int(expected["n"])
    be = Backend(args.backend, work / args.backend.lower(), work / "extensions")
    if be.root.exists():
        shutil.rmtree(be.root)
    be.root.mkdir(parents=True)
    res: dict[str, Any] = {"backend": be.name, "n": n}

    posts = pq.read_table(data_dir / "posts.parquet")
    res["input_arrow_mb"] = round(posts.nbytes / 1e6, 1)
    res["rss_after_reading_input_mb"] = round(peak_rss_mb(), 1)

    # (1) bulk load into a fresh store
    log(f"{be.name}: bulk load {n} posts")

    def bulk(table: pa.Table) -> int:
        con = be.connect()
        be.create(con)
        with registered(con, table):
            inserted = be.bulk_insert(con)
        if not be.is_lake:
            con.execute("CHECKPOINT")
        con.close()
        return inserted

    secs, inserted = timed(bulk, posts)
    assert inserted == n, (inserted, n)
    res["load_s"] = round(secs, 2)
    res["load_posts_per_s"] = round(n / secs)
    res["disk_after_load"] = be.disk()
    check_state(be, n, expected["likes_after_load"], "load")
    sample = posts.slice(0, 1000)
    del posts

    # (2) re-load of the same N posts, 10% with changed like counts
    log(f"{be.name}: re-load {n} posts (all duplicates, 10% changed)")
    reload = pq.read_table(data_dir / "reload.parquet")

    def rerun(table: pa.Table) -> dict[str, int]:
        con = be.connect()
        with registered(con, table):
            counts = be.upsert(con)
        if not be.is_lake:
            con.execute("CHECKPOINT")
        con.close()
        return counts

    secs, counts = timed(rerun, reload)
    res["reload_s"] = round(secs, 2)
    res["reload_posts_per_s"] = round(n / secs)
    res["reload_counts"] = counts
    res["disk_after_reload"] = be.disk()
    check_state(be, n, expected["likes_after_reload"], "reload")
    del reload

    # (3) small batches, each in its own open-write-close cycle
    all_batches = pq.read_table(data_dir / "batches.parquet")
    nb = int(args.batches)
    batches = [
        all_batches.filter(pc.equal(all_batches.column("batch_no"), b)).drop_columns(["batch_no"])
        for b in range(nb)
    ]
    del all_batches
    log(f"{be.name}: {nb} small batches of {batches[0].num_rows} posts")
    times: list[float] = []
    parts: dict[str, list[float]] = {"open": [], "write": [], "close": []}
    for batch in batches:
        t0 = time.perf_counter()
        con = be.connect()
        t1 = time.perf_counter()
        with registered(con, batch):
            be.upsert(con)
        t2 = time.perf_counter()
        con.close()
        t3 = time.perf_counter()
        times.append(t3 - t0)
        parts["open"].append(t1 - t0)
        parts["write"].append(t2 - t1)
        parts["close"].append(t3 - t2)
    res["batch_ms_median"] = round(1000 * statistics.median(times), 1)
    res["batch_ms_p95"] = round(1000 * percentile(times, 0.95), 1)
    res["batch_ms_max"] = round(1000 * max(times), 1)
    res["batch_ms_median_parts"] = {
        k: round(1000 * statistics.median(v), 1) for k, v in parts.items()
    }
    res["batch_ms_p95_parts"] = {k: round(1000 * percentile(v, 0.95), 1) for k, v in parts.items()}
    res["disk_after_batches"] = be.disk()
    check_state(be, expected["rows_after_batches"], expected["likes_after_batches"], "batches")

    # (4) reader query, before and after maintenance
    log(f"{be.name}: reader query")
    res["reader_query"] = reader_latency(be)
    if be.is_lake:
        con = be.connect()
        res["snapshots_before_maintenance"] = fetch_count(
            con, "SELECT count(*) FROM ducklake_snapshots('lake')"
        )
        con.close()
    con = be.connect()
    secs, steps = timed(be.maintenance, con)
    con.close()
    res["maintenance_s"] = round(secs, 2)
    res["maintenance_steps"] = [(s, round(t, 2)) for s, t in steps]
    res["disk_after_maintenance"] = be.disk()
    res["reader_query_after_maintenance"] = reader_latency(be)
    check_state(be, expected["rows_after_batches"], expected["likes_after_batches"], "maint")

    # (5) cross-process reads and writes (B-merge attaches exactly like B: not repeated)
    if be.name != "B-merge":
        log(f"{be.name}: concurrency probes")
        res["concurrency"] = concurrency(be, sample, float(args.hold))

    # (7) peak RSS of this (child) process
    res["peak_rss_mb"] = round(peak_rss_mb(), 1)
    (work / f"result-{be.name}.json").write_text(json.dumps(res, indent=2))
    log(f"{be.name}: done")


# --------------------------------------------------------------------------- parent


def install_extensions(ext_dir: Path) -> None:
    """INSTALL ducklake + sqlite_scanner from the local wheel files (no network)."""
    import duckdb_extensions

    ext_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(ext_dir)})
    for name in ("ducklake", "sqlite_scanner"):
        duckdb_extensions.import_extension(name, con=con)
        con.execute(f"LOAD {name}")
    con.close()


def fmt_disk(d: dict[str, int]) -> str:
    mb = d["bytes"] / 1e6
    return f"{mb:.0f} MB ({d['parquet_files']} pq)" if d.get("parquet_files") else f"{mb:.0f} MB"


def fmt_5a(c: dict[str, Any]) -> str:
    if not c["reader_ok"]:
        return "reader never got in"
    wait = c["reader_wait_s"]
    if wait < c["writer_commit_at_s"]:
        return f"reads at once ({wait:.2f}s), sees committed only"
    return f"blocked {wait:.1f}s (until writer closed at {c['writer_close_at_s']:.1f}s)"


def fmt_5bc(c: dict[str, Any]) -> str:
    if "error" in c:
        return str(c["error"])
    if not c["writer_ok"]:
        third = c.get("third_process_read_after", {})
        leak = "; then new readers fail too" if third and not third["ok"] else ""
        return f"write FAILS at {c['first_error_at_s']:.1f}s{leak}"
    wait = c["writer_wait_s"]
    if not c["errors"]:
        return f"no wait ({wait:.2f}s)"
    return f"waits {wait:.1f}s ({c['attempts']} tries)"


def print_table(results: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    bs = meta.get("batch_size", 100)
    labels = [
        "1 bulk load: posts/s (s)",
        "2 re-load, dup + 10% changed: posts/s (s)",
        f"3 batch of {bs}: median ms",
        f"3 batch of {bs}: p95 ms",
        f"3 batch of {bs}: max ms",
        "3 median open / write / close ms",
        "4 reader query: cold ms / warm ms",
        "4 same, after maintenance",
        "5a reader while writer txn open",
        "5b writer while reader txn open",
        "5c writer while reader conn idle",
        "6 disk after load",
        "6 disk after re-load",
        "6 disk after batches",
        "6 disk after maintenance",
        "  maintenance time s",
        "  DuckLake snapshots before maintenance",
        "7 peak RSS MB (after input read)",
    ]

    def column(r: dict[str, Any]) -> list[str]:
        conc = r.get("concurrency")
        q, qm = r["reader_query"], r["reader_query_after_maintenance"]
        return [
            f"{r['load_posts_per_s']:,} ({r['load_s']})",
            f"{r['reload_posts_per_s']:,} ({r['reload_s']})",
            f"{r['batch_ms_median']}",
            f"{r['batch_ms_p95']}",
            f"{r['batch_ms_max']}",
            "{open} / {write} / {close}".format(**r["batch_ms_median_parts"]),
            f"{q['cold_ms']} / {q['warm_ms']}",
            f"{qm['cold_ms']} / {qm['warm_ms']}",
            fmt_5a(conc["5a_reader_during_write"]) if conc else "not run (attach as B)",
            fmt_5bc(conc["5b_writer_during_read_txn"]) if conc else "not run (attach as B)",
            fmt_5bc(conc["5c_writer_during_idle_reader"]) if conc else "not run (attach as B)",
            fmt_disk(r["disk_after_load"]),
            fmt_disk(r["disk_after_reload"]),
            fmt_disk(r["disk_after_batches"]),
            fmt_disk(r["disk_after_maintenance"]),
            f"{r['maintenance_s']}",
            str(r.get("snapshots_before_maintenance", "-")),
            f"{r['peak_rss_mb']:.0f} ({r['rss_after_reading_input_mb']:.0f})",
        ]

    cols = [column(r) for r in results]
    header = ["metric", *(r["backend"] for r in results)]
    table = [header] + [[label, *(c[i] for c in cols)] for i, label in enumerate(labels)]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    print(
        f"\nclaimwatch storage benchmark  N={meta['n']:,}  {meta['date']}  "
        f"duckdb {meta['duckdb']}  {meta['cpus']} CPUs  python {meta['python']}"
    )
    print(
        f"avg text {meta['avg_text_bytes']} B, avg raw {meta['avg_raw_bytes']} B, "
        f"input Arrow table {results[0]['input_arrow_mb']} MB"
    )
    for i, row in enumerate(table):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def parent_main(args: argparse.Namespace) -> None:
    n = 50_000 if args.quick else int(args.posts)
    work = Path(args.workdir)
    marker = work / ".storage_choice_workdir"
    if work.exists() and any(work.iterdir()) and not marker.exists():
        raise SystemExit(f"{work} is not empty and not a previous benchmark workdir")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    marker.touch()
    install_extensions(work / "extensions")
    log(f"generating {n} posts + {args.batches} batches of {args.batch_size} in {work}")
    expected = generate_data(work / "data", n, int(args.batches), int(args.batch_size))
    (work / "expected.json").write_text(json.dumps(expected))
    results = []
    for name in args.backends.split(","):
        if name not in ALL_BACKENDS:
            raise SystemExit(f"unknown backend {name!r}; choose from {ALL_BACKENDS}")
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            name,
            "--workdir",
            str(work),
            "--batches",
            str(args.batches),
            "--hold",
            str(args.hold),
        ]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        log(f"{name}: child took {time.perf_counter() - t0:.0f}s")
        results.append(json.loads((work / f"result-{name}.json").read_text()))
    meta = {
        **expected,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    (work / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print_table(results, meta)
    print(f"\nfull results (incl. exact error messages): {work / 'results.json'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--posts", type=int, default=1_000_000, help="N posts (default 1,000,000)")
    p.add_argument("--quick", action="store_true", help="N = 50,000")
    p.add_argument("--backends", default=",".join(ALL_BACKENDS))
    p.add_argument(
        "--workdir",
        default=str(DEFAULT_WORKDIR),
        help="scratch dir, wiped at start (default %(default)s)",
    )
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--hold", type=float, default=2.0, help="seconds locks are held in (5)")
    p.add_argument("--report", metavar="RESULTS_JSON", help="only re-print a saved results.json")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--probe", help=argparse.SUPPRESS)
    p.add_argument("--backend", help=argparse.SUPPRESS)
    p.add_argument("--root", help=argparse.SUPPRESS)
    p.add_argument("--ext-dir", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=PROBE_TIMEOUT_S, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        print_table(saved["results"], saved["meta"])
    elif args.probe:
        probe_main(args)
    elif args.child:
        args.backend = args.child
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
