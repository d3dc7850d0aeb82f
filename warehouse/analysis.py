"""What the claim analysis reads from the warehouse and writes back, in SQL over the store tables.

The analysis itself (`claims/job.py`) computes in Polars with the file closed; this module is its
door to the storage, so that the tables stay inside `warehouse/`:

- `snapshot` tells, in one short read, how far every claim has been analysed and up to which
  `seq` the posts go;
- `read_posts` returns the text of one range of posts (a plain `seq` range, so DuckDB skips every
  row group outside it);
- `write_analysis` writes a whole run in one transaction: it re-checks that no other run moved a
  claim meanwhile, replaces what a full run re-analyses, inserts the new mentions and corrections
  in bulk, lets plain reposts inherit their parent's mention, moves the watermarks, and records the
  run. A crash or an error anywhere leaves the previous state whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pyarrow as pa

from warehouse.load import RunRecord, _upsert_runs

# The columns the analysis reads: what `claims.engine.analyze_posts` takes, plus `seq`.
POST_FIELDS = ("seq", "post_uid", "source", "author_handle", "text", "title")

# A repost of a repost of ... is followed this many levels deep, at most (one statement each).
MAX_REPOST_DEPTH = 16


@dataclass(frozen=True)
class ClaimState:
    """How far a claim has been analysed, and with which version of its definition."""

    claim_version: str
    analyzed_through: int  # every post with seq <= this has been analysed


@dataclass(frozen=True)
class Snapshot:
    through: int  # the highest seq stored: posts up to here are what a run analyses
    states: dict[str, ClaimState]


@dataclass(frozen=True)
class ClaimPlan:
    """What a run does for one claim: analyse the posts with seq in (after, through]."""

    claim_id: str
    claim_version: str
    after: int  # 0 for a full run
    full: bool  # delete the claim's rows first (new claim, changed definition, or asked for)
    expected: ClaimState | None  # the state the plan was made from: re-checked before writing


@dataclass(frozen=True)
class ClaimWritten:
    mentions: int = 0  # rows written by this run, inherited ones included
    inherited: int = 0  # of which plain reposts inherited from their parent
    corrections: int = 0


@dataclass(frozen=True)
class WriteOutcome:
    written: dict[str, ClaimWritten]
    moved: list[str]  # claims another run analysed meanwhile: their results here were dropped
    removed: list[str]  # claims no longer in config: their rows and state were deleted


def snapshot(con: duckdb.DuckDBPyConnection) -> Snapshot:
    row = con.execute("SELECT coalesce(max(seq), 0) FROM store.posts").fetchone()
    through = int(row[0]) if row else 0
    return Snapshot(through, _states(con))


def _states(con: duckdb.DuckDBPyConnection) -> dict[str, ClaimState]:
    """Each analysed claim's version and watermark, as stored."""
    return {
        claim_id: ClaimState(version, int(done))
        for claim_id, version, done in con.execute(
            "SELECT claim_id, claim_version, analyzed_through FROM store.analysis_state"
        ).fetchall()
    }


def analysed_through(con: duckdb.DuckDBPyConnection, versions: dict[str, str]) -> int:
    """The highest `seq` up to which every claim of `versions` (claim id -> the version of its
    definition) has been analysed with that version; 0 while any has not been at all."""
    states = _states(con)
    done = [
        states[claim_id].analyzed_through
        if claim_id in states and states[claim_id].claim_version == version
        else 0
        for claim_id, version in versions.items()
    ]
    return min(done, default=snapshot(con).through)


def days_stored_after(
    con: duckdb.DuckDBPyConnection, after: int, through: int, timezone: str
) -> set[date]:
    """The local days (of `timezone`) that posts stored with `seq` in (after, through] were
    published on: the days a late post changed."""
    rows = con.execute(
        "SELECT DISTINCT (created_at AT TIME ZONE ?)::DATE FROM store.posts"
        " WHERE seq > ? AND seq <= ? AND created_at IS NOT NULL",
        [timezone, after, through],
    ).fetchall()
    return {day for (day,) in rows}


def count_posts(con: duckdb.DuckDBPyConnection, after: int, through: int) -> int:
    row = con.execute(
        "SELECT count(*) FROM store.posts WHERE seq > ? AND seq <= ?", [after, through]
    ).fetchone()
    return int(row[0]) if row else 0


