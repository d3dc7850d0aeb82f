"""`claimwatch sql`: read-only queries over the views, refused writes, three output formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult, make_posts

from warehouse import Batch, Warehouse
from warehouse.adhoc import QueryTimeoutError, run_query

Cli = Callable[..., CliResult]


@pytest.fixture
def loaded(warehouse: Warehouse) -> Warehouse:
    warehouse.write(Batch(posts=make_posts(3)))
    return warehouse


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("DROP VIEW posts", "DROP"),
        ("INSERT INTO store.posts (post_uid) VALUES ('x:9')", "INSERT"),
        ("ATTACH 'other.duckdb' AS other", "ATTACH"),
        ("COPY (SELECT * FROM posts) TO 'stolen.csv'", "COPY"),
        ("UPDATE store.posts SET likes = 0", "UPDATE"),
        ("DELETE FROM store.posts", "DELETE"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("SET enable_external_access = true", "SET"),
        ("INSTALL httpfs", "LOAD"),
        ("SELECT 1; DROP VIEW posts", "DROP statement (statement 2)"),
    ],
)
def test_writes_are_refused_with_a_clear_message_and_not_run(
    cli: Cli, loaded: Warehouse, tmp_path: Path, query: str, kind: str
) -> None:
    result = cli("sql", query)
    assert result.code == 2
    assert f"read-only: a {kind}" in " ".join(result.err.split())
    assert cli("sql", "SELECT count(*) AS n FROM posts", "--format", "csv").out == "n\n3\n"
    assert not (tmp_path / "stolen.csv").exists()


def test_reading_other_files_is_refused(cli: Cli, loaded: Warehouse, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    result = cli("sql", f"SELECT * FROM read_csv('{secret}')")
    assert result.code == 2
    assert "disabled" in result.err.lower()


def test_results_print_as_csv_and_json(cli: Cli, loaded: Warehouse) -> None:
    query = "SELECT post_uid, likes, created_at FROM posts ORDER BY post_uid LIMIT 2"
    assert cli("sql", query, "--format", "csv").out.splitlines() == [
        "post_uid,likes,created_at",
        "x:0,0,2026-01-28T12:00:00.000000+0000",
        "x:1,0,2026-01-28T12:01:00.000000+0000",
    ]
    assert json.loads(cli("sql", query, "--format", "json").out) == [
        {"post_uid": "x:0", "likes": 0, "created_at": "2026-01-28T12:00:00+00:00"},
        {"post_uid": "x:1", "likes": 0, "created_at": "2026-01-28T12:01:00+00:00"},
    ]


def test_the_table_shows_values_literally_and_says_when_rows_were_cut(
    cli: Cli, loaded: Warehouse
) -> None:
    result = cli("sql", "SELECT '[bold]x[/bold] <script>' AS t FROM posts", "--max-rows", "2")
    assert result.out.count("[bold]x[/bold] <script>") == 2
    assert "showing the first 2 rows" in result.err


def test_a_query_past_its_time_limit_is_stopped(loaded: Warehouse) -> None:
    with pytest.raises(QueryTimeoutError, match=r"0\.2 s limit"):
        run_query(loaded, "SELECT count(*) FROM range(10000000000) a", timeout=0.2)


def test_a_missing_warehouse_is_explained(cli: Cli) -> None:
    result = cli("sql", "SELECT 1")
    assert result.code == 2
    assert "there is no warehouse at" in result.err
