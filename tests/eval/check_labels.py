"""Check a labelled set: every line parses and every label uses the allowed values.

Run: python tests/eval/check_labels.py            (validate claims.jsonl; exit 1 on any problem)
     python tests/eval/check_labels.py --counts   (validate, then print the counts as Markdown)
     python tests/eval/check_labels.py --file tests/eval/holdout.jsonl   (another set: no seed
                                                   rows, ids of a letter and three digits)
Standard library only, so it runs before the project is installed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL = HERE / "claims.jsonl"
SEED = HERE.parent / "fixtures" / "seed_story.jsonl"

OFFICES = "ice-offices-canada"
ARMED = "ice-armed-operations-canada"
CLAIMS = {OFFICES, ARMED}
SOURCES = {"x", "bluesky", "mastodon", "reddit", "news", "factcheck", "youtube"}
LANGS = {"en", "fr"}
STANCES = {"asserts", "questions", "denies", "corrects"}
KINDS = {"authority", "factcheck", "community"}
# Authorities of both claims in config/claimwatch.toml: exact handle, on X.
AUTHORITIES = {"usembassyottawa", "DHSgov", "ICEgov"}
ROW_KEYS = {"id", "source", "author_handle", "lang", "text", "labels", "note"}
LABEL_KEYS = {"claim", "variant", "stance", "correction"}
VARIANT_MIN, VARIANT_MAX = 1, 100  # [claims.ice-offices-canada.quantity] min/max
MIN_ROWS = 170


def check_label(lab: object, row: dict) -> list[str]:
    errs: list[str] = []
    if not isinstance(lab, dict) or set(lab) != LABEL_KEYS:
        return [f"label must have exactly the keys {sorted(LABEL_KEYS)}: {lab!r}"]
    claim, variant, stance, kind = lab["claim"], lab["variant"], lab["stance"], lab["correction"]
    if claim not in CLAIMS:
        errs.append(f"unknown claim {claim!r}")
    if stance not in STANCES:
        errs.append(f"unknown stance {stance!r}")
    if kind is not None and kind not in KINDS:
        errs.append(f"unknown correction kind {kind!r}")
    if (stance == "corrects") != (kind is not None):
        errs.append("correction must be set exactly when stance is 'corrects'")
    if claim == ARMED and variant is not None:
        errs.append("the armed claim has no quantity: variant must be null")
    if variant is not None:
        if not (isinstance(variant, str) and re.fullmatch(r"[1-9][0-9]*", variant)):
            errs.append(f"variant must be a digit string or null: {variant!r}")
        elif not VARIANT_MIN <= int(variant) <= VARIANT_MAX:
            errs.append(f"variant {variant} outside {VARIANT_MIN}..{VARIANT_MAX}")
    if kind == "authority" and not (row["source"] == "x" and row["author_handle"] in AUTHORITIES):
        errs.append("kind 'authority' needs an authority handle on x")
    if kind == "factcheck" and row["source"] != "factcheck":
        errs.append("kind 'factcheck' needs source 'factcheck'")
    if stance == "corrects" and row["source"] == "factcheck" and kind != "factcheck":
        errs.append("a fact-check publisher's correction is kind 'factcheck'")
    if (
        stance == "corrects"
        and row["source"] == "x"
        and row["author_handle"] in AUTHORITIES
        and kind != "authority"
    ):
        errs.append("an authority account's correction is kind 'authority'")
    return errs


def load(path: Path = EVAL) -> tuple[list[dict], list[str]]:
    main_set = path.resolve() == EVAL
    id_pattern = r"e\d{3}|seed[1-6]" if main_set else r"[a-z]\d{3}"
    rows: list[dict] = []
    errs: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"line {n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errs.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(row, dict) or set(row) != ROW_KEYS:
            errs.append(f"{where}: keys must be exactly {sorted(ROW_KEYS)}")
            continue
        where = f"line {n} ({row['id']})"
        if not re.fullmatch(id_pattern, str(row["id"])):
            errs.append(f"{where}: id must match {id_pattern}")
        if row["id"] in seen:
            errs.append(f"{where}: duplicate id")
        seen.add(row["id"])
        if row["source"] not in SOURCES:
            errs.append(f"{where}: unknown source {row['source']!r}")
        if row["lang"] not in LANGS:
            errs.append(f"{where}: unknown lang {row['lang']!r}")
        for key in ("author_handle", "text"):
            if not isinstance(row[key], str) or not row[key].strip():
                errs.append(f"{where}: {key} must be a non-empty string")
        if not isinstance(row["note"], str):
            errs.append(f"{where}: note must be a string")
        if not isinstance(row["labels"], list):
            errs.append(f"{where}: labels must be a list")
            continue
        claims = [lab.get("claim") for lab in row["labels"] if isinstance(lab, dict)]
        if len(claims) != len(set(claims)):
            errs.append(f"{where}: at most one label per claim")
        for lab in row["labels"]:
            errs += [f"{where}: {e}" for e in check_label(lab, row)]
        if not row["labels"] and not row["note"].strip():
            errs.append(f"{where}: a post with no label needs a note saying why")
        rows.append(row)
    if not main_set:
        return rows, errs
    if len(rows) < MIN_ROWS:
        errs.append(f"only {len(rows)} rows, want at least {MIN_ROWS}")
    # Seed rows carry the real text of tests/fixtures/seed_story.jsonl, unchanged.
    seeds = [json.loads(x) for x in SEED.read_text(encoding="utf-8").splitlines() if x.strip()]
    by_id = {r["id"]: r for r in rows}
    for i, seed in enumerate(seeds, 1):
        row = by_id.get(f"seed{i}")
        if row is None:
            errs.append(f"seed{i} missing")
        elif row["text"] != seed["text"] or row["author_handle"] != seed["author_handle"]:
            errs.append(f"seed{i}: text or handle differs from {SEED.name}")
    return rows, errs


def counts(rows: list[dict]) -> str:
    def cat(row: dict) -> set[str]:
        out: set[str] = set()
        note = row["note"]
        if "TRAP" in note:
            out.add("trap (note marks TRAP)")
        if "HARD" in note:
            out.add("hard case (note marks HARD)")
        if row["id"].startswith("seed"):
            out.add("seed row (real)")
        if not row["labels"]:
            out.add("no label (mentions no claim)")
        for lab in row["labels"]:
            if lab["claim"] == OFFICES:
                v, s = lab["variant"], lab["stance"]
                if s == "asserts":
                    out.add(
                        "offices asserts "
                        + {"5": '"5"', "4": '"4"', None: "(no value)"}.get(v, "other number")
                    )
                else:
                    out.add(f"offices {s}")
            else:
                out.add(f"armed {lab['stance']}")
                out.add("armed claim (any stance)")
            if lab["correction"]:
                out.add(f"correction: {lab['correction']}")
        if any(lab["correction"] for lab in row["labels"]):
            out.add("correction (any kind)")
        return out

    cats = Counter(c for r in rows for c in cat(r))
    lines = ["| category (posts; a post can be in several) | posts |", "|---|---:|"]
    lines += [f"| {c} | {n} |" for c, n in sorted(cats.items())]
    lines.append(f"| **all posts** | **{len(rows)}** |")
    other = Counter(
        lab["variant"]
        for r in rows
        for lab in r["labels"]
        if lab["claim"] == OFFICES
        and lab["stance"] == "asserts"
        and lab["variant"] not in (None, "4", "5")
    )
    lines.append("")
    lines.append(
        "Other numbers asserted: " + ", ".join(f'"{v}" x{n}' for v, n in sorted(other.items()))
    )
    triples = Counter(
        (lab["claim"], lab["stance"], lab["variant"] or "null", lab["correction"] or "-")
        for r in rows
        for lab in r["labels"]
    )
    lines += ["", "| claim | stance | variant | correction | labels |", "|---|---|---|---|---:|"]
    lines += [f"| {c} | {s} | {v} | {k} | {n} |" for (c, s, v, k), n in sorted(triples.items())]
    lines += ["", "| source | posts |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(Counter(r["source"] for r in rows).items())]
    lines += ["", "| lang | posts |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(Counter(r["lang"] for r in rows).items())]
    return "\n".join(lines)


def main() -> int:
    args = sys.argv[1:]
    path = Path(args[args.index("--file") + 1]).resolve() if "--file" in args else EVAL
    rows, errs = load(path)
    for e in errs:
        print(e, file=sys.stderr)
    if errs:
        print(f"{len(errs)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"OK: {len(rows)} posts, {sum(len(r['labels']) for r in rows)} labels")
    if "--counts" in args:
        print(counts(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