def known_variants(
    con: duckdb.DuckDBPyConnection, claim_ids: Collection[str], min_posts: int
) -> dict[str, list[float]]:
    """Claim id -> the variants stored for at least `min_posts` posts (as numbers)."""
    if not claim_ids:
        return {}
    rows = con.execute(
        """SELECT claim_id, TRY_CAST(variant AS DOUBLE) FROM store.claim_mentions
           WHERE variant IS NOT NULL AND list_contains($claims, claim_id)
           GROUP BY claim_id, variant HAVING count(DISTINCT post_uid) >= $posts""",
        {"claims": list(claim_ids), "posts": min_posts},
    ).fetchall()
    known: dict[str, list[float]] = {}
    for claim_id, value in rows:
        if value is not None:
            known.setdefault(claim_id, []).append(float(value))
    return known


def read_posts(con: duckdb.DuckDBPyConnection, after: int, through: int) -> pa.Table:
    """The posts with seq in (after, through], only the columns the analysis needs."""
    return con.execute(
        f"SELECT {', '.join(POST_FIELDS)} FROM store.posts WHERE seq > ? AND seq <= ?",
        [after, through],
    ).to_arrow_table()


_MENTION_COLUMNS = (
    "post_uid",
    "claim_id",
    "variant",
    "variant_label",
    "unit",
    "stance",
    "matched_text",
    "span_start",
    "span_end",
)
_CORRECTION_COLUMNS = ("post_uid", "claim_id", "variant", "kind")


