"""The claim analysis on posts in memory: the real story, the labelled set, traps, new claims."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from conftest import CliResult

from claims.engine import analyze_posts, claim_versions
from claims.evaluate import TARGETS, evaluate, read_set
from config import Config, load_config

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "config" / "claimwatch.toml"
FIXTURES = Path(__file__).parent / "fixtures"
EVAL = Path(__file__).parent / "eval"
OFFICES, ARMED = "ice-offices-canada", "ice-armed-operations-canada"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED, env={})


def posts(*texts: str, source: str = "x", handle: str = "someone") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "post_uid": [f"p{i}" for i in range(len(texts))],
            "source": [source] * len(texts),
            "author_handle": [handle] * len(texts),
            "text": list(texts),
        }
    )


def mentions_of(
    config: Config, *texts: str, **who: str
) -> dict[tuple[str, str], dict[str, object]]:
    found = analyze_posts(posts(*texts, **who), config).mentions
    return {(row["post_uid"], row["claim_id"]): row for row in found.to_dicts()}


def one(config: Config, text: str, claim: str = OFFICES, **who: str) -> dict[str, object] | None:
    return mentions_of(config, text, **who).get(("p0", claim))


# --- the real story -------------------------------------------------------------------------------


def seed_rows() -> list[dict[str, object]]:
    lines = (FIXTURES / "seed_story.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_real_post_of_the_story_comes_out_as_its_expect_field_says(config: Config) -> None:
    rows = seed_rows()
    frame = pl.DataFrame(
        {
            "post_uid": [f"seed{i}" for i in range(len(rows))],
            "source": [str(row.get("platform") or "x") for row in rows],
            "author_handle": [str(row["author_handle"]) for row in rows],
            "text": [str(row["text"]) for row in rows],
        }
    )
    analysis = analyze_posts(frame, config)
    found = {(r["post_uid"], r["claim_id"]): r for r in analysis.mentions.to_dicts()}
    kinds = {(r["post_uid"], r["claim_id"]): r["kind"] for r in analysis.corrections.to_dicts()}
    for i, row in enumerate(rows):
        expect: dict[str, object] = row["expect"]  # type: ignore[assignment]
        uid = f"seed{i}"
        claims_found = {claim for (post, claim) in found if post == uid}
        if expect.get("claim") is None:
            assert claims_found == set(), row["text"]
            continue
        mention = found[(uid, str(expect["claim"]))]
        if "variant" in expect:
            assert mention["variant"] == expect["variant"], row["text"]
        if "stance" in expect:
            assert mention["stance"] == expect["stance"], row["text"]
        if expect.get("authority"):
            assert kinds[(uid, str(expect["claim"]))] == "authority"
        if "also" in expect:  # "ice-armed-operations-canada corrected"
            other, _, stance = str(expect["also"]).partition(" ")
            assert found[(uid, other)]["stance"] == "corrects" and stance == "corrected"


# --- the labelled set -----------------------------------------------------------------------------


def test_the_labelled_set_meets_every_target(config: Config) -> None:
    report = evaluate(read_set([EVAL / "claims.jsonl"]), config)
    metrics = report.metrics()
    for name, target in TARGETS.items():
        assert metrics[name] >= target, (name, metrics[name], report.mistakes)


# Written blind to the rules, then used once to generalise them (tests/eval/README.md): a floor
# against regressions at the level reached, not the targets (recall and variant are below).
HOLDOUT_FLOOR = {
    "mention precision": 0.95,
    "mention recall": 0.90,
    "variant accuracy": 0.92,
    "stance accuracy": 0.89,
}


@pytest.mark.parametrize("name", ["holdout.jsonl", "blind.jsonl"])
def test_the_sets_written_blind_stay_at_the_level_reached(config: Config, name: str) -> None:
    metrics = evaluate(read_set([EVAL / name]), config).metrics()
    for name, floor in HOLDOUT_FLOOR.items():
        assert metrics[name] >= floor, (name, metrics[name])


# The stories of other quantities (tests/eval/README.md), each with its own config: a floor at the
# level reached, below the targets where the README says why.
_METRICS = ("mention precision", "mention recall", "variant accuracy", "stance accuracy")
# floors per set: mention precision, recall, variant and stance accuracy
FLOORS = {
    "border_personnel": (0.94, 0.89, 0.94, 0.87),
    "tmx_cost": (0.95, 0.96, 0.91, 0.87),
    "tariff_rate": (0.88, 0.97, 0.95, 0.87),
    "immigration_target": (0.95, 0.94, 0.96, 0.95),
    "arrivecan_cost": (0.96, 0.98, 0.94, 0.94),
    "inflation_peak": (0.91, 0.97, 0.91, 0.94),
    "quebec_fires": (0.97, 0.88, 0.93, 0.89),
    "federal_deficit": (0.95, 0.96, 0.92, 0.9),
    "policy_rate": (0.92, 0.89, 0.95, 0.93),
    "population": (0.88, 0.86, 0.91, 0.92),
    "defence_spending": (0.95, 0.98, 0.93, 0.94),
    "fighter_jets": (0.88, 0.85, 0.79, 0.88),
    "rebate_cheque": (0.93, 0.9, 0.9, 0.84),
}
OTHER_STORIES = {
    story: dict(zip(_METRICS, floors, strict=True)) for story, floors in FLOORS.items()
}


@pytest.mark.parametrize("story", sorted(OTHER_STORIES))
def test_the_stories_of_other_quantities_stay_at_the_level_reached(story: str) -> None:
    config = load_config(EVAL / f"{story}.toml", env={})
    metrics = evaluate(read_set([EVAL / f"{story}.jsonl"]), config).metrics()
    for name, floor in OTHER_STORIES[story].items():
        assert metrics[name] >= floor, (story, name, metrics[name])


# --- mentions: traps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Skating on the ice at the 5 best stations of the Rideau in Ottawa",
        "NICE offices in Toronto, 5 of them",
        "ICE (Intercontinental Exchange) runs 3 offices in Canada for its futures desks",
        "Internal combustion engines (ICE) still fill 4 of 5 parking stations in Calgary",
        "The ICE field office in Detroit covers 4 states; Canadians at the Windsor crossing beware",
        "ICE opened 5 new offices in Arizona this year, Canadian media report",
        "hsi grading done, 5 offices of colour work in Toronto",
        "ICE: Canada has 3 times more hockey arenas than ski stations",
        "Ice Station Zebra: 4 screenings in Montreal this week",
    ],
)
def test_posts_that_only_look_like_the_offices_claim_are_not_mentions(
    config: Config, text: str
) -> None:
    assert one(config, text) is None


def test_an_acronym_spelled_out_as_the_subject_still_counts(config: Config) -> None:
    mention = one(config, "U.S. Immigration and Customs Enforcement (ICE) has 5 offices in Canada")
    assert mention is not None and mention["variant"] == "5"


def test_a_mention_bound_to_a_place_elsewhere_does_not_count_but_canada_does(
    config: Config,
) -> None:
    assert one(config, "Canadians, note: ICE arrested a man in Ohio yesterday", ARMED) is None
    mention = one(config, "ICE arrested a man in Toronto yesterday", ARMED)
    assert mention is not None and mention["stance"] == "asserts"


# --- variants -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "variant"),
    [
        ("ICE operates SEVEN offices across Canada now", "7"),
        ("Canada is home to 3 ICE field offices apparently", "3"),
        ("ICE stations in Canada: five. Not four. FIVE.", "5"),
        ("Il y a maintenant trois bureaux de l'ICE au Canada", "3"),
        ("ICE has offices in Ottawa; Toronto; Montréal. That's it, three.", "3"),
        ("ICE is in Vancouver + Toronto + Calgary + the capital", "4"),
        ("ICE in Canada = the embassy and 4 consulates", "5"),
        ("Jan 29, 2026: 5 ICE stations in Canada confirmed 12 hours ago", "5"),
        ("Canada 3, Sweden 2. Also: 4 ICE stations in Canada?!", "4"),
        ("ICE stations in Canada, 4 or 5 depending who you ask", None),
        ("ICE has 2 or 3 offices in Canada, nobody knows", None),
        ("There are dozens of ICE offices in Canada", None),
        ("Close the ICE offices in Canada now", None),
    ],
)
def test_the_variant_is_the_number_the_post_gives(
    config: Config, text: str, variant: str | None
) -> None:
    mention = one(config, text)
    assert mention is not None, text
    assert mention["variant"] == variant, (text, mention)


def test_the_matched_text_and_its_span_point_into_the_post(config: Config) -> None:
    text = "Breaking 🚨 il y a CINQ bureaux de l\u2019ICE à Montréal et ailleurs au Canada https://x.co/a5"
    mention = one(config, text)
    assert mention is not None and mention["variant"] == "5"
    start, end = mention["span_start"], mention["span_end"]
    assert isinstance(start, int) and isinstance(end, int)
    assert text[start:end] == mention["matched_text"] == "CINQ bureaux"


def test_a_place_list_keeps_its_original_spelling(config: Config) -> None:
    text = "ICE has offices in Ottawa, Calgary, Montréal, Toronto — that's the list"
    mention = one(config, text)
    assert mention is not None and mention["variant"] == "4"
    assert mention["matched_text"] == "Ottawa, Calgary, Montréal, Toronto"


def test_a_mention_in_the_title_has_no_span_in_the_text(config: Config) -> None:
    frame = posts("Our reporters looked into it.").with_columns(
        pl.lit("Are there really 5 ICE stations in Canada?").alias("title")
    )
    mention = analyze_posts(frame, config).mentions.row(0, named=True)
    assert (mention["variant"], mention["stance"]) == ("5", "questions")
    assert mention["span_start"] is None and mention["matched_text"] == "5 ICE stations"


# --- stance and corrections -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("Is it actually true that ICE runs 5 stations in Canada?", "questions"),
        ("5 ICE stations in Canada?? This country is cooked", "asserts"),
        ("Zero ICE offices in Canada. The '5 stations' thing is a hoax.", "denies"),
        ("lol no, ICE doesn't have stations in Canada", "denies"),
        ("Not 4 ICE stations: HSI liaison officers at 5 diplomatic posts in Canada.", "corrects"),
        ("Il n'y a aucun bureau de l'ICE au Canada, arrêtez.", "denies"),
    ],
)
def test_the_stance_is_the_authors_speech_act(config: Config, text: str, stance: str) -> None:
    mention = one(config, text)
    assert mention is not None and mention["stance"] == stance, (text, mention)


def test_corrections_are_kinded_by_who_made_them(config: Config) -> None:
    text = "HSI agents in Canada are unarmed and do not make arrests."
    by = {
        "authority": ("x", "ICEgov"),
        "factcheck": ("factcheck", "Snopes"),
        "community": ("reddit", "u/someone"),
    }
    for kind, (source, handle) in by.items():
        analysis = analyze_posts(posts(text, source=source, handle=handle), config)
        assert analysis.corrections.to_dicts() == [
            {"post_uid": "p0", "claim_id": ARMED, "variant": None, "kind": kind}
        ]
    lookalike = analyze_posts(posts(text, source="x", handle="ICEgov_fan"), config)
    assert lookalike.corrections["kind"].to_list() == ["community"]


# --- odd input ------------------------------------------------------------------------------------


def test_html_markup_and_odd_unicode_neither_crash_nor_confuse(config: Config) -> None:
    texts = (
        "<p>There are <b>5</b> ICE stations in Canada</p><script>alert(1)</script>",
        "\u202e5 ICE stations in Canada\u202c \u200b\u200d",
        "5\ufe0f\u20e3 #ICE stations in 🇨🇦",
        "",
        "ICE" * 10_000,
        "\x00 ICE \ud7ff stations \x07 Canada 4",
    )
    found = mentions_of(config, *texts)
    assert found[("p1", OFFICES)]["variant"] == "5"
    assert found[("p2", OFFICES)]["variant"] == "5"
    assert ("p3", OFFICES) not in found and ("p4", OFFICES) not in found


def test_no_posts_no_claims_and_null_text_give_empty_results(config: Config) -> None:
    assert analyze_posts(posts(), config).mentions.is_empty()
    nulls = pl.DataFrame(
        {"post_uid": ["a"], "source": [None], "author_handle": [None], "text": [None]},
        schema={n: pl.String for n in ("post_uid", "source", "author_handle", "text")},
    )
    assert analyze_posts(nulls, config).mentions.is_empty()
    assert analyze_posts(posts("5 ICE stations in Canada"), config, []).mentions.is_empty()


# --- a new claim through config alone -------------------------------------------------------------

RCMP = """
[topics.rcmp]
title = "RCMP arrests"
languages = ["en", "fr"]
terms.en.phrases = ["RCMP"]
terms.fr.phrases = ["GRC"]

