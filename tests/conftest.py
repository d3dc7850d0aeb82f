"""Shared test helpers: real DuckDB files in tmp_path, the real CLI, posts made in memory."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from claimwatch.cli import main
from warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "claimwatch.duckdb"


@pytest.fixture
def warehouse(db_path: Path) -> Warehouse:
    return Warehouse(db_path, lock_timeout=2, read_timeout=5)


@pytest.fixture
def cli(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Run `claimwatch ARGS` in-process against the test's warehouse; return code and output."""
    monkeypatch.delenv("CLAIMWATCH_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["claimwatch", "--db", str(db_path), *args])
        code = 0
        try:
            main()
        except SystemExit as stop:
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def make_posts(
    n: int, *, start: int = 0, likes: int = 0, collected_at: datetime = T0, source: str = "x"
) -> pa.Table:
    """`n` posts with ids start..start+n-1, one minute apart, all with `likes` likes."""
    ids = range(start, start + n)
    return pa.table(
        {
            "source": [source] * n,
            "source_id": [str(i) for i in ids],
            "created_at": pa.array(
                [T0 + timedelta(minutes=i) for i in ids], pa.timestamp("us", "UTC")
            ),
            "collected_at": pa.array([collected_at] * n, pa.timestamp("us", "UTC")),
            "text": [f"post number {i}: there are 5 ICE stations in Canada" for i in ids],
            "author_handle": [f"user{i % 7}" for i in ids],
            "likes": [likes] * n,
        }
    )


@pytest.fixture(scope="module")
def digest_seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digest tests' story (tests/digest_story.py), seeded and analysed once per module."""
    from digest_story import seed_story, story_config

    root = tmp_path_factory.mktemp("story")
    warehouse = Warehouse(root / "story.duckdb", lock_timeout=5, read_timeout=5)
    seed_story(warehouse, story_config(root))
    return warehouse.path


@pytest.fixture
def digest_warehouse(digest_seeded: Path, tmp_path: Path) -> Warehouse:
    """A copy of that story's warehouse for one test."""
    path = tmp_path / "claimwatch.duckdb"
    shutil.copy(digest_seeded, path)
    return Warehouse(path, lock_timeout=5, read_timeout=5)
