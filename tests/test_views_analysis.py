"""The analysis views (`claim_mentions`, `variant_spread`, `variant_summary`) on a small seeded
warehouse, checked against numbers worked out by hand.

Posts go in through `Warehouse.write`; mentions and corrections are seeded straight into the store
tables, so that the views are checked apart from the engine (one test runs the engine too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from claims.job import analyze_warehouse
from config import load_config
from warehouse import Batch, Warehouse
from warehouse.analysis import link_copies

T = datetime(2026, 1, 27, 0, 0, tzinfo=UTC)
CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"


def at(hours: float) -> datetime:
    return T + timedelta(hours=hours)


def write_posts(warehouse: Warehouse, rows: list[dict[str, Any]]) -> None:
    names = ("source", "source_id", "created_at", "text", "author_handle", "author_followers")
    names += ("likes", "reposts", "replies", "quotes", "kind", "parent_uid")
    columns: dict[str, list[Any]] = {n: [row.get(n) for row in rows] for n in names}
    types = {"created_at": pa.timestamp("us", "UTC")}
    types |= {n: pa.int64() for n in ("author_followers", "likes", "reposts", "replies", "quotes")}
    warehouse.write(
        Batch(
            posts=pa.table({n: pa.array(v, types.get(n, pa.string())) for n, v in columns.items()})
        )
    )


def seed(
    warehouse: Warehouse,
    mentions: list[tuple[str, str, str | None, str, str | None]],
    corrections: Sequence[tuple[str, str, str | None, str]] = (),
) -> None:
    """mentions: (post_uid, claim_id, variant, stance, origin_uid); corrections: (post_uid,
    claim_id, variant, kind). Stored as the analysis stores them, copies linked."""
    stamp = datetime.now(UTC)
    with warehouse.writing() as con:
        for post_uid, claim_id, variant, stance, origin in mentions:
            con.execute(
                "INSERT INTO store.claim_mentions (post_uid, claim_id, variant, stance,"
                " matched_text, span_start, span_end, claim_version, analyzed_at, origin_uid,"
                " content_hash, created_at)"
                " SELECT ?, ?, ?, ?, 'words', 0, 5, 'v1', ?, ?, content_hash, created_at"
                " FROM store.posts WHERE post_uid = ?",
                [post_uid, claim_id, variant, stance, stamp, origin, post_uid],
            )
        link_copies(con, stamp)
        for post_uid, claim_id, variant, kind in corrections:
            con.execute(
                "INSERT INTO store.corrections VALUES (?, ?, ?, ?, 'v1', now())",
                [post_uid, claim_id, variant, kind],
            )


def rows(warehouse: Warehouse, query: str) -> list[tuple[Any, ...]]:
    with warehouse.reading() as con:
        return con.execute(query).fetchall()


@pytest.fixture
def story(warehouse: Warehouse) -> Warehouse:
    """Claim c: variants "4" and "5", corrected at T+3h; claim d: two variants, no correction.

    post  source     author  hours  reach (followers + counts)     claim  variant
    a1    x          A       0      100 + 10 likes = 110            c      4
    a2    mastodon   B       1      50 + 5 likes + 5 reposts = 60   c      4
    a3    reddit     C       2      score -3 counts 0, 7 replies: 7 c      5
    a6    news       E       3      0 (the correction)              c      5 (corrects)
    a4    x          A       4      100                             c      4
    a5    bluesky    D       5      1 like                          c      5
    a8    bluesky    G       5.5    0                               c      5
    a7    x          F       6      0                               c      NULL
    d1    x          H       1      10                              d      x
    d2    x          I       2      20                              d      y
    """

    def post(uid: str, source: str, author: str, hours: float, **counts: int) -> dict[str, Any]:
        return {
            "source": source,
            "source_id": uid,
            "created_at": at(hours),
            "text": f"post {uid}",
            "author_handle": author,
        } | counts

    write_posts(
        warehouse,
        [
            post("a1", "x", "A", 0, author_followers=100, likes=10),
            post("a2", "mastodon", "B", 1, author_followers=50, likes=5, reposts=5),
            post("a3", "reddit", "C", 2, likes=-3, replies=7),
            post("a6", "news", "E", 3),
            post("a4", "x", "A", 4, author_followers=100),
            post("a5", "bluesky", "D", 5, likes=1),
            post("a8", "bluesky", "G", 5.5, likes=0),
            post("a7", "x", "F", 6),
            post("d1", "x", "H", 1, likes=10),
            post("d2", "x", "I", 2, likes=20),
        ],
    )
    seed(
        warehouse,
        [
            ("x:a1", "c", "4", "asserts", None),
            ("mastodon:a2", "c", "4", "asserts", None),
            ("reddit:a3", "c", "5", "asserts", None),
            ("news:a6", "c", "5", "corrects", None),
            ("x:a4", "c", "4", "asserts", None),
            ("bluesky:a5", "c", "5", "questions", None),
            ("bluesky:a8", "c", "5", "asserts", None),
            ("x:a7", "c", None, "asserts", None),
            ("x:d1", "d", "x", "asserts", None),
            ("x:d2", "d", "y", "asserts", None),
        ],
        [("news:a6", "c", "5", "authority")],
    )
    return warehouse


def summary(warehouse: Warehouse) -> dict[tuple[str, str | None], dict[str, Any]]:
    with warehouse.reading() as con:
        result = con.execute("SELECT * FROM variant_summary")
        names = [d[0] for d in result.description]
        return {(r[0], r[1]): dict(zip(names, r, strict=True)) for r in result.fetchall()}


def test_variant_summary_matches_the_numbers_worked_out_by_hand(story: Warehouse) -> None:
    got = summary(story)
    assert set(got) == {("c", "4"), ("c", "5"), ("c", None), ("d", "x"), ("d", "y")}
    four, five, none = got["c", "4"], got["c", "5"], got["c", None]

    assert (four["first_seen"], four["last_seen"]) == (at(0), at(4))
    assert (four["posts"], four["authors"], four["reach"], four["sources"]) == (3, 2, 270, 2)
    assert (five["first_seen"], five["last_seen"]) == (at(2), at(5.5))
    assert (five["posts"], five["authors"], five["reach"], five["sources"]) == (4, 4, 8, 3)
    assert (none["posts"], none["authors"], none["reach"], none["sources"]) == (1, 1, 0, 1)

    # "5" has the most posts (4 against 3): it leads, though "4" reached further.
    assert (five["is_leading"], four["is_leading"], none["is_leading"]) == (True, False, False)

    for row in (four, five, none):
        assert row["first_correction_at"] == at(3)
    # after = at or after the correction (a6, the correction itself, counts for "5")
    assert (four["posts_after_correction"], four["share_after_correction"]) == (1, 1 / 3)
    assert (five["posts_after_correction"], five["share_after_correction"]) == (3, 0.75)
    assert (none["posts_after_correction"], none["share_after_correction"]) == (1, 1.0)

    # "4": 2 posts in the 3 h from its first post to the correction, 1 in the 3 h from the
    # correction to the claim's last post (a7 at 6 h).
    assert four["rate_before"] == pytest.approx(2 / 3)
    assert four["rate_after"] == pytest.approx(1 / 3)
    assert four["rate_fell"] is True
    # "5": 1 post in the 1 h before (from 2 h to 3 h), 3 in the 3 h after: the same rate.
    assert five["rate_before"] == pytest.approx(1.0)
    assert five["rate_after"] == pytest.approx(1.0)
    assert five["rate_fell"] is False
    # NULL variant: first seen after the correction, so no rate before.
    assert none["rate_before"] is None
    assert none["rate_after"] == pytest.approx(1 / 3)
    assert none["rate_fell"] is None


def test_a_tie_in_posts_goes_to_reach_and_no_correction_leaves_nulls(story: Warehouse) -> None:
    got = summary(story)
    x, y = got["d", "x"], got["d", "y"]
    assert (x["posts"], y["posts"], x["reach"], y["reach"]) == (1, 1, 10, 20)
    assert (x["is_leading"], y["is_leading"]) == (False, True)
    for row in (x, y):
        nulls = ("first_correction_at", "posts_after_correction", "share_after_correction")
        nulls += ("rate_before", "rate_after", "rate_fell")
        assert [row[n] for n in nulls] == [None] * len(nulls)


def test_variant_spread_counts_reach_with_negative_counts_as_zero(story: Warehouse) -> None:
    spread = rows(
        story,
        "SELECT variant, bucket, posts, authors, reach, sources FROM variant_spread"
        " WHERE claim_id = 'c' AND grain = 'hour' AND variant IS NOT NULL ORDER BY bucket",
    )
    assert spread == [
        ("4", at(0), 1, 1, 110, 1),
        ("4", at(1), 1, 1, 60, 1),
        ("5", at(2), 1, 1, 7, 1),  # the Reddit score of -3 adds 0, its 7 comments count
        ("5", at(3), 1, 1, 0, 1),
        ("4", at(4), 1, 1, 100, 1),
        ("5", at(5), 2, 2, 1, 1),
    ]
    days = rows(
        story,
        "SELECT variant, posts, authors, reach, sources FROM variant_spread"
        " WHERE claim_id = 'c' AND grain = 'day' ORDER BY variant NULLS LAST",
    )
    assert days == [("4", 3, 2, 270, 2), ("5", 4, 4, 8, 3), (None, 1, 1, 0, 1)]


def test_copies_and_cross_posts_link_to_their_first_appearance(warehouse: Warehouse) -> None:
    text = "There are 5 ICE stations in Canada!"

    def post(uid: str, source: str, hours: float, body: str, **more: str) -> dict[str, Any]:
        return {"source": source, "source_id": uid, "created_at": at(hours), "text": body} | more

    write_posts(
        warehouse,
        [
            post("b4", "x", 0, "Four ICE offices in Canada"),  # earliest, but other words
            post("b1", "x", 1, text),  # the first appearance
            post("b3", "x", 1, "THERE ARE 5 ICE STATIONS IN CANADA"),  # same time: uid decides
            post("b2", "mastodon", 2, "there are 5 ice stations in canada https://t.co/abc"),
            post("b5", "x", 3, text, kind="repost", parent_uid="x:b1"),
            post("b6", "reddit", 4, ""),  # empty texts are not copies of each other
            post("b7", "reddit", 5, ""),
            post("b8", "bluesky", 0.5, text),  # earlier, but mentions another claim only
        ],
    )
    seed(
        warehouse,
        [
            ("x:b4", "c", "4", "asserts", None),
            ("x:b1", "c", "5", "asserts", None),
            ("x:b3", "c", "5", "asserts", None),
            ("mastodon:b2", "c", "5", "asserts", None),
            ("x:b5", "c", "5", "asserts", "x:b1"),  # inherited: origin_uid links it instead
            ("reddit:b6", "c", "5", "asserts", None),
            ("reddit:b7", "c", "5", "asserts", None),
            ("bluesky:b8", "d", None, "asserts", None),
        ],
    )
    links = rows(
        warehouse,
        "SELECT post_uid, claim_id, copy_of, origin_uid FROM claim_mentions ORDER BY post_uid",
    )
    assert links == [
        ("bluesky:b8", "d", None, None),
        ("mastodon:b2", "c", "x:b1", None),
        ("reddit:b6", "c", None, None),
        ("reddit:b7", "c", None, None),
        ("x:b1", "c", None, None),
        ("x:b3", "c", "x:b1", None),
        ("x:b4", "c", None, None),
        ("x:b5", "c", None, "x:b1"),
    ]
    hashes = rows(
        warehouse,
        "SELECT count(DISTINCT content_hash) FROM claim_mentions"
        " WHERE post_uid IN ('x:b1', 'x:b3', 'mastodon:b2', 'x:b5')",
    )
    assert hashes == [(1,)]


def test_the_engine_fills_spans_origins_and_copies(warehouse: Warehouse) -> None:
    five = "There are 5 ICE stations in Canada"
    write_posts(
        warehouse,
        [
            {"source": "x", "source_id": "1", "created_at": at(0), "text": five},
            {"source": "mastodon", "source_id": "2", "created_at": at(1), "text": five + "!!"},
            {
                "source": "x",
                "source_id": "3",
                "created_at": at(2),
                "text": "RT @someone: There are 5 ICE",
                "kind": "repost",
                "parent_uid": "x:1",
            },
        ],
    )
    analyze_warehouse(warehouse, load_config(CONFIG))
    got = rows(
        warehouse,
        "SELECT post_uid, variant, matched_text, span_start, span_end, origin_uid, copy_of"
        " FROM claim_mentions ORDER BY post_uid",
    )
    assert got == [
        ("mastodon:2", "5", "5 ICE stations", 10, 24, None, "x:1"),
        ("x:1", "5", "5 ICE stations", 10, 24, None, None),
        ("x:3", "5", "5 ICE stations", 10, 24, "x:1", None),
    ]
    assert five[10:24] == "5 ICE stations"