def write_analysis(
    con: duckdb.DuckDBPyConnection,
    plans: list[ClaimPlan],
    *,
    through: int,
    keep: Collection[str],
    mentions: pa.Table,
    corrections: pa.Table,
    analyzed_at: datetime,
    run: RunRecord | None = None,
) -> WriteOutcome:
    """Write one analysis run, all or nothing.

    `mentions` and `corrections` hold the engine's rows for the planned claims (columns as
    `claims.engine` names them); `keep` is every claim id in config: any other claim's rows and
    state are deleted. A plan whose claim's state is no longer the one it was made from (another
    run analysed it meanwhile) is dropped, and reported in `moved`.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        current = _states(con)
        live = [p for p in plans if current.get(p.claim_id) == p.expected]
        moved = [p.claim_id for p in plans if current.get(p.claim_id) != p.expected]
        removed = _remove_claims(con, list(keep))
        written: dict[str, ClaimWritten] = {}
        if live:
            with _registered(con, _plan_table(live), "_plan"):
                _replace_full(con)
                with (
                    _registered(con, mentions.select(list(_MENTION_COLUMNS)), "_mentions"),
                    _registered(con, corrections.select(list(_CORRECTION_COLUMNS)), "_corrections"),
                ):
                    lowest = min(p.after for p in live)
                    _insert_own(con, lowest, through, analyzed_at)
                    _inherit(con, lowest, through, analyzed_at)
                link_copies(con, analyzed_at, [p.claim_id for p in live if p.full])
                con.execute(
                    """INSERT OR REPLACE INTO store.analysis_state
                       SELECT claim_id, claim_version, ?, ?, ? FROM _plan""",
                    [through, analyzed_at, run.run_id if run else None],
                )
            written = _written(con, [p.claim_id for p in live], analyzed_at)
        if run is not None:
            _upsert_runs(
                con, [dataclasses.replace(run, new=sum(w.mentions for w in written.values()))]
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return WriteOutcome(written, moved, removed)


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, table: pa.Table, name: str) -> Iterator[None]:
    con.register(name, table)
    try:
        yield
    finally:
        con.unregister(name)


def _plan_table(plans: list[ClaimPlan]) -> pa.Table:
    return pa.table(
        {
            "claim_id": pa.array([p.claim_id for p in plans], pa.string()),
            "claim_version": pa.array([p.claim_version for p in plans], pa.string()),
            "after": pa.array([p.after for p in plans], pa.int64()),
            "is_full": pa.array([p.full for p in plans], pa.bool_()),
        }
    )


def _remove_claims(con: duckdb.DuckDBPyConnection, keep: list[str]) -> list[str]:
    # Every run writes a claim's rows and its state in one transaction, so the state table
    # names every claim that has rows (reading it is instant; the mentions are millions of rows).
    gone = [
        r[0]
        for r in con.execute(
            """SELECT claim_id FROM store.analysis_state
               WHERE NOT list_contains(?::VARCHAR[], claim_id) ORDER BY claim_id""",
            [keep],
        ).fetchall()
    ]
    if gone:
        for table in ("claim_mentions", "corrections", "analysis_state"):
            con.execute(f"DELETE FROM store.{table} WHERE list_contains(?, claim_id)", [gone])
    return gone


def _replace_full(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("claim_mentions", "corrections"):
        con.execute(f"""
            DELETE FROM store.{table}
            WHERE claim_id IN (SELECT claim_id FROM _plan WHERE is_full)""")


def _insert_own(
    con: duckdb.DuckDBPyConnection, lowest: int, through: int, analyzed_at: datetime
) -> None:
    # The posts analysed are those with seq in (lowest, through]: the plain range lets DuckDB
    # read only their row groups for their content_hash and created_at.
    con.execute(
        f"""INSERT INTO store.claim_mentions ({", ".join(_MENTION_COLUMNS)}, claim_version,
                                              analyzed_at, origin_uid, content_hash, created_at)
            SELECT {", ".join(f"m.{c}" for c in _MENTION_COLUMNS)}, p.claim_version, ?, NULL,
                   x.content_hash, x.created_at
            FROM _mentions m JOIN _plan p USING (claim_id)
            LEFT JOIN (SELECT post_uid, content_hash, created_at FROM store.posts
                       WHERE seq > {lowest} AND seq <= {through}) x USING (post_uid)""",
        [analyzed_at],
    )
    con.execute(
        f"""INSERT INTO store.corrections ({", ".join(_CORRECTION_COLUMNS)}, claim_version,
                                           analyzed_at)
            SELECT {", ".join(f"c.{x}" for x in _CORRECTION_COLUMNS)}, p.claim_version, ?
            FROM _corrections c JOIN _plan p USING (claim_id)""",
        [analyzed_at],
    )


def _inherit(
    con: duckdb.DuckDBPyConnection, lowest: int, through: int, analyzed_at: datetime
) -> None:
    """Plain reposts take their parent's mention (variant, stance, words), origin_uid pointing at
    the post whose text gave it; where the repost's own text gave a mention too, the parent's
    wins (a repost's content is its parent's; its own text is often a cut "RT @…" copy).

    The rule holds whichever of the two was analysed first, with statements bounded by what this
    run brings: reposts analysed in this run joined to every stored mention, and reposts analysed
    earlier whose parent got its mention in this run. Then, level by level, reposts of the reposts
    that just inherited (a chain of reposts), until nothing changes.
    """
    candidates = f"""
        SELECT r.post_uid, r.parent_uid, pl.claim_id, r.content_hash, r.created_at
        FROM store.posts r JOIN _plan pl ON r.seq > pl.after
        WHERE r.kind = 'repost' AND r.parent_uid IS NOT NULL
          AND r.seq > {lowest} AND r.seq <= {through}
        UNION
        SELECT r.post_uid, r.parent_uid, n.claim_id, r.content_hash, r.created_at
        FROM _mentions n JOIN _plan pl ON pl.claim_id = n.claim_id AND NOT pl.is_full
             JOIN store.posts r ON r.parent_uid = n.post_uid
        WHERE r.kind = 'repost' AND r.seq <= pl.after"""
    for _level in range(MAX_REPOST_DEPTH):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _candidates AS {candidates}")
        # The stored mentions of the candidates and of their parents, in one scan of the table.
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _nearby AS
            SELECT m.* FROM store.claim_mentions m
            SEMI JOIN (SELECT parent_uid AS uid FROM _candidates
                       UNION SELECT post_uid FROM _candidates) u ON m.post_uid = u.uid""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _inherited AS
            SELECT DISTINCT ON (c.post_uid, c.claim_id)
                   c.post_uid, c.claim_id, m.variant, m.variant_label, m.unit, m.stance,
                   m.matched_text, m.span_start,
                   m.span_end, m.claim_version, coalesce(m.origin_uid, m.post_uid) AS origin_uid,
                   c.content_hash, c.created_at
            FROM _candidates c
            JOIN _nearby m ON m.post_uid = c.parent_uid AND m.claim_id = c.claim_id
            ANTI JOIN _nearby x
                 ON x.post_uid = c.post_uid AND x.claim_id = c.claim_id
                AND x.origin_uid IS NOT DISTINCT FROM coalesce(m.origin_uid, m.post_uid)
                AND x.variant IS NOT DISTINCT FROM m.variant AND x.stance = m.stance
            WHERE coalesce(m.origin_uid, m.post_uid) <> c.post_uid
            ORDER BY c.post_uid, c.claim_id""")
        row = con.execute("SELECT count(*) FROM _inherited").fetchone()
        if not row or not row[0]:
            break
        con.execute("""
            DELETE FROM store.claim_mentions t USING _inherited i
            WHERE t.post_uid = i.post_uid AND t.claim_id = i.claim_id""")
        con.execute(
            """INSERT INTO store.claim_mentions
                   (post_uid, claim_id, variant, variant_label, unit, stance, matched_text,
                    span_start, span_end, claim_version, analyzed_at, origin_uid, content_hash,
                    created_at)
               SELECT post_uid, claim_id, variant, variant_label, unit, stance, matched_text,
                      span_start, span_end, claim_version, ?, origin_uid, content_hash,
                      created_at
               FROM _inherited""",
            [analyzed_at],
        )
        # The next level: reposts of the posts that have just inherited.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _frontier AS SELECT post_uid, claim_id FROM _inherited"
        )
        candidates = f"""
            SELECT r.post_uid, r.parent_uid, f.claim_id, r.content_hash, r.created_at
            FROM _frontier f JOIN store.posts r ON r.parent_uid = f.post_uid
            WHERE r.kind = 'repost' AND r.seq <= {through}"""
    for table in ("_candidates", "_nearby", "_inherited", "_frontier"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


# A mention can be a copy when its own text gave it and that text is not empty once normalised.
_COPY_ELIGIBLE = "(origin_uid IS NULL AND content_hash IS NOT NULL AND content_hash <> md5(''))"


def link_copies(
    con: duckdb.DuckDBPyConnection, analyzed_at: datetime, full: Collection[str] = ()
) -> None:
    """Bring `copy_of` up to date for every (claim, content_hash) group that rows stamped
    `analyzed_at` belong to, and every group of the claims in `full` (analysed again whole): the
    group's first post (by created_at, then post_uid) among the mentions that can be copies;
    every other such mention of the group points at it.

    A group changes only when a run writes one of its rows (a new copy, an earlier one stored
    late, an own mention replaced by an inherited one). Most groups hold one post: only those with
    two mentions that can be copies, or with a link already set, are looked at row by row, and
    only the rows whose link changes are updated.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _groups AS
            SELECT claim_id, content_hash FROM store.claim_mentions
            WHERE content_hash IS NOT NULL
              AND (list_contains($full, claim_id)
                   OR (claim_id, content_hash) IN (
                       SELECT claim_id, content_hash FROM store.claim_mentions
                       WHERE analyzed_at = $at AND NOT list_contains($full, claim_id)))
            GROUP BY ALL
            HAVING count(*) FILTER (WHERE {_COPY_ELIGIBLE}) > 1 OR bool_or(copy_of IS NOT NULL)""",
        {"full": list(full), "at": analyzed_at},
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _links AS
        WITH grouped AS (
            SELECT m.post_uid, m.claim_id, m.content_hash, m.created_at, m.copy_of,
                   {_COPY_ELIGIBLE} AS eligible
            FROM store.claim_mentions m SEMI JOIN _groups g USING (claim_id, content_hash)),
        firsts AS (
            SELECT claim_id, content_hash, arg_min(post_uid, (created_at, post_uid)) AS first_uid
            FROM grouped WHERE eligible GROUP BY ALL),
        linked AS (
            SELECT g.post_uid, g.claim_id, g.copy_of AS old,
                   CASE WHEN g.eligible AND f.first_uid <> g.post_uid THEN f.first_uid END
                       AS copy_of
            FROM grouped g LEFT JOIN firsts f USING (claim_id, content_hash))
        SELECT post_uid, claim_id, copy_of FROM linked WHERE old IS DISTINCT FROM copy_of""")
    con.execute("""
        UPDATE store.claim_mentions m SET copy_of = l.copy_of
        FROM _links l WHERE m.post_uid = l.post_uid AND m.claim_id = l.claim_id""")
    con.execute("DROP TABLE _groups")
    con.execute("DROP TABLE _links")


def _written(
    con: duckdb.DuckDBPyConnection, claim_ids: list[str], analyzed_at: datetime
) -> dict[str, ClaimWritten]:
    counts = {c: ClaimWritten() for c in claim_ids}
    for claim_id, mentions, inherited in con.execute(
        """SELECT claim_id, count(*), count(origin_uid) FROM store.claim_mentions
           WHERE analyzed_at = ? GROUP BY claim_id""",
        [analyzed_at],
    ).fetchall():
        counts[claim_id] = ClaimWritten(int(mentions), int(inherited))
    for claim_id, corrections in con.execute(
        "SELECT claim_id, count(*) FROM store.corrections WHERE analyzed_at = ? GROUP BY claim_id",
        [analyzed_at],
    ).fetchall():
        counts[claim_id] = dataclasses.replace(counts[claim_id], corrections=int(corrections))
    return counts