[claims.rcmp-arrests]
topic = "rcmp"
title = "How many people the RCMP arrested at the protest"
window = 3
subject.en = ["RCMP", "Mounties"]
subject.fr = ["GRC"]
object.en = ["arrested", "arrests", "detained"]
object.fr = ["arrêté", "arrêtées", "arrestations"]
context.en = ["protest", "Ottawa"]
context.fr = ["manifestation", "Ottawa"]
quantity.units.en = ["people", "protesters"]
quantity.units.fr = ["personnes", "manifestants"]
quantity.verified = 3
quantity.max = 500
corrections.phrases.en = ["were released without charge"]
"""


def test_a_claim_added_in_config_works_with_its_own_words_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "rcmp.toml"
    path.write_text(RCMP, encoding="utf-8")
    config = load_config(path, env={})
    found = mentions_of(
        config,
        "The RCMP arrested 3 people at the Ottawa protest",
        "La GRC a arrêté douze manifestants à Ottawa",
        "Mounties made 150 arrests at the protest? Source?",
        "The RCMP arrested nobody, the 3 people were released without charge after the protest",
        "ICE arrested 5 people at the protest",
    )
    claim = "rcmp-arrests"
    assert (found[("p0", claim)]["variant"], found[("p0", claim)]["stance"]) == ("3", "asserts")
    assert found[("p1", claim)]["variant"] == "12"
    assert (found[("p2", claim)]["variant"], found[("p2", claim)]["stance"]) == ("150", "questions")
    assert found[("p3", claim)]["stance"] == "corrects"
    assert ("p4", claim) not in found


def test_a_claims_version_changes_with_its_definition_only(tmp_path: Path) -> None:
    before = claim_versions(load_config(SHIPPED, env={}))
    changed = SHIPPED.read_text(encoding="utf-8").replace("window = 8", "window = 9")
    path = tmp_path / "changed.toml"
    path.write_text(changed, encoding="utf-8")
    after = claim_versions(load_config(path, env={}))
    assert after[OFFICES] == before[OFFICES]
    assert after[ARMED] != before[ARMED]


def test_the_evaluate_command_prints_the_figures_and_fails_below_target(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = cli("evaluate", str(EVAL / "claims.jsonl"), "--mistakes")
    assert result.code == 0, result.err
    assert "mention precision" in result.out and "stance accuracy" in result.out
    wrong = tmp_path / "wrong.jsonl"
    row = {
        "id": "w001",
        "source": "x",
        "author_handle": "someone",
        "lang": "en",
        "text": "There are 5 ICE stations in Canada",
        "labels": [{"claim": OFFICES, "variant": "4", "stance": "denies", "correction": None}],
        "note": "",
    }
    wrong.write_text(json.dumps(row) + "\n", encoding="utf-8")
    failed = cli("evaluate", str(wrong), "--mistakes")
    assert failed.code == 1
    assert "BELOW TARGET" in failed.out and "w001" in failed.out
