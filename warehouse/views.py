"""The documented SQL views: the stable interface that users, the dashboard and the digest query.

Columns may be added to a view in a later version; none is renamed or removed. Every view and
every column is explained in docs/views.md (a test checks it). Time buckets are computed in UTC
explicitly, so a user whose DuckDB session runs in another time zone sees the same buckets.
"""

from __future__ import annotations

import duckdb

from warehouse.schema import POST_COLUMN_NAMES

# How `reach` is counted (docs/views.md says the same): the audience the author had when the post
# was last collected plus every engagement the source reports; unknown counts add nothing.
REACH_SQL = (
    "coalesce(p.author_followers, 0) + coalesce(p.likes, 0) + coalesce(p.reposts, 0)"
    " + coalesce(p.replies, 0) + coalesce(p.quotes, 0)"
)


def _utc_trunc(part: str, column: str) -> str:
    return f"(date_trunc('{part}', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


_SPREAD_GRAIN = """
    SELECT m.claim_id, m.variant, '{grain}' AS grain, {bucket} AS bucket,
           count(DISTINCT m.post_uid) AS posts,
           count(DISTINCT coalesce(p.author_id, p.author_handle)) AS authors,
           sum({reach})::BIGINT AS reach,
           count(DISTINCT p.source) AS sources
    FROM store.claim_mentions m JOIN store.posts p USING (post_uid)
    GROUP BY ALL"""

VIEWS: dict[str, tuple[int, str]] = {
    # name: (schema version that introduced it, SELECT)
    "posts": (1, f"SELECT {', '.join(POST_COLUMN_NAMES)} FROM store.posts"),
    "collector_runs": (
        1,
        "SELECT run_id, source, topic, started_at, finished_at, status, fetched, new, error,"
        " rate_limit FROM store.collector_runs",
    ),
    "claim_mentions": (
        2,
        "SELECT m.post_uid, m.claim_id, m.variant, m.stance, m.matched_text, p.created_at,"
        " p.source, p.author_handle"
        " FROM store.claim_mentions m JOIN store.posts p USING (post_uid)",
    ),
    "corrections": (
        2,
        "SELECT c.post_uid, c.claim_id, c.variant, c.kind, p.created_at, p.source,"
        " p.author_handle, p.url"
        " FROM store.corrections c JOIN store.posts p USING (post_uid)",
    ),
    "post_topics": (
        4,
        "SELECT post_uid, topic, matched_terms, first_seen_at FROM store.post_topics",
    ),
    "variant_spread": (
        2,
        " UNION ALL ".join(
            _SPREAD_GRAIN.format(
                grain=grain, bucket=_utc_trunc(grain, "p.created_at"), reach=REACH_SQL
            )
            for grain in ("hour", "day")
        ),
    ),
}


def create_views(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """(Re)create every view that exists at schema `version`."""
    for name, (since, select) in VIEWS.items():
        if since <= version:
            con.execute(f"CREATE OR REPLACE VIEW main.{name} AS {select}")
