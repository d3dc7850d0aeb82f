"""The labelled evaluation set stays well-formed (tests/eval/README.md)."""

import subprocess
import sys
from pathlib import Path

EVAL = Path(__file__).parent / "eval"


def test_every_post_and_label_of_the_evaluation_set_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, str(EVAL / "check_labels.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 212 posts")


def test_the_held_out_set_is_valid_too() -> None:
    result = subprocess.run(
        [sys.executable, str(EVAL / "check_labels.py"), "--file", str(EVAL / "holdout.jsonl")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 80 posts")
