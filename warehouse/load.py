"""Bulk, idempotent loading of a batch into an open write connection.

A batch is applied in one transaction: posts (new ones inserted, known ones given their newer
engagement), engagement snapshots, parent edges, collector runs, cursors and quarantined pages. The
whole batch is a handful of set-based statements over an Arrow table: no statement per post.

Loading the same posts again changes nothing: a post is new when its `post_uid` is not stored
yet, and a known post is updated (and snapshotted) only when a copy collected later reports
different counts.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.schema import ENGAGEMENT, POST_COLUMN_NAMES, conform_posts

# `content_hash` is the MD5 of the text normalised for copies: lower case, links removed, every
# run of characters that are not letters or digits (punctuation, emoji, zero-width marks,
# whitespace) folded to one space. The folding runs in Polars (its regex is fast on Unicode
# classes, DuckDB's regexp_replace is not); DuckDB computes the MD5 of the new posts only.
_LINK = r"(?:https?://|www\.)\S+"
_NOT_WORD = r"[^\p{L}\p{N}]+"


def normalise_for_hash(texts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The text that `content_hash` is the MD5 of, for a whole column at once."""
    column = pl.Series("text", texts, dtype=pl.String)
    halves = [column.slice(0, len(column) // 2), column.slice(len(column) // 2)]
    frames = pl.collect_all(
        [
            pl.LazyFrame({"text": half}).select(
                pl.col("text")
                .str.to_lowercase()
                .str.replace_all(_LINK, " ")
                .str.replace_all(_NOT_WORD, " ")
                .str.strip_chars()
            )
            for half in halves
        ]
    )  # two halves, so both cores work
    return pl.concat([f.to_series() for f in frames]).to_arrow()


_TRACKED = (*ENGAGEMENT, "author_followers")


@dataclass(frozen=True)
class RunRecord:
    """One collector run (or import), as the `collector_runs` view shows it."""

    run_id: str
    source: str
    topic: str | None
    started_at: datetime
    status: str
    finished_at: datetime | None = None
    fetched: int | None = None
    new: int | None = None
    error: str | None = None
    rate_limit: dict[str, Any] | None = None


@dataclass(frozen=True)
class CursorUpdate:
    source: str
    topic: str
    cursor: str | None
    scope: str = ""
    run_id: str | None = None


@dataclass(frozen=True)
class QuarantineRow:
    source: str
    error: str
    payload: str | None
    location: str | None = None
    run_id: str | None = None


@dataclass
class Batch:
    """What one writer hands the warehouse at once; applied all or nothing."""

    posts: pa.Table | None = None
    runs: list[RunRecord] = field(default_factory=list)
    cursors: list[CursorUpdate] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    # (post_uid, topic, matched_terms) of collected posts: which topic each matched, and how
    post_topics: pa.Table | None = None
    run_id: str | None = None  # the run that brought these posts, kept as posts.first_run_id
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class LoadStats:
    received: int = 0  # rows in the batch
    distinct: int = 0  # distinct posts among them
    new: int = 0
    updated: int = 0  # known posts whose engagement changed

    def __add__(self, other: LoadStats) -> LoadStats:
        return LoadStats(
            self.received + other.received,
            self.distinct + other.distinct,
            self.new + other.new,
            self.updated + other.updated,
        )


def apply_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> LoadStats:
    """Apply `batch` atomically; a batch already applied (same batch_id) is skipped."""
    con.execute("BEGIN TRANSACTION")
    try:
        if _already_applied(con, batch.batch_id):
            con.execute("ROLLBACK")
            return LoadStats()
        stats = LoadStats()
        if batch.posts is not None and batch.posts.num_rows > 0:
            stats = _load_posts(con, batch.posts, batch.run_id)
        if batch.post_topics is not None and batch.post_topics.num_rows:
            _insert_post_topics(con, batch.post_topics)
        _upsert_runs(con, batch.runs)
        _upsert_cursors(con, batch.cursors)
        _insert_quarantine(con, batch.quarantine)
        con.execute("INSERT INTO store.applied_batches VALUES (?, now())", [batch.batch_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return stats


def _already_applied(con: duckdb.DuckDBPyConnection, batch_id: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM store.applied_batches WHERE batch_id = ?", [batch_id]
    ).fetchone()
    return bool(row and row[0])


def _load_posts(con: duckdb.DuckDBPyConnection, posts: pa.Table, run_id: str | None) -> LoadStats:
    table = conform_posts(posts)
    table = table.append_column("_normalised", normalise_for_hash(table.column("text")))
    con.register("_batch", table)
    try:
        distinct = _stage_incoming(con)
        _stage_delta(con)
        new = _insert_new(con, run_id, distinct)
        updated = _update_known(con)
        _insert_snapshots(con)
        _insert_edges(con)
    finally:
        con.execute("DROP VIEW IF EXISTS _incoming")
        con.execute("DROP TABLE IF EXISTS _unique")
        con.execute("DROP TABLE IF EXISTS _delta")
        con.unregister("_batch")
    return LoadStats(received=table.num_rows, distinct=distinct, new=new, updated=updated)


def _stage_incoming(con: duckdb.DuckDBPyConnection) -> int:
    """`_incoming`: one row per post, the latest copy where the batch repeats a post.

    A view over the Arrow batch, not a copy of it: the batch is materialised only in the rare
    case that it repeats a post.
    """
    con.execute("""
        CREATE TEMP VIEW _incoming AS SELECT * REPLACE (
            coalesce(post_uid, source || ':' || source_id) AS post_uid,
            coalesce(collected_at, now()) AS collected_at
        ) FROM _batch""")
    counts = con.execute("SELECT count(*), count(DISTINCT post_uid) FROM _incoming").fetchone()
    total, distinct = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    if distinct < total:
        con.execute("""
            CREATE TEMP TABLE _unique AS
            SELECT * EXCLUDE (_ord) FROM (SELECT *, row_number() OVER () AS _ord FROM _incoming)
            QUALIFY row_number() OVER (PARTITION BY post_uid ORDER BY collected_at DESC, _ord DESC)
                    = 1""")
        con.execute("CREATE OR REPLACE TEMP VIEW _incoming AS SELECT * FROM _unique")
    return distinct


def _stage_delta(con: duckdb.DuckDBPyConnection) -> None:
    """`_delta`: the posts that are new, or known and observed later with different counts."""
    merged = ", ".join(f"coalesce(i.{c}, p.{c}) AS {c}" for c in _TRACKED)
    changed = " OR ".join(f"coalesce(i.{c}, p.{c}) IS DISTINCT FROM p.{c}" for c in _TRACKED)
    con.execute(f"""
        CREATE TEMP TABLE _delta AS
        SELECT i.post_uid, i.collected_at, i.kind, i.parent_uid, i.root_uid, {merged},
               p.post_uid IS NULL AS is_new
        FROM _incoming i LEFT JOIN store.posts p USING (post_uid)
        WHERE p.post_uid IS NULL
           OR (i.collected_at > coalesce(p.updated_at, p.collected_at) AND ({changed}))""")


def _insert_new(con: duckdb.DuckDBPyConnection, run_id: str | None, distinct: int) -> int:
    """Insert the new posts, hashing their text on the way in (known posts are not hashed again)."""
    columns = ", ".join(POST_COLUMN_NAMES)
    content_hash = "coalesce(content_hash, md5(_normalised))"
    values = ", ".join(content_hash if c == "content_hash" else c for c in POST_COLUMN_NAMES)
    counted = con.execute("SELECT count(*) FROM _delta WHERE is_new").fetchone()
    new = int(counted[0]) if counted else 0
    only_new = (
        ""
        if new == distinct
        else ("SEMI JOIN (SELECT post_uid FROM _delta WHERE is_new) USING (post_uid)")
    )  # a batch of only new posts (a first load) skips the join
    con.execute(
        f"""INSERT INTO store.posts ({columns}, updated_at, first_run_id)
            SELECT {values}, collected_at, ? FROM _incoming {only_new}""",
        [run_id],
    )
    return new


def _update_known(con: duckdb.DuckDBPyConnection) -> int:
    assignments = ", ".join(f"{c} = d.{c}" for c in _TRACKED)
    row = con.execute(f"""
        UPDATE store.posts p SET {assignments}, updated_at = d.collected_at
        FROM _delta d WHERE p.post_uid = d.post_uid AND NOT d.is_new""").fetchone()
    return int(row[0]) if row else 0


def _insert_snapshots(con: duckdb.DuckDBPyConnection) -> None:
    tracked = ", ".join(_TRACKED)
    con.execute(f"""
        INSERT INTO store.engagement_snapshots (post_uid, observed_at, {tracked})
        SELECT d.post_uid, d.collected_at, {", ".join(f"d.{c}" for c in _TRACKED)}
        FROM _delta d
        WHERE coalesce({", ".join(f"d.{c}" for c in ENGAGEMENT)}) IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM store.engagement_snapshots s
                          WHERE s.post_uid = d.post_uid AND s.observed_at = d.collected_at)""")


def _insert_edges(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        INSERT INTO store.post_edges
        SELECT DISTINCT e.post_uid, e.target_uid, e.relation, e.collected_at
        FROM (
            SELECT post_uid, parent_uid AS target_uid, collected_at,
                   CASE kind WHEN 'repost' THEN 'repost' WHEN 'quote' THEN 'quote'
                             ELSE 'reply' END AS relation
            FROM _delta WHERE is_new AND parent_uid IS NOT NULL
            UNION ALL
            SELECT post_uid, root_uid, collected_at, 'root'
            FROM _delta WHERE is_new AND root_uid IS NOT NULL
              AND root_uid IS DISTINCT FROM parent_uid
        ) e
        ANTI JOIN store.post_edges x
          ON x.post_uid = e.post_uid AND x.target_uid = e.target_uid
         AND x.relation = e.relation""")


def _insert_post_topics(con: duckdb.DuckDBPyConnection, post_topics: pa.Table) -> None:
    con.register("_post_topics", post_topics)
    try:
        con.execute("""
            INSERT INTO store.post_topics
            SELECT DISTINCT ON (post_uid, topic) post_uid, topic, matched_terms, now()
            FROM _post_topics n
            ANTI JOIN store.post_topics t USING (post_uid, topic)""")
    finally:
        con.unregister("_post_topics")


def _upsert_runs(con: duckdb.DuckDBPyConnection, runs: list[RunRecord]) -> None:
    for run in runs:  # a handful per batch, never one per post
        con.execute(
            """INSERT OR REPLACE INTO store.collector_runs
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                run.run_id,
                run.source,
                run.topic,
                run.started_at,
                run.finished_at,
                run.status,
                run.fetched,
                run.new,
                run.error,
                json.dumps(run.rate_limit) if run.rate_limit is not None else None,
            ],
        )


def _upsert_cursors(con: duckdb.DuckDBPyConnection, cursors: list[CursorUpdate]) -> None:
    for c in cursors:
        con.execute(
            "INSERT OR REPLACE INTO store.cursors VALUES (?, ?, ?, ?, now(), ?)",
            [c.source, c.topic, c.scope, c.cursor, c.run_id],
        )


def _insert_quarantine(con: duckdb.DuckDBPyConnection, rows: list[QuarantineRow]) -> None:
    if not rows:
        return
    table = pa.table(
        {
            "quarantined_at": pa.array([datetime.now(UTC)] * len(rows), pa.timestamp("us", "UTC")),
            "source": [r.source for r in rows],
            "run_id": [r.run_id for r in rows],
            "location": [r.location for r in rows],
            "error": [r.error for r in rows],
            "payload": [r.payload for r in rows],
        }
    )
    con.register("_quarantine", table)
    try:
        con.execute("INSERT INTO store.quarantine SELECT * FROM _quarantine")
    finally:
        con.unregister("_quarantine")
