"""tests/eval/check_labels.py on small sets of a money claim, and on every shipped set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "eval"
SCRIPT = EVAL / "check_labels.py"

# A money claim with no min/max: bounds verified/1000..verified*1000 = 2e6..2e12.
CONFIG = """\
[topics.bridge]
title = "The bridge"
languages = ["en", "fr", "de"]

[topics.bridge.corrections]
authorities = [{ source = "x", handle = "BridgeCorp", name = "Bridge Corporation" }]
factcheck_publishers = ["AFP Fact Check"]

[claims.bridge-cost]
topic = "bridge"
title = "What the bridge cost"

[claims.bridge-cost.quantity]
kind = "money"
currency = "CAD"
verified = 2000000000

[claims.bridge-cost.corrections]
authorities = [{ source = "bluesky", handle = "transport.gc.ca", name = "Transport Canada" }]
factcheck_publishers = ["Snopes"]
"""


def row(rid: str, labels: list[dict], **kw: str) -> dict:
    base = {
        "id": rid,
        "source": "x",
        "author_handle": "someone",
        "lang": "en",
        "text": "The bridge cost $2 billion.",
        "labels": labels,
        "note": "",
    }
    return base | kw


def lab(variant: str | None, stance: str = "asserts", correction: str | None = None) -> dict:
    claim = "bridge-cost"
    return {"claim": claim, "variant": variant, "stance": stance, "correction": correction}


GOOD = [
    row("a001", [lab("2000000000")]),
    row("a002", [lab("2500000.5")], lang="de", source="youtube"),
    row("a003", [lab(None, "questions")], source="reddit"),
    row("a004", [lab("2000000000", "corrects", "authority")], author_handle="bridgecorp"),
    row("a005", [lab("2000000000", "corrects", "authority")], source="bluesky",
        author_handle="Transport.GC.ca"),
    row("a006", [lab("2000000000", "corrects", "authority")], source="news",
        author_handle="daily", note="reports Bridge Corporation's correction"),
    row("a007", [lab("2000000000", "corrects", "factcheck")], source="factcheck",
        author_handle="Some Checker"),
    row("a008", [lab(None, "corrects", "factcheck")], author_handle="AFPFactCheck"),
    row("a009", [lab("2000000000", "corrects", "factcheck")], source="mastodon",
        author_handle="snopes"),
    row("a010", [lab("3000000000", "corrects", "community")], source="news"),
    row("a011", [], note="not about the bridge"),
]  # fmt: skip


def run(tmp_path: Path, rows: list[dict], *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "bridge.toml"
    config.write_text(CONFIG, encoding="utf-8")
    data = tmp_path / "bridge.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [sys.executable, str(SCRIPT), "--config", str(config), "--file", str(data), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def test_good_money_set_passes(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD, "--counts")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK: {len(GOOD)} posts")
    assert '"2500000.5" x1' in result.stdout
    assert '| bridge-cost asserts "2000000000" (verified) | 1 |' in result.stdout


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (row("b001", [lab("5") | {"claim": "bridge-height"}]), "unknown claim 'bridge-height'"),
        (row("b001", [lab("2000")]), "variant 2000 outside 2000000..2000000000000"),
        (row("b001", [lab("3000000000000")]), "outside 2000000..2000000000000"),
        (row("b001", [lab("10,000")]), "variant must be a canonical decimal string"),
        (row("b001", [lab("2000000000.0")]), "variant must be a canonical decimal string"),
        (row("b001", [lab("02000000")]), "variant must be a canonical decimal string"),
        (row("b001", [lab(None, "asserts", "community")]), "correction must be set exactly"),
        (row("b001", [lab(None, "corrects", None)]), "correction must be set exactly"),
        (
            row("b001", [lab(None, "corrects", "factcheck")], author_handle="fact_fan"),
            "kind 'factcheck' needs source 'factcheck' or a fact-check publisher's handle",
        ),
        (
            row("b001", [lab(None, "corrects", "authority")], source="news"),
            "kind 'authority' needs an authority account",
        ),
        (
            row("b001", [lab(None, "corrects", "authority")], source="youtube", note="reports"),
            "kind 'authority' needs an authority account",
        ),
        (
            row("b001", [lab(None, "corrects", "community")], author_handle="BridgeCorp"),
            "an authority account's correction is kind 'authority'",
        ),
        (
            row("b001", [lab(None, "corrects", "community")], source="factcheck"),
            "a fact-check publisher's correction is kind 'factcheck'",
        ),
        (row("b001", [lab(None)], lang="it"), "unknown lang 'it'"),
        (row("b001", [lab(None)], source="tiktok"), "unknown source 'tiktok'"),
        (row("bb01", [lab(None)]), "id must match"),
    ],
)
def test_errors_are_reported(tmp_path: Path, bad: dict, message: str) -> None:
    result = run(tmp_path, [*GOOD, bad])
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "(b" in result.stderr  # the line names the row
    assert "1 problem(s)" in result.stderr or "2 problem(s)" in result.stderr


def test_min_rows(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD, "--min-rows", "20")
    assert result.returncode == 1
    assert f"only {len(GOOD)} rows, want at least 20" in result.stderr
    assert run(tmp_path, GOOD, "--min-rows", str(len(GOOD))).returncode == 0


def test_default_config_has_no_variant_for_armed_claim(tmp_path: Path) -> None:
    data = tmp_path / "ice.jsonl"
    armed = {"claim": "ice-armed-operations-canada", "variant": "5", "stance": "asserts"}
    bad = row("z001", [armed | {"correction": None}])
    data.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    cmd = [sys.executable, str(SCRIPT), "--file", str(data)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "has no quantity: variant must be null" in result.stderr


SHIPPED = [
    [],
    ["--file", "tests/eval/holdout.jsonl"],
    ["--file", "tests/eval/blind.jsonl"],
    *(
        ["--config", f"tests/eval/{s}.toml", "--file", f"tests/eval/{s}.jsonl"]
        for s in ("border_personnel", "tmx_cost", "tariff_rate")
    ),
]


@pytest.mark.parametrize("args", SHIPPED, ids=lambda a: a[-1] if a else "claims.jsonl")
def test_shipped_sets_pass(args: list[str]) -> None:
    cmd = [sys.executable, str(SCRIPT), *args]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")
