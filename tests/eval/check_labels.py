"""Check a labelled set: every line parses and every label uses the allowed values.

Run: python tests/eval/check_labels.py            (validate claims.jsonl; exit 1 on any problem)
     python tests/eval/check_labels.py --counts   (validate, then print the counts as Markdown)
     python tests/eval/check_labels.py --file tests/eval/holdout.jsonl   (another set: no seed
                                                   rows, ids of a letter and three digits)
     python tests/eval/check_labels.py --config tests/eval/tmx_cost.toml \
            --file tests/eval/tmx_cost.jsonl      (a set of another story, with its config)

Options: `--config PATH` (default config/claimwatch.toml of the repository), `--file PATH` (default
tests/eval/claims.jsonl), `--min-rows N` (default 170 for claims.jsonl, 0 for any other set),
`--counts`. Standard library only (tomllib), so it runs before the project is installed.

What the config gives (read directly, not through the project's loader):
- the claim ids (`[claims.<id>]`); a claim without a `quantity` table takes no variant;
- each quantity's plausible bounds, as config/claims.py `Quantity.bounds` computes them: `min` and
  `max` where given, else by `kind` (default "count"): a count 1..max(100, 100 * verified)
  (1..1e12 without verified), money verified/1000..verified*1000 (0..1e15 without verified), a
  percentage 0..1000;
- the authorities, as (source, handle lower-cased), and the fact-check publishers of each claim:
  the claim's own `[claims.<id>.corrections]` plus its topic's `[topics.<topic>.corrections]`;
- the languages: `en` and `fr`, plus every two-letter code in a topic's `languages`.

Rules:
- `variant` is null or a canonical decimal string ("5", "10000", "1300000000", "2.5": no sign,
  separator, exponent, leading zero or trailing fractional zero), within the claim's bounds, and
  only for a claim with a quantity.
- `correction` is set exactly when `stance` is "corrects".
- kind "authority": the post is from an authority account of the claim (source and handle, the
  handle compared case-insensitively), or it reports one. Reports are not verified (the text or
  the note names the authority): they are allowed, leniently, when the source is "news", "x",
  "bluesky", "mastodon" or "reddit" and the note is non-empty (it says why).
- kind "factcheck": source "factcheck", or the author handle is one of the claim's fact-check
  publishers, compared ignoring case and spaces (a handle has none: "AFPFactCheck" is the account
  of "AFP Fact Check"; the engine itself compares lower-cased only).
- A correction by a fact-check publisher is kind "factcheck", and a correction by an authority
  account of the claim is kind "authority".
- For claims.jsonl only: ids are `e\\d{3}` or `seed1`..`seed6`, and the seed rows carry the text
  and handle of tests/fixtures/seed_story.jsonl unchanged. Other sets: ids are a letter and three
  digits.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EVAL = HERE / "claims.jsonl"
SEED = HERE.parent / "fixtures" / "seed_story.jsonl"
CONFIG = REPO / "config" / "claimwatch.toml"

# The two claims of the ICE story (config/claimwatch.toml): --counts names them as it always has.
OFFICES = "ice-offices-canada"
ARMED = "ice-armed-operations-canada"
SOURCES = {"x", "bluesky", "mastodon", "reddit", "news", "factcheck", "youtube"}
# Sources whose post may report an authority's correction (kind "authority" without the account).
REPORT_SOURCES = {"news", "x", "bluesky", "mastodon", "reddit"}
LANGS = {"en", "fr"}
STANCES = {"asserts", "questions", "denies", "corrects"}
KINDS = {"authority", "factcheck", "community"}
ROW_KEYS = {"id", "source", "author_handle", "lang", "text", "labels", "note"}
LABEL_KEYS = {"claim", "variant", "stance", "correction"}
VARIANT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
MIN_ROWS = 170  # claims.jsonl only


@dataclass
class ClaimSpec:
    """What the checker needs of one claim of the config."""

    quantity: bool = False
    bounds: tuple[float, float] = (0.0, 0.0)
    verified: str | None = None  # the verified value as a canonical string, for --counts
    authorities: set[tuple[str, str]] = field(default_factory=set)  # (source, handle lower-cased)
    publishers: set[str] = field(default_factory=set)  # see `handle_key`


@dataclass
class Spec:
    claims: dict[str, ClaimSpec]
    langs: set[str]


def plain_number(value: float) -> str:
    """`value` as a canonical variant: 5, 1300000000, 2.5."""
    return str(int(value)) if value == int(value) else repr(value)


def handle_key(name: str) -> str:
    """A publisher name or handle, compared ignoring case and spaces."""
    return re.sub(r"\s+", "", name).lower()


def quantity_bounds(quantity: dict) -> tuple[float, float]:
    """The plausible values of a quantity, as config/claims.py `Quantity.bounds` computes them."""
    kind = quantity.get("kind", "count")
    verified = quantity.get("verified")
    verified = float(verified) if verified is not None else None
    if kind == "percent":
        low, high = 0.0, 1000.0
    elif kind == "money":
        low, high = (verified / 1000, verified * 1000) if verified else (0.0, 1e15)
    else:
        low, high = 1.0, max(100.0, 100.0 * verified) if verified else 1e12
    low = float(quantity["min"]) if quantity.get("min") is not None else low
    return low, float(quantity["max"]) if quantity.get("max") is not None else max(high, low)


def load_config(path: Path) -> Spec:
    """The claims, their bounds, authorities and publishers, and the languages of `path`."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    topics = data.get("topics", {})
    langs = set(LANGS)
    for topic in topics.values():
        if isinstance(topic, dict):
            langs |= {
                lang
                for lang in topic.get("languages", [])
                if isinstance(lang, str) and re.fullmatch(r"[a-z]{2}", lang)
            }
    claims: dict[str, ClaimSpec] = {}
    for cid, claim in data.get("claims", {}).items():
        if not isinstance(claim, dict):
            continue
        spec = ClaimSpec()
        quantity = claim.get("quantity")
        if isinstance(quantity, dict):
            spec.quantity = True
            spec.bounds = quantity_bounds(quantity)
            if quantity.get("verified") is not None:
                spec.verified = plain_number(float(quantity["verified"]))
        topic = topics.get(claim.get("topic"), {})
        for corrections in (claim.get("corrections", {}), topic.get("corrections", {})):
            for auth in corrections.get("authorities", []):
                spec.authorities.add((auth.get("source", ""), str(auth.get("handle", "")).lower()))
            spec.publishers |= {
                handle_key(str(p)) for p in corrections.get("factcheck_publishers", [])
            }
        claims[cid] = spec
    return Spec(claims=claims, langs=langs)


