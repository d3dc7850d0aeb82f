"""Schema migrations: ordered, recorded, atomic.

Each migration runs inside one transaction together with the row that records it in
`store.schema_migrations`, so a database is always at exactly one version. A database whose version
is newer than this code knows is refused rather than guessed at.

Tables live in the `store` schema; users query the views in `main` (see `views.py`), which stay
stable while the tables underneath change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from warehouse.schema import POST_COLUMNS
from warehouse.views import create_views


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer claimwatch than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _post_columns_sql() -> str:
    return ",\n    ".join(f"{c.name} {c.sql_type}" for c in POST_COLUMNS)


def _core(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE TABLE store.posts (
            {_post_columns_sql()},
            updated_at TIMESTAMPTZ,   -- last time a copy of this post changed its engagement
            first_run_id VARCHAR      -- the collector run or import that first stored it
        )""")
    con.execute("""
        CREATE TABLE store.post_edges (
            post_uid VARCHAR NOT NULL,
            target_uid VARCHAR NOT NULL,
            relation VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL
        )""")
    con.execute("""
        CREATE TABLE store.engagement_snapshots (
            post_uid VARCHAR NOT NULL,
            observed_at TIMESTAMPTZ NOT NULL,
            likes BIGINT, reposts BIGINT, replies BIGINT, quotes BIGINT,
            author_followers BIGINT
        )""")
    con.execute("""
        CREATE TABLE store.collector_runs (
            run_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            topic VARCHAR,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status VARCHAR NOT NULL,
            fetched BIGINT,
            new BIGINT,
            error VARCHAR,
            rate_limit JSON
        )""")
    con.execute("""
        CREATE TABLE store.cursors (
            source VARCHAR NOT NULL,
            topic VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,   -- e.g. a Mastodon instance or a news edition; '' if none
            cursor VARCHAR,
            updated_at TIMESTAMPTZ NOT NULL,
            run_id VARCHAR,
            PRIMARY KEY (source, topic, scope)
        )""")
    con.execute("""
        CREATE TABLE store.applied_batches (   -- makes replaying a staged batch a no-op
            batch_id VARCHAR PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL
        )""")


def _analysis(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE store.claim_mentions (
            post_uid VARCHAR NOT NULL,
            claim_id VARCHAR NOT NULL,
            variant VARCHAR,
            stance VARCHAR NOT NULL,
            matched_text VARCHAR,
            span_start INTEGER,
            span_end INTEGER,
            claim_version VARCHAR,   -- fingerprint of the claim definition that produced the row
            analyzed_at TIMESTAMPTZ NOT NULL
        )""")
    con.execute("""
        CREATE TABLE store.corrections (
            post_uid VARCHAR NOT NULL,
            claim_id VARCHAR NOT NULL,
            variant VARCHAR,
            kind VARCHAR NOT NULL,
            claim_version VARCHAR,
            analyzed_at TIMESTAMPTZ NOT NULL
        )""")


def _quarantine(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE store.quarantine (
            quarantined_at TIMESTAMPTZ NOT NULL,
            source VARCHAR NOT NULL,
            run_id VARCHAR,
            location VARCHAR,    -- a URL for a fetched page, or FILE:LINE for an imported row
            error VARCHAR NOT NULL,
            payload VARCHAR      -- the raw bytes as text, cut to a bounded size
        )""")


