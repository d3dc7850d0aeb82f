"""How well the claim analysis agrees with a labelled set (tests/eval/README.md gives the format).

Measures, over (post, claim) pairs:
- mention precision and recall: a pair the analysis reports is right when the set labels it;
- variant accuracy: among pairs both report, for claims with a quantity, the share with the same
  variant (null counts as a value: a post with no number must get none);
- stance accuracy: among pairs both report, the share with the same stance;
- correction-kind accuracy: among pairs both report that either calls a correction, the share with
  the same kind (a correction called by one side only counts as wrong).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from claims.engine import STANCES, analyze_posts
from config import Config

TARGETS = {
    "mention precision": 0.95,
    "mention recall": 0.95,
    "variant accuracy": 0.95,
    "stance accuracy": 0.85,
}


@dataclass(frozen=True)
class Label:
    variant: str | None
    stance: str
    kind: str | None

    def __str__(self) -> str:
        kind = f" ({self.kind})" if self.kind else ""
        return f"{self.stance} {self.variant or '-'}{kind}"


@dataclass(frozen=True)
class Mistake:
    post_id: str
    claim_id: str
    what: str  # "missed", "spurious", "variant", "stance", "kind"
    expected: str
    found: str
    text: str


@dataclass
class Report:
    posts: int = 0
    labelled: int = 0
    found: int = 0
    both: int = 0
    variant_pairs: int = 0
    variant_right: int = 0
    stance_right: int = 0
    kind_pairs: int = 0
    kind_right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistakes: list[Mistake] = field(default_factory=list)

    def ratio(self, right: int, total: int) -> float:
        return right / total if total else 1.0

    def metrics(self) -> dict[str, float]:
        return {
            "mention precision": self.ratio(self.both, self.found),
            "mention recall": self.ratio(self.both, self.labelled),
            "variant accuracy": self.ratio(self.variant_right, self.variant_pairs),
            "stance accuracy": self.ratio(self.stance_right, self.both),
            "correction kind accuracy": self.ratio(self.kind_right, self.kind_pairs),
        }

    def meets_targets(self) -> bool:
        metrics = self.metrics()
        return all(metrics[name] >= target for name, target in TARGETS.items())


def read_set(paths: Iterable[Path]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    return rows


def evaluate(rows: list[dict[str, object]], config: Config) -> Report:
    """Run the analysis over the labelled `rows` and compare."""
    posts = pl.DataFrame(
        {
            "post_uid": [str(row["id"]) for row in rows],
            "source": [str(row["source"]) for row in rows],
            "author_handle": [str(row["author_handle"]) for row in rows],
            "text": [str(row["text"]) for row in rows],
        }
    )
    analysis = analyze_posts(posts, config)
    kinds = {(r["post_uid"], r["claim_id"]): r["kind"] for r in analysis.corrections.to_dicts()}
    found = {
        (r["post_uid"], r["claim_id"]): Label(
            r["variant"], r["stance"], kinds.get((r["post_uid"], r["claim_id"]))
        )
        for r in analysis.mentions.to_dicts()
    }
    expected = {
        (str(row["id"]), str(label["claim"])): Label(
            label["variant"], label["stance"], label["correction"]
        )
        for row in rows
        for label in row["labels"]  # type: ignore[attr-defined]
    }
    texts = {str(row["id"]): str(row["text"]) for row in rows}
    with_quantity = {cid for cid, claim in config.claims.items() if claim.quantity is not None}
    report = Report(posts=len(rows), labelled=len(expected), found=len(found))
    for key in sorted(expected.keys() | found.keys()):
        _compare(report, key, expected.get(key), found.get(key), texts[key[0]], with_quantity)
    return report


def _compare(
    report: Report,
    key: tuple[str, str],
    want: Label | None,
    got: Label | None,
    text: str,
    with_quantity: set[str],
) -> None:
    post_id, claim_id = key

    def mistake(what: str, expected: object, found: object) -> None:
        report.mistakes.append(Mistake(post_id, claim_id, what, str(expected), str(found), text))

    if want is None or got is None:
        mistake("missed" if got is None else "spurious", want or "-", got or "-")
        return
    report.both += 1
    report.confusion[(want.stance, got.stance)] += 1
    if claim_id in with_quantity:
        report.variant_pairs += 1
        report.variant_right += want.variant == got.variant
        if want.variant != got.variant:
            mistake("variant", want.variant, got.variant)
    report.stance_right += want.stance == got.stance
    if want.stance != got.stance:
        mistake("stance", want.stance, got.stance)
    if want.kind or got.kind:
        report.kind_pairs += 1
        report.kind_right += want.kind == got.kind
        if want.kind != got.kind:
            mistake("kind", want.kind, got.kind)


def stance_matrix(report: Report) -> list[list[str]]:
    """Rows: labelled stance; columns: found stance."""
    return [[want, *(str(report.confusion[(want, got)]) for got in STANCES)] for want in STANCES]


def print_report(console: Console, report: Report, *, show_mistakes: bool) -> None:
    """The figures against their targets, the stance confusion matrix and (optionally) mistakes."""
    figures = Table(title=f"Claim analysis against {report.posts} labelled posts")
    for column in ("measure", "value", "target", ""):
        figures.add_column(column, justify="right" if column in ("value", "target") else "left")
    counts = {
        "mention precision": f"{report.both}/{report.found}",
        "mention recall": f"{report.both}/{report.labelled}",
        "variant accuracy": f"{report.variant_right}/{report.variant_pairs}",
        "stance accuracy": f"{report.stance_right}/{report.both}",
        "correction kind accuracy": f"{report.kind_right}/{report.kind_pairs}",
    }
    for name, value in report.metrics().items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if value >= target else "BELOW TARGET")
        figures.add_row(
            name,
            f"{value:.3f} ({counts[name]})",
            "" if target is None else f"{target:.2f}",
            verdict,
        )
    console.print(figures)
    matrix = Table(title="Stance: labelled (rows) against found (columns)")
    matrix.add_column("labelled")
    for stance in STANCES:
        matrix.add_column(stance, justify="right")
    for row in stance_matrix(report):
        matrix.add_row(*row)
    console.print(matrix)
    if show_mistakes and report.mistakes:
        mistakes = Table(title=f"{len(report.mistakes)} disagreement(s)")
        for column in ("post", "claim", "what", "labelled", "found", "text"):
            mistakes.add_column(column, overflow="fold")
        for m in report.mistakes:
            mistakes.add_row(m.post_id, m.claim_id, m.what, m.expected, m.found, Text(m.text[:160]))
        console.print(mistakes)