def check_label(lab: object, row: dict, spec: Spec) -> list[str]:
    errs: list[str] = []
    if not isinstance(lab, dict) or set(lab) != LABEL_KEYS:
        return [f"label must have exactly the keys {sorted(LABEL_KEYS)}: {lab!r}"]
    claim, variant, stance, kind = lab["claim"], lab["variant"], lab["stance"], lab["correction"]
    if stance not in STANCES:
        errs.append(f"unknown stance {stance!r}")
    if kind is not None and kind not in KINDS:
        errs.append(f"unknown correction kind {kind!r}")
    if (stance == "corrects") != (kind is not None):
        errs.append("correction must be set exactly when stance is 'corrects'")
    if variant is not None and not (isinstance(variant, str) and VARIANT.fullmatch(variant)):
        errs.append(f"variant must be a canonical decimal string or null: {variant!r}")
        variant = None  # reported; no bounds to check
    cs = spec.claims.get(claim) if isinstance(claim, str) else None
    if cs is None:
        return [f"unknown claim {claim!r}", *errs]
    if variant is not None:
        low, high = cs.bounds
        if not cs.quantity:
            errs.append(f"claim {claim!r} has no quantity: variant must be null")
        elif not low <= float(variant) <= high:
            errs.append(f"variant {variant} outside {plain_number(low)}..{plain_number(high)}")
    source, handle = row["source"], str(row["author_handle"]).lower()
    is_authority = (source, handle) in cs.authorities
    is_publisher = source == "factcheck" or handle_key(handle) in cs.publishers
    reported = source in REPORT_SOURCES and row["note"].strip()
    if kind == "authority" and not is_authority and not reported:
        errs.append(
            "kind 'authority' needs an authority account of the claim, or a report of one "
            f"(source in {sorted(REPORT_SOURCES)} and a note saying why)"
        )
    if kind == "factcheck" and not is_publisher:
        errs.append("kind 'factcheck' needs source 'factcheck' or a fact-check publisher's handle")
    if stance == "corrects" and is_publisher and not is_authority and kind != "factcheck":
        errs.append("a fact-check publisher's correction is kind 'factcheck'")
    if stance == "corrects" and is_authority and kind != "authority":
        errs.append("an authority account's correction is kind 'authority'")
    return errs


