"""Loading posts: bulk, idempotent, engagement updated with its history kept."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest
from conftest import T0, make_posts

from warehouse import Batch, CursorUpdate, RunRecord, Warehouse


def rows(warehouse: Warehouse, query: str) -> list[tuple[object, ...]]:
    with warehouse.reading() as con:
        return con.execute(query).fetchall()


def test_loading_the_same_posts_twice_stores_them_once(warehouse: Warehouse) -> None:
    first = warehouse.write(Batch(posts=make_posts(100)))
    second = warehouse.write(Batch(posts=make_posts(100)))
    assert (first.stats.new, second.stats.new, second.stats.updated) == (100, 0, 0)
    assert rows(warehouse, "SELECT count(*), count(DISTINCT post_uid) FROM posts") == [(100, 100)]
    assert rows(warehouse, "SELECT count(*) FROM store.engagement_snapshots") == [(100,)]


def test_a_later_copy_updates_engagement_and_keeps_the_history(warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(3, likes=1)))
    later = warehouse.write(
        Batch(posts=make_posts(3, likes=9, collected_at=T0 + timedelta(hours=1)))
    )
    assert later.stats.updated == 3
    assert rows(warehouse, "SELECT DISTINCT likes FROM posts") == [(9,)]
    history = rows(
        warehouse,
        "SELECT likes FROM store.engagement_snapshots WHERE post_uid = 'x:0' ORDER BY observed_at",
    )
    assert history == [(1,), (9,)]


def test_an_older_copy_does_not_overwrite_newer_counts(warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(1, likes=9, collected_at=T0 + timedelta(hours=1))))
    warehouse.write(Batch(posts=make_posts(1, likes=1, collected_at=T0)))
    assert rows(warehouse, "SELECT likes FROM posts") == [(9,)]


def test_a_copy_without_counts_keeps_the_known_ones(warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(1, likes=5)))
    blank = make_posts(1, collected_at=T0 + timedelta(hours=1)).drop_columns(["likes"])
    assert warehouse.write(Batch(posts=blank)).stats.updated == 0
    assert rows(warehouse, "SELECT likes FROM posts") == [(5,)]


def test_a_post_repeated_within_a_batch_is_stored_once_with_its_latest_counts(
    warehouse: Warehouse,
) -> None:
    early, late = make_posts(1, likes=2), make_posts(1, likes=3, collected_at=T0 + timedelta(1))
    result = warehouse.write(Batch(posts=pa.concat_tables([late, early, early])))
    assert (result.stats.received, result.stats.distinct, result.stats.new) == (3, 1, 1)
    assert rows(warehouse, "SELECT post_uid, likes FROM posts") == [("x:0", 3)]


def test_replies_reposts_and_quotes_become_edges(warehouse: Warehouse) -> None:
    posts = make_posts(4).append_column("kind", pa.array(["post", "reply", "repost", "quote"]))
    posts = posts.append_column("parent_uid", pa.array([None, "x:0", "x:0", "x:1"]))
    posts = posts.append_column("root_uid", pa.array([None, "x:0", "x:0", "x:0"]))
    warehouse.write(Batch(posts=posts))
    warehouse.write(Batch(posts=posts))
    assert rows(
        warehouse, "SELECT post_uid, target_uid, relation FROM store.post_edges ORDER BY ALL"
    ) == [
        ("x:1", "x:0", "reply"),
        ("x:2", "x:0", "repost"),
        ("x:3", "x:0", "root"),
        ("x:3", "x:1", "quote"),
    ]


def test_the_content_hash_ignores_case_links_and_punctuation(warehouse: Warehouse) -> None:
    posts = make_posts(3).set_column(
        4,
        "text",
        pa.array(
            [
                "There are 5 ICE stations in Canada!! https://t.co/abc",
                "there are 5 ice stations in canada",
                "there are 4 ice stations in canada",
            ]
        ),
    )
    warehouse.write(Batch(posts=posts))
    hashes = rows(warehouse, "SELECT content_hash FROM posts ORDER BY source_id")
    assert hashes[0] == hashes[1] != hashes[2]


def test_runs_and_cursors_are_written_with_the_posts(warehouse: Warehouse) -> None:
    run = RunRecord("run-1", "mastodon", "ice-canada", T0, "ok", T0, fetched=2, new=2)
    cursor = CursorUpdate("mastodon", "ice-canada", "115044073088181107", scope="mastodon.social")
    warehouse.write(Batch(posts=make_posts(2), runs=[run], cursors=[cursor], run_id="run-1"))
    assert rows(warehouse, "SELECT run_id, status, fetched, new FROM collector_runs") == [
        ("run-1", "ok", 2, 2)
    ]
    assert rows(warehouse, "SELECT scope, cursor FROM store.cursors") == [
        ("mastodon.social", "115044073088181107")
    ]
    assert rows(warehouse, "SELECT DISTINCT first_run_id FROM store.posts") == [("run-1",)]


def test_a_batch_without_the_required_columns_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match=r"lacks the required column.*created_at"):
        warehouse.write(Batch(posts=make_posts(1).drop_columns(["created_at"])))
