"""The documented SQL views: the stable interface that users, the dashboard and the digest query.

Columns may be added to a view in a later version; none is renamed or removed. Every view and
every column is explained in docs/views.md (a test checks it). Time buckets are computed in UTC
explicitly, so a user whose DuckDB session runs in another time zone sees the same buckets.
"""

from __future__ import annotations

import duckdb

from warehouse.schema import POST_COLUMN_NAMES

# How `reach` is counted up to schema version 4: the audience the author had when the post was
# last collected plus every engagement the source reports; unknown counts add nothing.
REACH_SQL_V2 = (
    "coalesce(p.author_followers, 0) + coalesce(p.likes, 0) + coalesce(p.reposts, 0)"
    " + coalesce(p.replies, 0) + coalesce(p.quotes, 0)"
)
# From version 5 (docs/views.md, "What reach counts, source by source"): the same, but a negative
# count (a Reddit score below zero is the one the collectors produce) adds 0 instead of taking
# reach away.
REACH_SQL = " + ".join(
    f"greatest(coalesce(p.{c}, 0), 0)"
    for c in ("author_followers", "likes", "reposts", "replies", "quotes")
)


def _utc_trunc(part: str, column: str) -> str:
    return f"(date_trunc('{part}', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


_SPREAD_GRAIN = """
    SELECT m.claim_id, m.variant, '{grain}' AS grain, {bucket} AS bucket,
           count(DISTINCT m.post_uid) AS posts,
           count(DISTINCT coalesce(p.author_id, p.author_handle)) AS authors,
           sum({reach})::BIGINT AS reach,
           count(DISTINCT p.source) AS sources{labels}
    FROM store.claim_mentions m JOIN store.posts p USING (post_uid)
    GROUP BY m.claim_id, m.variant, {bucket}"""
# From version 7: what the variant is and how it reads ("$1.3 billion"), one per variant.
_LABELS = ", min(m.variant_label) AS variant_label, min(m.unit) AS unit"


def _spread(reach: str, labels: str = "") -> str:
    return " UNION ALL ".join(
        _SPREAD_GRAIN.format(
            grain=grain, bucket=_utc_trunc(grain, "p.created_at"), reach=reach, labels=labels
        )
        for grain in ("hour", "day")
    )


_CLAIM_MENTIONS_V2 = (
    "SELECT m.post_uid, m.claim_id, m.variant, m.stance, m.matched_text, p.created_at,"
    " p.source, p.author_handle"
    " FROM store.claim_mentions m JOIN store.posts p USING (post_uid)"
)

# copy_of is kept in the store by the analysis (warehouse/analysis.py, `link_copies`): computing
# it here, a window over every mention, made each query of the view seconds slower.
_CLAIM_MENTIONS_V5 = """
    SELECT m.post_uid, m.claim_id, m.variant, m.stance, m.matched_text, p.created_at,
           p.source, p.author_handle, m.span_start, m.span_end, m.origin_uid, p.content_hash,
           m.copy_of
    FROM store.claim_mentions m JOIN store.posts p USING (post_uid)"""
_CLAIM_MENTIONS_V7 = _CLAIM_MENTIONS_V5.replace("m.copy_of", "m.copy_of, m.variant_label, m.unit")


def _hours(start: str, end: str) -> str:
    return f"((epoch_us({end}) - epoch_us({start})) / 3600e6)"


# Per claim and variant, over all time; the rules are in docs/views.md ("variant_summary").
_VARIANT_SUMMARY = f"""
    WITH mention AS (
        SELECT m.claim_id, m.variant, {{mention_labels}} m.post_uid, p.created_at, p.source,
               coalesce(p.author_id, p.author_handle) AS author, {REACH_SQL} AS reach
        FROM store.claim_mentions m JOIN store.posts p USING (post_uid)),
    claim AS (
        SELECT claim_id, max(created_at) AS last_post FROM mention GROUP BY claim_id),
    first_correction AS (
        SELECT c.claim_id, min(p.created_at) AS first_correction_at
        FROM store.corrections c JOIN store.posts p USING (post_uid) GROUP BY c.claim_id),
    variant AS (
        SELECT m.claim_id, m.variant, {{variant_labels}} min(m.created_at) AS first_seen,
               max(m.created_at) AS last_seen, count(DISTINCT m.post_uid) AS posts,
               count(DISTINCT m.author) AS authors, sum(m.reach)::BIGINT AS reach,
               count(DISTINCT m.source) AS sources, f.first_correction_at,
               count(DISTINCT m.post_uid) FILTER (WHERE m.created_at < f.first_correction_at)
                   AS posts_before,
               count(DISTINCT m.post_uid) FILTER (WHERE m.created_at >= f.first_correction_at)
                   AS posts_after
        FROM mention m LEFT JOIN first_correction f USING (claim_id)
        GROUP BY m.claim_id, m.variant, f.first_correction_at),
    rated AS (
        SELECT v.*,
               CASE WHEN v.first_correction_at > v.first_seen
                    THEN v.posts_before / {_hours("v.first_seen", "v.first_correction_at")}
               END AS rate_before,
               CASE WHEN c.last_post > v.first_correction_at
                    THEN v.posts_after / {_hours("v.first_correction_at", "c.last_post")}
               END AS rate_after
        FROM variant v JOIN claim c USING (claim_id))
    SELECT claim_id, variant, first_seen, last_seen, posts, authors, reach, sources,
           variant IS NOT NULL AND row_number() OVER (
               PARTITION BY claim_id, variant IS NULL
               ORDER BY posts DESC, reach DESC, first_seen, variant) = 1 AS is_leading,
           first_correction_at,
           CASE WHEN first_correction_at IS NOT NULL THEN posts_after END
               AS posts_after_correction,
           CASE WHEN first_correction_at IS NOT NULL THEN posts_after / posts END
               AS share_after_correction,
           rate_before, rate_after, rate_after < rate_before AS rate_fell{{labels}}
    FROM rated"""

