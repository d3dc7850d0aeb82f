"""Topic matching: which posts a topic keeps, and through which terms (collectors/matching.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from collectors.matching import match_topics
from config import Topic, load_config

ROOT = Path(__file__).parent.parent
SEED_STORY = ROOT / "tests" / "fixtures" / "seed_story.jsonl"


@pytest.fixture(scope="module")
def shipped() -> dict[str, Topic]:
    return dict(load_config(ROOT / "config" / "claimwatch.toml").topics)


def topic(language: str = "en", **terms: Any) -> dict[str, Topic]:
    """A one-topic mapping, `t`, with the given terms in one language."""
    spec = {"title": "test", "languages": [language], "terms": {language: terms}}
    return {"t": Topic.model_validate(spec)}


def terms_of(topics: dict[str, Topic], *texts: str | None) -> list[list[str]]:
    posts = pl.DataFrame({"text": list(texts)}, schema={"text": pl.String})
    return match_topics(posts, topics)["matched_terms"].to_list()


def topics_of(topics: dict[str, Topic], *texts: str | None) -> list[list[str]]:
    posts = pl.DataFrame({"text": list(texts)}, schema={"text": pl.String})
    return match_topics(posts, topics)["topics"].to_list()


# --- the shipped config -------------------------------------------------------------------------


def test_every_seed_story_post_matches_ice_canada(shipped: dict[str, Topic]) -> None:
    rows = [json.loads(line) for line in SEED_STORY.read_text().splitlines() if line.strip()]
    assert len(rows) == 6
    assert topics_of(shipped, *(row["text"] for row in rows)) == [["ice-canada"]] * 6


def test_seed_post_lists_exactly_the_terms_it_matches(shipped: dict[str, Topic]) -> None:
    text = (
        "BREAKING: There are 5 #ICE stations Canada!! Whaat? Ottawa, Calgary, Montreal, Vancouver"
        " and Toronto."
    )
    assert terms_of(shipped, text) == [
        [
            "phrase:ICE stations Canada",
            "all_words:ICE+Canada",
            "all_words:ICE+Ottawa",
            "all_words:ICE+Calgary",
            "all_words:ICE+Montreal",
            "all_words:ICE+Toronto",
            "all_words:ICE+Vancouver",
        ]
    ]


def test_french_phrase_matches_a_typographic_apostrophe(shipped: dict[str, Topic]) -> None:
    assert terms_of(shipped, "Les bureaux de l\u2019ICE ferment-ils?") == [
        ["phrase:bureaux de l'ICE"]
    ]


def test_hashtag_ignores_case(shipped: dict[str, Topic]) -> None:
    assert terms_of(shipped, "so true #icecanada") == [["hashtag:ICECanada"]]


def test_hashtag_matches_the_whole_tag_only(shipped: dict[str, Topic]) -> None:
    assert terms_of(shipped, "#ICECanadaFans unite") == [[]]


@pytest.mark.parametrize(
    "text", ["ice cubes in Canada", "Nice Canada day", "hockey on the ice in Toronto"]
)
def test_frozen_water_and_nice_do_not_match(shipped: dict[str, Topic], text: str) -> None:
    assert topics_of(shipped, text) == [[]]


def test_ice_inside_a_url_does_not_match(shipped: dict[str, Topic]) -> None:
    assert topics_of(shipped, "read this https://example.com/ICE/Canada-stations") == [[]]
    assert topics_of(shipped, "see www.example.ca/ICE-in-Canada now") == [[]]


def test_words_around_a_url_still_match(shipped: dict[str, Topic]) -> None:
    assert terms_of(shipped, "ICE https://t.co/K3dsS5YFKp Canada") == [["all_words:ICE+Canada"]]


def test_spellings_folding_to_one_term_are_listed_once(shipped: dict[str, Topic]) -> None:
    # The config lists ["ICE", "Montreal"] and ["ICE", "Montréal"], in English and in French.
    assert terms_of(shipped, "ICE à Montréal") == [["all_words:ICE+Montreal"]]


def test_a_term_matched_twice_is_listed_once(shipped: dict[str, Topic]) -> None:
    assert terms_of(shipped, "#ICECanada #icecanada #IceCanada") == [["hashtag:ICECanada"]]


def test_french_post_labelled_english_still_matches(shipped: dict[str, Topic]) -> None:
    posts = pl.DataFrame({"text": ["Les agents de l'ICE sont là"], "lang": ["en"]})
    out = match_topics(posts, shipped)
    assert out.row(0, named=True) == {
        "text": "Les agents de l'ICE sont là",
        "lang": "en",
        "topics": ["ice-canada"],
        "matched_terms": ["phrase:agents de l'ICE"],
        "matched_languages": ["fr"],
    }


# --- phrases ------------------------------------------------------------------------------------


def test_phrase_needs_word_boundaries() -> None:
    ice_canada = topic(phrases=["ICE Canada"])
    texts = ["NICE Canadas", "NICE Canada", "ICE Canadas", "ICE Canada"]
    assert terms_of(ice_canada, *texts) == [[], [], [], ["phrase:ICE Canada"]]


def test_phrase_acronym_keeps_its_case_other_words_do_not() -> None:
    stations = topic(phrases=["ICE stations in Canada"])
    assert terms_of(stations, "ice stations in canada", "Ice stations in Canada") == [[], []]
    assert terms_of(stations, "ICE STATIONS IN CANADA") == [["phrase:ICE stations in Canada"]]


def test_acronym_inside_a_french_word_keeps_its_case() -> None:
    bureaux = topic("fr", phrases=["bureaux de l'ICE"])
    assert terms_of(bureaux, "BUREAUX DE L'ICE", "bureaux de l'ice") == [
        ["phrase:bureaux de l'ICE"],
        [],
    ]


def test_phrase_words_may_be_split_by_spaces_hyphens_and_quotes() -> None:
    stations = topic(phrases=["ICE stations Canada"])
    texts = [
        "ICE-stations  Canada",
        'the "ICE\u00a0stations" Canada',
        "ICE \u2013 stations\tCanada",
    ]
    assert terms_of(stations, *texts) == [["phrase:ICE stations Canada"]] * 3


def test_phrase_words_may_not_be_split_by_other_punctuation_or_lines() -> None:
    stations = topic(phrases=["ICE stations Canada"])
    texts = ["ICE stations, Canada", "ICE stations. Canada", "ICE stations\nCanada"]
    assert terms_of(stations, *texts) == [[], [], []]


# --- accents ------------------------------------------------------------------------------------


def test_unaccented_term_matches_accented_post() -> None:
    assert terms_of(topic(phrases=["Montreal"]), "à Montréal") == [["phrase:Montreal"]]


def test_accented_term_matches_unaccented_post() -> None:
    assert terms_of(topic(phrases=["Montréal"]), "in Montreal") == [["phrase:Montréal"]]


def test_accent_written_as_a_combining_mark_is_folded() -> None:
    assert terms_of(topic(phrases=["Montréal"]), "Montre\u0301al") == [["phrase:Montréal"]]


# --- all_words ----------------------------------------------------------------------------------


def test_all_words_needs_every_word() -> None:
    ottawa = topic(all_words=[["ICE", "Ottawa"]])
    texts = ["Ottawa has an ICE office", "ICE in Toronto", "Ottawa only", "ice in Ottawa"]
    assert terms_of(ottawa, *texts) == [["all_words:ICE+Ottawa"], [], [], []]


def test_all_words_entry_is_a_whole_word() -> None:
    ottawa = topic(all_words=[["ICE", "Ottawa"]])
    assert terms_of(ottawa, "ICEBERG near Ottawa", "ICE in Ottawans") == [[], []]


# --- title, empty values, output shape ----------------------------------------------------------


def test_title_and_text_match_together() -> None:
    posts = pl.DataFrame({"title": ["ICE abroad", None], "text": ["Canada responds", "ICE Canada"]})
    out = match_topics(posts, topic(all_words=[["ICE", "Canada"]], phrases=["ICE Canada"]))
    assert out["matched_terms"].to_list() == [
        ["all_words:ICE+Canada"],
        ["phrase:ICE Canada", "all_words:ICE+Canada"],
    ]


def test_phrase_does_not_run_from_title_into_text() -> None:
    posts = pl.DataFrame({"title": ["Protests against ICE"], "text": ["Canada says no"]})
    assert match_topics(posts, topic(phrases=["ICE Canada"]))["matched_terms"].to_list() == [[]]


def test_empty_and_null_text_and_title_match_nothing() -> None:
    posts = pl.DataFrame(
        {"title": [None, "", None, "ICE Canada"], "text": [None, "", "ICE Canada", None]},
        schema={"title": pl.String, "text": pl.String},
    )
    out = match_topics(posts, topic(phrases=["ICE Canada"]))
    assert out["topics"].to_list() == [[], [], ["t"], ["t"]]


def test_null_typed_title_column_is_accepted() -> None:
    posts = pl.DataFrame({"text": ["ICE Canada"], "title": [None]})
    assert match_topics(posts, topic(phrases=["ICE Canada"]))["topics"].to_list() == [["t"]]


def test_output_keeps_rows_and_columns_and_adds_string_lists() -> None:
    posts = pl.DataFrame({"post_uid": ["a", "b", "c"], "text": ["x", "#ICECanada", "y"]})
    out = match_topics(posts, topic(hashtags=["ICECanada"]))
    assert out.columns == ["post_uid", "text", "topics", "matched_terms", "matched_languages"]
    assert out["post_uid"].to_list() == ["a", "b", "c"]
    assert out["topics"].to_list() == [[], ["t"], []]
    assert out.schema["topics"] == pl.List(pl.String)
    assert out.schema["matched_terms"] == pl.List(pl.String)


def test_no_posts_and_no_topics() -> None:
    none = pl.DataFrame({"text": []}, schema={"text": pl.String})
    assert match_topics(none, topic(phrases=["ICE"])).height == 0
    out = match_topics(pl.DataFrame({"text": ["ICE Canada"]}), {})
    assert out["topics"].to_list() == [[]]
    assert out.schema["matched_terms"] == pl.List(pl.String)


def test_a_post_lists_every_topic_it_matches() -> None:
    topics = topic(phrases=["ICE Canada"]) | {"u": topic(hashtags=["cdnpoli"])["t"]}
    assert topics_of(topics, "ICE Canada #cdnpoli", "#cdnpoli") == [["t", "u"], ["u"]]
