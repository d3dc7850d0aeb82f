"""The labelled evaluation set stays well-formed (tests/eval/README.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

EVAL = Path(__file__).parent / "eval"


def test_every_post_and_label_of_the_evaluation_set_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, str(EVAL / "check_labels.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 212 posts")


@pytest.mark.parametrize(("name", "posts"), [("holdout.jsonl", 80), ("blind.jsonl", 100)])
def test_the_sets_written_blind_are_valid_too(name: str, posts: int) -> None:
    result = subprocess.run(
        [sys.executable, str(EVAL / "check_labels.py"), "--file", str(EVAL / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK: {posts} posts")