def _post_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE store.post_topics (
            post_uid VARCHAR NOT NULL,
            topic VARCHAR NOT NULL,
            matched_terms VARCHAR[],   -- e.g. ['phrase:ICE stations Canada', 'hashtag:ICECanada']
            first_seen_at TIMESTAMPTZ NOT NULL
        )""")


def _incremental_analysis(con: duckdb.DuckDBPyConnection) -> None:
    """`posts.seq`, the insertion order the analysis keeps its place by; `analysis_state`; and the
    repost a mention was inherited from.

    `seq` is filled by a sequence (the column's default), so every insert gets one, whoever writes
    it; only one process writes at a time, so a committed post's `seq` is above every `seq`
    committed before it. (It cannot also be declared NOT NULL here: DuckDB refuses the constraint
    in the transaction that filled the column.) Existing posts are numbered in their stored order.
    A post's text never changes after its insert, so the analysis needs each post once per claim
    version: it keeps, per claim, the highest `seq` it has analysed, and a plain `seq > ?` filter
    then lets DuckDB skip every row group below it.
    """
    con.execute("ALTER TABLE store.posts ADD COLUMN seq BIGINT")
    con.execute("UPDATE store.posts SET seq = rowid + 1")
    row = con.execute("SELECT coalesce(max(seq), 0) FROM store.posts").fetchone()
    start = int(row[0]) + 1 if row else 1
    con.execute(f"CREATE SEQUENCE store.post_seq START WITH {start}")
    con.execute("ALTER TABLE store.posts ALTER COLUMN seq SET DEFAULT nextval('store.post_seq')")
    con.execute("""
        CREATE TABLE store.analysis_state (
            claim_id VARCHAR PRIMARY KEY,
            claim_version VARCHAR NOT NULL,    -- fingerprint of the definition analysed with
            analyzed_through BIGINT NOT NULL,  -- every post with seq <= this has been analysed
            analyzed_at TIMESTAMPTZ NOT NULL,  -- when the watermark last moved
            run_id VARCHAR                     -- the analysis run that moved it
        )""")
    # For a plain repost that inherits its parent's mention: the post whose text gave it.
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN origin_uid VARCHAR")
    # The post's content_hash and created_at, copied (neither changes once a post is stored) so
    # that copy_of, the first post of the claim with the same content_hash, can be kept up to date
    # from this table alone, for the groups a run touches.
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN content_hash VARCHAR")
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN created_at TIMESTAMPTZ")
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN copy_of VARCHAR")


def _operations(con: duckdb.DuckDBPyConnection) -> None:
    """What the scheduler, the digest and the alerts keep: jobs and their next runs, heartbeats,
    where each post came from (a demo marks its generated posts), digests, alerts, deliveries."""
    con.execute("""
        CREATE TABLE store.scheduler_jobs (
            job_id VARCHAR PRIMARY KEY,       -- 'collect:<source>:<topic>', 'analyze', 'digest'...
            kind VARCHAR NOT NULL,            -- collect, analyze, digest, alerts
            source VARCHAR,
            topic VARCHAR,
            interval_s DOUBLE,                -- the interval in force, longer while backing off
            base_interval_s DOUBLE,           -- the configured interval
            next_run_at TIMESTAMPTZ,
            last_run_at TIMESTAMPTZ,
            last_status VARCHAR,              -- ok, partial, failed, not_configured, skipped...
            last_error VARCHAR,
            failures INTEGER NOT NULL DEFAULT 0,  -- consecutive failed runs
            process_id VARCHAR,               -- the scheduler process that scheduled it
            updated_at TIMESTAMPTZ NOT NULL
        )""")
    con.execute("""
        CREATE TABLE store.heartbeats (
            process_id VARCHAR PRIMARY KEY,
            pid INTEGER,
            host VARCHAR,
            mode VARCHAR,                     -- run, once, demo
            started_at TIMESTAMPTZ NOT NULL,
            beat_at TIMESTAMPTZ NOT NULL,
            clock_at TIMESTAMPTZ,             -- the scheduler's clock: simulated time in a demo
            stopped_at TIMESTAMPTZ
        )""")
    con.execute("""
        CREATE TABLE store.post_provenance (
            post_uid VARCHAR PRIMARY KEY,
            provenance VARCHAR NOT NULL,      -- real, generated
            note VARCHAR,
            recorded_at TIMESTAMPTZ NOT NULL
        )""")
    con.execute("""
        CREATE TABLE store.digests (
            day DATE PRIMARY KEY,             -- the local day the digest covers
            timezone VARCHAR NOT NULL,
            markdown_path VARCHAR,
            html_path VARCHAR,
            content_sha256 VARCHAR,
            written_at TIMESTAMPTZ NOT NULL,
            rewrites INTEGER NOT NULL DEFAULT 0
        )""")
    con.execute("""
        CREATE TABLE store.alerts (
            alert_id VARCHAR PRIMARY KEY,     -- deterministic: the same event never alerts twice
            kind VARCHAR NOT NULL,            -- new_variant, spike, authority_correction
            claim_id VARCHAR,
            variant VARCHAR,
            post_uid VARCHAR,
            observed_at TIMESTAMPTZ,          -- when it happened in the data
            raised_at TIMESTAMPTZ NOT NULL,
            message VARCHAR NOT NULL,
            link VARCHAR
        )""")
    con.execute("""
        CREATE TABLE store.deliveries (
            item_kind VARCHAR NOT NULL,       -- digest, alert
            item_id VARCHAR NOT NULL,         -- the digest's day, or the alert's id
            channel VARCHAR NOT NULL,         -- smtp, webhook
            status VARCHAR NOT NULL,          -- delivered, failed
            attempts INTEGER NOT NULL,
            error VARCHAR,
            last_attempt_at TIMESTAMPTZ NOT NULL,
            delivered_at TIMESTAMPTZ,
            PRIMARY KEY (item_kind, item_id, channel)
        )""")


def _variant_labels(con: duckdb.DuckDBPyConnection) -> None:
    """Each variant's unit (count, percent, a currency code) and its label as people read it."""
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN variant_label VARCHAR")
    con.execute("ALTER TABLE store.claim_mentions ADD COLUMN unit VARCHAR")
    # Mentions analysed before were counts: their label is the value itself.
    con.execute(
        "UPDATE store.claim_mentions SET variant_label = variant, unit = 'count'"
        " WHERE variant IS NOT NULL"
    )


def _digest_versions(con: duckdb.DuckDBPyConnection) -> None:
    """Every version of a day's digest: the first as written, then each revision, written when
    posts of the day arrived later (docs/digest.md, "Revisions"). `store.digests` keeps pointing
    at the latest."""
    con.execute("""
        CREATE TABLE store.digest_versions (
            day DATE NOT NULL,
            version INTEGER NOT NULL,         -- 1 as first written, then 2, 3... (revisions)
            timezone VARCHAR NOT NULL,
            markdown_path VARCHAR,
            html_path VARCHAR,
            content_sha256 VARCHAR,
            written_at TIMESTAMPTZ NOT NULL,
            changes VARCHAR,                  -- what changed from the version before; NULL for 1
            figures JSON,                     -- the day's figures, to tell when a revision is due
            posts_through BIGINT,             -- the posts (by seq) its figures were computed from
            PRIMARY KEY (day, version)
        )""")
    # Digests written before are their first version; their figures unknown, they count as
    # computed from every post stored now, so that no revision of them is made from the past.
    con.execute("""
        INSERT INTO store.digest_versions
        SELECT day, 1, timezone, markdown_path, html_path, content_sha256, written_at, NULL,
               NULL, (SELECT coalesce(max(seq), 0) FROM store.posts)
        FROM store.digests""")
    con.execute("ALTER TABLE store.digests ADD COLUMN version INTEGER DEFAULT 1")
    con.execute("ALTER TABLE store.digests ADD COLUMN changes VARCHAR")
    con.execute("UPDATE store.digests SET version = 1")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "posts, edges, engagement snapshots, collector runs, cursors", _core),
    Migration(2, "claim mentions and corrections", _analysis),
    Migration(3, "quarantine for pages and rows that could not be parsed", _quarantine),
    Migration(4, "which topic each collected post matched, and through which terms", _post_topics),
    Migration(
        5,
        "insertion order of posts, incremental analysis state, inherited and copied mentions",
        _incremental_analysis,
    ),
    Migration(
        6,
        "scheduler jobs and heartbeats, post provenance, digests, alerts and their deliveries",
        _operations,
    ),
    Migration(7, "variants' units and labels (counts, money, percentages)", _variant_labels),
    Migration(8, "every version of a day's digest: the first and its revisions", _digest_versions),
)
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version a database is at; 0 for an empty one."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'store' AND table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM store.schema_migrations").fetchone()
    return int(row[0]) if row else 0


def check_not_too_new(version: int, where: str) -> None:
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"{where} is at schema version {version}, but this claimwatch knows versions up to "
            f"{LATEST_VERSION}. Upgrade claimwatch to read it; it was not changed."
        )


def migrate(
    con: duckdb.DuckDBPyConnection, *, target: int = LATEST_VERSION, where: str = "the warehouse"
) -> list[Migration]:
    """Bring the database to `target`, one atomic step per migration; return the steps applied."""
    version = schema_version(con)
    check_not_too_new(version, where)
    pending = [m for m in MIGRATIONS if version < m.version <= target]
    for migration in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            if migration.version == 1:
                _bootstrap(con)
            migration.apply(con)
            con.execute(
                "INSERT INTO store.schema_migrations VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            create_views(con, migration.version)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return pending


def _bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS store")
    con.execute("""
        CREATE TABLE IF NOT EXISTS store.schema_migrations (
            version INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL
        )""")
