"""Migrations: ordered, recorded, atomic; older databases upgrade, newer ones are refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import make_posts

from warehouse import LATEST_VERSION, Batch, SchemaTooNewError, Warehouse
from warehouse import migrations as m
from warehouse.views import VIEWS


def versions(path: Path) -> list[tuple[int, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT version, name FROM store.schema_migrations ORDER BY 1"
        ).fetchall()


def test_an_empty_file_is_migrated_to_the_latest_version_step_by_step(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        applied = m.migrate(con)
    assert [s.version for s in applied] == list(range(1, LATEST_VERSION + 1))
    assert versions(db_path) == [(s.version, s.name) for s in m.MIGRATIONS]


def test_every_documented_view_exists_after_migrating(warehouse: Warehouse) -> None:
    with warehouse.writing() as con:
        views = {
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
    assert views == set(VIEWS)


def test_migrating_again_applies_nothing(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        m.migrate(con)
        assert m.migrate(con) == []


def test_an_older_database_upgrades_itself_and_keeps_its_posts(
    db_path: Path, warehouse: Warehouse
) -> None:
    with duckdb.connect(str(db_path)) as con:
        m.migrate(con, target=1)
        con.execute(
            "INSERT INTO store.posts (post_uid, source, source_id, created_at, text)"
            " VALUES ('x:1', 'x', '1', '2026-01-27T00:00:00Z', 'there are 4 ICE stations')"
        )
    assert [v for v, _ in versions(db_path)] == [1]
    with warehouse.reading() as con:  # a reader's first visit upgrades the file
        assert con.execute("SELECT post_uid, text FROM posts").fetchall() == [
            ("x:1", "there are 4 ICE stations")
        ]
        assert con.execute("SELECT count(*) FROM claim_mentions").fetchone() == (0,)
    assert [v for v, _ in versions(db_path)] == list(range(1, LATEST_VERSION + 1))


def test_a_newer_database_is_refused_and_left_unchanged(
    db_path: Path, warehouse: Warehouse
) -> None:
    with duckdb.connect(str(db_path)) as con:
        m.migrate(con)
        con.execute("INSERT INTO store.schema_migrations VALUES (99, 'from the future', now())")
    before = versions(db_path)
    too_new = rf"schema version 99.*knows versions up to {LATEST_VERSION}"
    with pytest.raises(SchemaTooNewError, match=too_new), warehouse.writing():
        pass
    with pytest.raises(SchemaTooNewError), warehouse.reading():
        pass
    assert versions(db_path) == before


def test_a_failing_migration_leaves_no_trace(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_done(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE store.half_done (x INTEGER)")
        con.execute("SELECT * FROM no_such_table")

    broken = m.Migration(LATEST_VERSION + 1, "fails halfway", half_done)
    monkeypatch.setattr(m, "MIGRATIONS", (*m.MIGRATIONS, broken))
    with duckdb.connect(str(db_path)) as con:
        with pytest.raises(duckdb.CatalogException):
            m.migrate(con, target=LATEST_VERSION + 1)
        assert m.schema_version(con) == LATEST_VERSION
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name = 'half_done'"
        )
        assert tables.fetchall() == []


def test_a_version_4_file_gets_an_insertion_order_for_its_posts(
    db_path: Path, warehouse: Warehouse
) -> None:
    with duckdb.connect(str(db_path)) as con:
        m.migrate(con, target=4)
        for uid in ("x:c", "x:a", "x:b"):  # stored in this order, not in the order of their ids
            con.execute(
                "INSERT INTO store.posts (post_uid, source, source_id, created_at, text)"
                " VALUES (?, 'x', ?, '2026-01-27T00:00:00Z', 'there are 4 ICE stations')",
                [uid, uid[2:]],
            )
    warehouse.write(Batch(posts=make_posts(2)))  # the write upgrades the file first
    assert [v for v, _ in versions(db_path)] == list(range(1, LATEST_VERSION + 1))
    with warehouse.reading() as con:
        assert con.execute("SELECT post_uid, seq FROM store.posts ORDER BY seq").fetchall() == [
            ("x:c", 1),
            ("x:a", 2),
            ("x:b", 3),
            ("x:0", 4),
            ("x:1", 5),
        ]
        assert con.execute("SELECT count(*) FROM store.analysis_state").fetchone() == (0,)
        assert con.execute("SELECT origin_uid FROM store.claim_mentions").fetchall() == []


def test_every_insert_gets_the_next_seq_whoever_writes_it(warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(3)))
    with warehouse.writing() as con:
        con.execute(
            "INSERT INTO store.posts (post_uid, source, source_id, created_at, text)"
            " VALUES ('y:1', 'y', '1', now(), 'by hand')"
        )
    warehouse.write(Batch(posts=make_posts(2, start=10)))
    warehouse.write(Batch(posts=make_posts(3)))  # known posts: nothing new, no seq taken
    with warehouse.reading() as con:
        seqs = con.execute("SELECT post_uid, seq FROM store.posts ORDER BY seq").fetchall()
    assert [s for _, s in seqs] == [1, 2, 3, 4, 5, 6]
    assert [u for u, _ in seqs][3:] == ["y:1", "x:10", "x:11"]
