"""The command line: config check, db status and flush, exit codes and help."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, CliResult, make_posts

from warehouse import Batch, Warehouse, staging

Cli = Callable[..., CliResult]
CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"


def test_config_check_prints_the_config_with_secrets_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "hunter2-very-secret")
    result = cli("--config", str(CONFIG), "config", "check")
    assert result.code == 0
    assert "[topics.ice-canada]" in result.out
    assert "BLUESKY_APP_PASSWORD (set, ****)" in result.out
    assert "hunter2" not in result.out + result.err


def test_a_config_error_names_the_file_and_key_and_exits_2(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.read_text().replace('interval = "15m"', 'interval = "fifteen"', 1))
    result = cli("--config", str(bad), "config", "check")
    assert result.code == 2
    assert f"{bad}: sources." in result.err and ".interval: expected a duration" in result.err


def test_db_status_says_what_the_warehouse_holds(cli: Cli, warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(3)))
    out = cli("db", "status").out
    assert "3 from 1 source(s)" in out and "schema version" in out and "staged batches" in out
    assert "not run yet" in out


def test_db_flush_merges_staged_batches(cli: Cli, db_path: Path, warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    staging.stage(db_path, Batch(posts=make_posts(2, start=1)))
    assert "merged 1 staged batch(es): 2 new posts" in cli("db", "flush").out
    assert warehouse.staged() == []


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["import"],
        ["sql"],
        ["analyze"],
        ["config", "check"],
        ["db", "status"],
        ["db", "flush"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "claimwatch.cli", *command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0 and "Usage: " in result.stdout, command


def test_the_readme_main_command_works_on_a_fresh_warehouse(cli: Cli) -> None:
    assert cli("import", str(FIXTURES / "seed_posts.jsonl")).code == 0
    assert "5 from 2 source(s)" in cli("db", "status").out