# name: ((schema version, SELECT), ...): the view as each version defines it, oldest first.
VIEWS: dict[str, tuple[tuple[int, str], ...]] = {
    "posts": ((1, f"SELECT {', '.join(POST_COLUMN_NAMES)} FROM store.posts"),),
    "collector_runs": (
        (
            1,
            "SELECT run_id, source, topic, started_at, finished_at, status, fetched, new, error,"
            " rate_limit FROM store.collector_runs",
        ),
    ),
    "claim_mentions": ((2, _CLAIM_MENTIONS_V2), (5, _CLAIM_MENTIONS_V5), (7, _CLAIM_MENTIONS_V7)),
    "corrections": (
        (
            2,
            "SELECT c.post_uid, c.claim_id, c.variant, c.kind, p.created_at, p.source,"
            " p.author_handle, p.url"
            " FROM store.corrections c JOIN store.posts p USING (post_uid)",
        ),
    ),
    "post_topics": (
        (4, "SELECT post_uid, topic, matched_terms, first_seen_at FROM store.post_topics"),
    ),
    "variant_spread": (
        (2, _spread(REACH_SQL_V2)),
        (5, _spread(REACH_SQL)),
        (7, _spread(REACH_SQL, _LABELS)),
    ),
    "variant_summary": (
        (5, _VARIANT_SUMMARY.format(mention_labels="", variant_labels="", labels="")),
        (
            7,
            _VARIANT_SUMMARY.format(
                mention_labels="m.variant_label, m.unit,",
                variant_labels="min(m.variant_label) AS variant_label, min(m.unit) AS unit,",
                labels=", variant_label, unit",
            ),
        ),
    ),
    "scheduler_jobs": (
        (
            6,
            "SELECT job_id, kind, source, topic, interval_s, base_interval_s, next_run_at,"
            " last_run_at, last_status, last_error, failures, updated_at FROM store.scheduler_jobs",
        ),
    ),
    "heartbeats": (
        (
            6,
            "SELECT process_id, pid, host, mode, started_at, beat_at, clock_at, stopped_at"
            " FROM store.heartbeats",
        ),
    ),
    "post_provenance": ((6, "SELECT post_uid, provenance, note FROM store.post_provenance"),),
    "digests": (
        (
            6,
            "SELECT day, timezone, markdown_path, html_path, written_at, rewrites"
            " FROM store.digests",
        ),
        (
            8,
            "SELECT day, timezone, markdown_path, html_path, written_at, rewrites, version,"
            " changes FROM store.digests",
        ),
    ),
    "digest_versions": (
        (
            8,
            "SELECT day, version, timezone, markdown_path, html_path, written_at, changes"
            " FROM store.digest_versions",
        ),
    ),
    "alerts": (
        (
            6,
            "SELECT alert_id, kind, claim_id, variant, post_uid, observed_at, raised_at, message,"
            " link FROM store.alerts",
        ),
    ),
    "deliveries": (
        (
            6,
            "SELECT item_kind, item_id, channel, status, attempts, error, last_attempt_at,"
            " delivered_at FROM store.deliveries",
        ),
    ),
}


def create_views(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """(Re)create every view that exists at schema `version`, as that version defines it."""
    for name, definitions in VIEWS.items():
        selects = [select for since, select in definitions if since <= version]
        if selects:
            con.execute(f"CREATE OR REPLACE VIEW main.{name} AS {selects[-1]}")