def load(
    path: Path = EVAL, spec: Spec | None = None, min_rows: int | None = None
) -> tuple[list[dict], list[str]]:
    spec = spec if spec is not None else load_config(CONFIG)
    main_set = path.resolve() == EVAL
    if min_rows is None:
        min_rows = MIN_ROWS if main_set else 0
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
        if row["lang"] not in spec.langs:
            errs.append(f"{where}: unknown lang {row['lang']!r}")
        for key in ("author_handle", "text"):
            if not isinstance(row[key], str) or not row[key].strip():
                errs.append(f"{where}: {key} must be a non-empty string")
        if not isinstance(row["note"], str):
            errs.append(f"{where}: note must be a string")
            continue
        if not isinstance(row["labels"], list):
            errs.append(f"{where}: labels must be a list")
            continue
        claims = [lab.get("claim") for lab in row["labels"] if isinstance(lab, dict)]
        if len(claims) != len(set(map(str, claims))):
            errs.append(f"{where}: at most one label per claim")
        for lab in row["labels"]:
            errs += [f"{where}: {e}" for e in check_label(lab, row, spec)]
        if not row["labels"] and not row["note"].strip():
            errs.append(f"{where}: a post with no label needs a note saying why")
        rows.append(row)
    if len(rows) < min_rows:
        errs.append(f"only {len(rows)} rows, want at least {min_rows}")
    if not main_set:
        return rows, errs
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


def counts(rows: list[dict], spec: Spec | None = None) -> str:
    """The counts as Markdown. The ICE claims keep their short names ("offices", "armed") and the
    offices claim its "4" / "5" categories; any other claim is named by its id, and its asserted
    values are the verified one, another number or none."""
    spec = spec if spec is not None else load_config(CONFIG)

    def asserted(claim: str, v: str | None) -> str:
        if claim == OFFICES:
            return {"5": '"5"', "4": '"4"', None: "(no value)"}.get(v, "other number")
        verified = spec.claims[claim].verified if claim in spec.claims else None
        if v is None:
            return "(no value)"
        return f'"{v}" (verified)' if v == verified else "other number"

    def name(claim: str) -> str:
        return {OFFICES: "offices", ARMED: "armed"}.get(claim, claim)

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
            claim, v, s = lab["claim"], lab["variant"], lab["stance"]
            quantity = claim == OFFICES or (
                claim != ARMED and claim in spec.claims and (spec.claims[claim].quantity)
            )
            if quantity and s == "asserts":
                out.add(f"{name(claim)} asserts {asserted(claim, v)}")
            else:
                out.add(f"{name(claim)} {s}")
            if not quantity:
                out.add(f"{name(claim)} claim (any stance)")
            if lab["correction"]:
                out.add(f"correction: {lab['correction']}")
        if any(lab["correction"] for lab in row["labels"]):
            out.add("correction (any kind)")
        return out

    cats = Counter(c for r in rows for c in cat(r))
    lines = ["| category (posts; a post can be in several) | posts |", "|---|---:|"]
    lines += [f"| {c} | {n} |" for c, n in sorted(cats.items())]
    lines.append(f"| **all posts** | **{len(rows)}** |")
    quantity_claims = sorted(
        {lab["claim"] for r in rows for lab in r["labels"]}
        & ({OFFICES} | {c for c, s in spec.claims.items() if s.quantity and c != ARMED})
    )
    for claim in quantity_claims:
        other = Counter(
            lab["variant"]
            for r in rows
            for lab in r["labels"]
            if lab["claim"] == claim
            and lab["stance"] == "asserts"
            and asserted(claim, lab["variant"]) == "other number"
        )
        lines.append("")
        label = (
            "Other numbers asserted" if claim == OFFICES else f"Other numbers asserted ({claim})"
        )
        lines.append(label + ": " + ", ".join(f'"{v}" x{n}' for v, n in sorted(other.items())))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="claimwatch TOML config")
    parser.add_argument("--file", type=Path, default=EVAL, help="labelled set (JSON Lines)")
    parser.add_argument(
        "--min-rows", type=int, default=None, help="fewest rows (default: 170 for claims.jsonl, 0)"
    )
    parser.add_argument("--counts", action="store_true", help="print the counts as Markdown")
    args = parser.parse_args(argv)
    path = args.file.resolve()
    try:
        spec = load_config(args.config)
    except (OSError, tomllib.TOMLDecodeError, AttributeError, TypeError, ValueError) as exc:
        print(f"cannot read config {args.config}: {exc}", file=sys.stderr)
        return 1
    try:
        rows, errs = load(path, spec, args.min_rows)
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 1
    for e in errs:
        print(e, file=sys.stderr)
    if errs:
        print(f"{len(errs)} problem(s) in {path}", file=sys.stderr)
        return 1
    print(f"OK: {len(rows)} posts, {sum(len(r['labels']) for r in rows)} labels")
    if args.counts:
        print(counts(rows, spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
