"""Quantities of every shape (issue 13): counts, money and percentages, in English and French, read
by a story configured through TOML alone; then the same story end to end from `claimwatch import`
to `variant_spread`.

The config below is what an analyst writes from docs/config.md: one topic whose context, places
elsewhere and authorities are said once, and three claims of about ten lines each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from conftest import CliResult

from claims.engine import analyze_posts
from claims.quantities import digitise
from config import Config, ConfigError, load_config

STORY = """
[topics.border]
title = "Canada's border plan"
languages = ["en", "fr"]
terms.en = { phrases = ["border"] }
terms.fr = { phrases = ["frontière"] }

[topics.border.context]
en = ["Canada", "Canadian", "Ottawa", "RCMP"]
fr = ["Canada", "canadien", "Ottawa", "GRC"]

[topics.border.elsewhere]
en = ["Mexico"]
fr = ["Mexique"]

[topics.border.corrections]
authorities = [{ source = "x", handle = "Safety_Canada", name = "Public Safety Canada" }]

[claims.personnel]
topic = "border"
title = "Personnel at the border"
subject = { en = ["border"], fr = ["frontière"] }
object = { en = ["officers", "personnel", "agents"], fr = ["agents", "policiers"] }
window = 8
quantity = { kind = "count", verified = 10000, max = 1000000 }
corrections = { phrases = { en = ["not troops"], fr = ["pas des soldats"] } }

[claims.plan-cost]
topic = "border"
title = "What the border plan costs"
subject = { en = ["border plan"], fr = ["plan frontalier"] }
object = { en = ["plan", "cost", "worth"], fr = ["plan", "coût"] }
quantity = { kind = "money", currency = "CAD", verified = 1300000000 }

[claims.tariff]
topic = "border"
title = "The tariff on Canadian goods"
subject = { en = ["tariff", "tariffs"], fr = ["tarif", "tarifs", "droits de douane"] }
object = { en = ["Canadian goods", "on Canada"], fr = ["produits canadiens"] }
quantity = { kind = "percent", verified = 25 }
"""


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("story") / "claimwatch.toml"
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def config(story: Path) -> Config:
    return load_config(story, env={})


def variant(config: Config, claim: str, text: str, handle: str = "someone") -> str | None:
    posts = pl.DataFrame(
        {"post_uid": ["p"], "source": ["x"], "author_handle": [handle], "text": [text]}
    )
    found = analyze_posts(posts, config, [claim]).mentions
    assert found.height == 1, f"no mention of {claim} in {text!r}"
    return found["variant"][0]


COUNTS = [
    ("10000 officers at the border in Canada", "10000"),
    ("10,000 officers at the border in Canada", "10000"),
    ("10 000 agents à la frontière du Canada", "10000"),
    ("10\u00a0000 agents à la frontière du Canada", "10000"),  # no-break space
    ("10\u202f000 agents à la frontière du Canada", "10000"),  # narrow no-break space
    ("10.000 agents à la frontière du Canada", "10000"),  # the dot where that is the convention
    ("10k personnel on the border, Ottawa says", "10000"),
    ("ten thousand officers at the border in Canada", "10000"),
    ("dix mille agents à la frontière du Canada", "10000"),
    ("nearly 10,000 officers at the Canadian border, RCMP", "10000"),
    ("près de 10 000 policiers à la frontière, GRC", "10000"),
    ("deux mille agents à la frontière du Canada", "2000"),
    ("mille policiers à la frontière, GRC", "1000"),
    ("2.5k officers at the border lol, Canada", "2500"),
    ("half a million officers at the border, Canada", "500000"),  # a fraction of a scale
    ("un demi-million d'agents à la frontière du Canada", "500000"),
    ("deux mille et demi agents à la frontière du Canada", "2500"),  # and a half
    ("two and a half thousand officers at the border in Canada", "2500"),
]


@pytest.mark.parametrize(("text", "expected"), COUNTS)
def test_a_count_is_read_in_every_shape(config: Config, text: str, expected: str) -> None:
    assert variant(config, "personnel", text) == expected


MONEY = [
    ("Ottawa's border plan: $1.3 billion", "1300000000"),
    ("a $1.3 billion border plan for Canada", "1300000000"),
    ("the border plan is worth 1.3B, Ottawa says", "1300000000"),
    ("Canada's border plan costs $1.3bn", "1300000000"),
    ("le plan frontalier de 1,3 milliard $ d'Ottawa", "1300000000"),
    ("le plan frontalier de 1,3 G$ d'Ottawa", "1300000000"),
    ("Ottawa's border plan costs $1,300,000,000", "1300000000"),
    ("Canada's C$1.3-billion border plan", "1300000000"),
    ("le plan frontalier du Canada coûte deux milliards de dollars", "2000000000"),
    ("Ottawa's border plan: CAD 900M", "900000000"),
    ("le plan frontalier d'Ottawa : 500 M$", "500000000"),
    ("Ottawa's border plan costs like 100 mil lol", "100000000"),  # informal scales
    ("Ottawa's border plan: 1.3 bil", "1300000000"),
    ("Ottawa's border plan: $1½ billion", "1500000000"),  # a vulgar fraction
    ("#borderplan du Canada: 1½ milliard $", "1500000000"),  # the subject as a hashtag
    ("le plan frontalier coûtera quatre milliards et demi", "4500000000"),
    ("a million and a half dollars for Canada's border plan", "1500000"),
    ("le plan frontalier coûte cinquante-neuf millions et demi", "59500000"),  # a compound
    ("le plan frontalier d'Ottawa coûte 2 000 000 piasses", "2000000"),  # Québec's dollar
]


@pytest.mark.parametrize(("text", "expected"), MONEY)
def test_money_is_read_in_every_shape(config: Config, text: str, expected: str) -> None:
    assert variant(config, "plan-cost", text) == expected


PERCENTS = [
    ("Trump's 25% tariff on Canadian goods", "25"),
    ("a 25 per cent tariff on Canadian goods", "25"),
    ("tariffs of 25 percent on Canadian goods", "25"),
    ("des tarifs de 25 % sur les produits canadiens", "25"),
    ("des tarifs de 25\u00a0% sur les produits canadiens", "25"),
    ("des droits de douane de vingt-cinq pour cent sur les produits canadiens", "25"),
    ("a 2.5% tariff on Canadian goods", "2.5"),
    ("un tarif de 2,5 % sur les produits canadiens", "2.5"),
    ("a tariff of twenty-five point five per cent on Canadian goods", "25.5"),  # decimals in words
    ("des tarifs de vingt-cinq virgule cinq pour cent sur les produits canadiens", "25.5"),
    ("a 2¾% tariff on Canadian goods", "2.75"),  # vulgar fractions, as central banks write
    ("un tarif de 2 ¾ % sur les produits canadiens", "2.75"),
    ("a tariff of two and a half percent on Canadian goods", "2.5"),
    ("des tarifs de deux et demi pour cent sur les produits canadiens", "2.5"),
    ("a tariff of two and three-quarters per cent on Canadian goods", "2.75"),
    ("a 2 3/4 per cent tariff on Canadian goods", "2.75"),  # a mixed number
    ("des tarifs de deux virgule soixante-quinze pour cent sur les produits canadiens", "2.75"),
    ("the tariff on Canadian goods went to 2.75, not 3", "2.75"),  # a decimal said of it
    ("a one percent tariff on Canadian goods", "1"),  # "one" is a number before a percent
    ("un tarif d'un pour cent sur les produits canadiens", "1"),
]


@pytest.mark.parametrize(("text", "expected"), PERCENTS)
def test_a_percentage_is_read_in_every_shape(config: Config, text: str, expected: str) -> None:
    assert variant(config, "tariff", text) == expected


NO_VALUE = [
    ("personnel", "4,000-5,000 officers at the border in Canada"),  # a range
    ("personnel", "8000 or 10,000 officers at the border in Canada? nobody knows"),
    ("plan-cost", "Ottawa's border plan: $1 billion or $2 billion, depending who you ask"),
    ("tariff", "tariffs between 10 and 25% on Canadian goods"),
    ("tariff", "is the tariff on Canadian goods 2.5% or 3 now?"),  # the second without its sign
]


@pytest.mark.parametrize(("claim", "text"), NO_VALUE)
def test_ranges_and_alternatives_give_no_value(config: Config, claim: str, text: str) -> None:
    assert variant(config, claim, text) is None


def test_each_kind_masks_the_others_around_its_value(config: Config) -> None:
    both = "Canada's $1.3 billion border plan puts 10,000 officers at the border, 25% more"
    assert variant(config, "personnel", both) == "10000"
    assert variant(config, "plan-cost", both) == "1300000000"
    # a count ignores an unrelated price, a percentage, a year and a distance
    noisy = "In 2025, for $50 a day, 25% of 8,891 km: 10,000 officers at the border of Canada"
    assert variant(config, "personnel", noisy) == "10000"


def test_labels_and_units_read_as_people_write_them(config: Config) -> None:
    posts = pl.DataFrame(
        {
            "post_uid": ["a", "b", "c"],
            "source": ["x"] * 3,
            "author_handle": ["someone"] * 3,
            "text": [
                "10,000 officers at the border in Canada",
                "Ottawa's border plan: $1.3 billion",
                "Trump's 25% tariff on Canadian goods",
            ],
        }
    )
    found = analyze_posts(posts, config).mentions.sort("post_uid")
    assert found.select("variant", "variant_label", "unit").rows() == [
        ("10000", "10,000", "count"),
        ("1300000000", "$1.3 billion", "CAD"),
        ("25", "25%", "percent"),
    ]


def test_an_authority_announcing_the_value_asserts_and_answering_a_variant_corrects(
    config: Config,
) -> None:
    announce = "Nearly 10,000 frontline officers are protecting the Canada border."
    answer = "False: Canada is not sending 100,000 troops. 10,000 officers are at the border."
    posts = pl.DataFrame(
        {
            "post_uid": ["a", "b"],
            "source": ["x", "x"],
            "author_handle": ["Safety_Canada"] * 2,
            "text": [announce, answer],
        }
    )
    found = analyze_posts(posts, config, ["personnel"])
    stances = dict(found.mentions.select("post_uid", "stance").rows())
    assert stances == {"a": "asserts", "b": "corrects"}
    assert found.corrections.select("post_uid", "kind", "variant").rows() == [
        ("b", "authority", "10000")
    ]


def test_a_report_of_an_authoritys_correction_is_kind_authority(config: Config) -> None:
    report = (
        "A spokesperson for Public Safety Canada said posts claiming 100,000 troops at the "
        "border are false: about 10,000 officers are deployed, not troops."
    )
    reported = "Selon le gouvernement, 10 000 agents sont à la frontière du Canada."
    posts = pl.DataFrame(
        {
            "post_uid": ["a", "b"],
            "source": ["news", "news"],
            "author_handle": ["CTV News", "La Presse"],
            "text": [report, reported],
        }
    )
    found = analyze_posts(posts, config, ["personnel"])
    assert found.corrections.select("post_uid", "kind").rows() == [("a", "authority")]
    stances = dict(found.mentions.select("post_uid", "stance").rows())
    assert stances["b"] == "asserts"


# The same story with the topic's terms reaching beyond the subject, and the claim's facts: the
# verified number in the announcement's words, and a fact in other words than the claim's.
RELAYED = STORY.replace(
    'terms.en = { phrases = ["border"] }', 'terms.en = { phrases = ["border", "frontline"] }'
).replace(
    'corrections = { phrases = { en = ["not troops"], fr = ["pas des soldats"] } }',
    'corrections = { phrases = { en = ["not troops"] }, facts = { en = '
    '["nearly 10,000 frontline officers", ["RCMP", "CBSA", "civilian"]] } }',
)


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> Config:
    path = tmp_path_factory.mktemp("relayed") / "claimwatch.toml"
    path.write_text(RELAYED, encoding="utf-8")
    return load_config(path, env={})


def readings(config: Config, claim: str, texts: list[str]) -> list[tuple[str, str | None]]:
    """(stance, variant) of each text, in order; ("-", None) when it is no mention."""
    posts = pl.DataFrame(
        {
            "post_uid": [str(i) for i in range(len(texts))],
            "source": ["x"] * len(texts),
            "author_handle": ["someone"] * len(texts),
            "text": texts,
        }
    )
    found = analyze_posts(posts, config, [claim]).mentions
    by_post = {r["post_uid"]: (r["stance"], r["variant"]) for r in found.iter_rows(named=True)}
    return [by_post.get(str(i), ("-", None)) for i in range(len(texts))]


def test_a_post_of_the_topic_implies_the_subject_it_never_says(relayed: Config) -> None:
    texts = [
        "Correct figure: nearly 10,000 frontline officers. Please stop saying 100,000.",
        "3,000 frontline officers, the union says",  # the topic, and a value no other post gives
        "3,000 officers, says my cousin at the RCMP",  # no topic term: not collected for it
    ]
    assert readings(relayed, "personnel", texts) == [
        ("corrects", "10000"),
        ("asserts", "3000"),
        ("-", None),
    ]


def test_relaying_the_verified_number_asserts_and_relaying_other_facts_corrects(
    relayed: Config,
) -> None:
    texts = [
        "The Prime Minister said Monday that nearly 10,000 frontline officers are working at "
        "the Canada border.",
        "Officials said the agents at the Canada border are RCMP and CBSA civilian staff.",
        "The media says 10,000 officers are at the Canada border. Fake number.",
    ]
    assert readings(relayed, "personnel", texts) == [
        ("asserts", "10000"),
        ("corrects", None),
        ("denies", "10000"),
    ]


def test_the_verified_value_said_against_another_corrects(config: Config) -> None:
    texts = [
        "Les tarifs sur les produits canadiens : c'est 25 %, pas 10 %.",
        "The tariff on Canadian goods is 10%, not 25%.",  # a wrong value against the right one
    ]
    assert readings(config, "tariff", texts) == [("corrects", "25"), ("asserts", "10")]
    rather = [  # "et non", "rather than": the value after it is the one set aside
        "Le tarif sur les produits canadiens, c'était 25 % et non 10 %.",
        "The tariff on Canadian goods is 25% rather than 10%.",
    ]
    assert readings(config, "tariff", rather) == [("corrects", "25"), ("corrects", "25")]


def test_a_correction_that_names_the_wrong_value_and_the_right_one_corrects(
    config: Config,
) -> None:
    texts = [
        # a reported figure's clause ends where the author's own begins ("et que", "but")
        "Le chiffre de 100 000 agents qui circule est faux et que la frontière du Canada compte "
        "10 000 agents, GRC.",
        # a cue that says it corrects, with the verified value and another
        "Arrêtez de partager le 10 %. Les tarifs sur les produits canadiens sont de 25 %.",
        "For anyone confused: the tariff on Canadian goods is 25%; 10% is something else.",
    ]
    assert readings(config, "personnel", texts[:1]) == [("corrects", "10000")]
    assert readings(config, "tariff", texts[1:]) == [("corrects", "25"), ("corrects", "25")]


NAMED = STORY.replace(
    'subject = { en = ["border"], fr = ["frontière"] }',
    'subject = { en = ["border", "CF-18"], fr = ["frontière", "CF-18"] }',
)


def test_the_digits_of_a_name_are_no_value_and_a_number_before_it_counts_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claimwatch.toml"
    path.write_text(NAMED, encoding="utf-8")
    named = load_config(path, env={})
    texts = [
        "88 CF-18s at the border, RCMP says, Canada",  # a number before the name counts it
        "Les CF-18 et 3 000 agents à la frontière du Canada",
        "COVID-19 and the G7: 5000 officers at the border in Canada",
        "CF-18 jets patrol the border of Canada now",  # the name's 18 is no value
    ]
    assert [value for _, value in readings(named, "personnel", texts)] == [
        "88",
        "3000",
        "5000",
        None,
    ]


def test_the_first_few_are_a_part_not_the_whole(config: Config) -> None:
    text = "The first 500 officers are at the border, then 8,000 officers by June, Canada says"
    assert variant(config, "personnel", text) == "8000"
    assert variant(config, "personnel", "Les 500 premiers agents à la frontière du Canada") is None


def test_disbelief_denies_and_doubt_asks(config: Config) -> None:
    texts = [
        "There's no way the tariff on Canadian goods is 25%.",
        "Les tarifs de 10 % sur les produits canadiens, personne y croit.",
        "25 % de tarifs sur les produits canadiens, c tu vrai?",
        "The 25% tariff on Canadian goods drew skepticism from economists.",
    ]
    assert [stance for stance, _ in readings(config, "tariff", texts)] == [
        "denies",
        "denies",
        "questions",
        "questions",
    ]


def test_an_authoritys_correction_quoting_the_verified_value_gives_it(config: Config) -> None:
    text = (
        "Non, le Canada n'envoie pas 100 000 soldats à la frontière. « Il s'agit de près de "
        "10 000 agents », a précisé une porte-parole."
    )
    posts = pl.DataFrame(
        {"post_uid": ["p"], "source": ["x"], "author_handle": ["Safety_Canada"], "text": [text]}
    )
    found = analyze_posts(posts, config, ["personnel"]).mentions
    assert found.select("stance", "variant").rows() == [("corrects", "10000")]


UNRELATED = STORY.replace(
    'quantity = { kind = "percent", verified = 25 }',
    'quantity = { kind = "percent", verified = 25 }\n'
    'unrelated = { en = ["steel", "energy"], fr = ["acier"] }',
)


def test_a_value_said_of_something_unrelated_is_not_the_claims(tmp_path: Path) -> None:
    path = tmp_path / "claimwatch.toml"
    path.write_text(UNRELATED, encoding="utf-8")
    texts = [
        "Trump puts a 50% tariff on steel from Canada.",  # said of steel only: no mention
        "Les tarifs de 25 % sur l'acier canadien entrent en vigueur.",
        "Tariffs on Canadian goods: 25%, and 10% on energy.",  # the 10% is energy's
        "The tariff on Canadian goods is 50%, steel included.",  # a clause apart: the claim's
    ]
    assert readings(load_config(path, env={}), "tariff", texts) == [
        ("-", None),
        ("-", None),
        ("asserts", "25"),
        ("asserts", "50"),
    ]


def test_a_value_said_of_another_year_than_the_titles_is_of_another_period(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claimwatch.toml"
    story = STORY.replace('title = "What the border plan costs"', 'title = "The 2023-24 deficit"')
    path.write_text(story.replace("border plan", "deficit").replace("plan frontalier", "déficit"))
    texts = [
        "The deficit came in at $61.9 billion, the Public Accounts say.",  # no year: the claim's
        "Ottawa's deficit was $61.9 billion in 2023-24.",  # the title's years
        "The deficit of 2024 was $61.9 billion.",  # one year of the span
        "A deficit of $48.3 billion for 2024-25 is projected.",  # another fiscal year
        "Le déficit de 46,8 G$ pour 2024-2025, selon le DPB.",
        "The 2026 deficit is $30 billion, then $25 billion in 2027.",  # both values elsewhen
        "Deficit: $48.3 billion for 2024-25, after $61.9 billion in 2023-24.",
        "A deficit of $48.3 billion is now projected for 2024-25.",  # words between, one clause
    ]
    assert readings(load_config(path, env={}), "plan-cost", texts) == [
        ("asserts", "61900000000"),
        ("asserts", "61900000000"),
        ("asserts", "61900000000"),
        ("-", None),
        ("-", None),
        ("-", None),
        ("asserts", "61900000000"),
        ("-", None),
    ]


def test_a_value_negated_with_none_in_its_place_denies_and_an_approximation_asserts(
    config: Config,
) -> None:
    texts = [
        "No, the border plan was not $40 billion.",  # negated, nothing in its place: denies
        "Non, le plan frontalier n'était pas de 100 milliards.",
        "The border plan is $1.3 billion, not $40 billion.",  # one in its place: corrects
        "Le plan frontalier a coûté pas loin de 1,3 milliard $.",  # "not far from": nearly
    ]
    assert readings(config, "plan-cost", texts) == [
        ("denies", "40000000000"),
        ("denies", "100000000000"),
        ("corrects", "1300000000"),
        ("asserts", "1300000000"),
    ]


def test_a_place_elsewhere_is_a_known_place_not_any_capitalised_name(config: Config) -> None:
    texts = [
        "The border plan costs $1.3 billion, it's in the Public Accounts.",  # a document
        "Le plan frontalier coûte 1,3 milliard $, c'est dans les Comptes publics.",
        "The border plan costs $1.3 billion in Texas.",  # a US state: elsewhere
        "The border plan costs $1.3 billion in New York City.",  # a city of GeoNames
        "The border plan costs $1.3 billion in Alberta.",  # a province: a place, not the context
    ]
    assert readings(config, "plan-cost", texts) == [
        ("asserts", "1300000000"),
        ("asserts", "1300000000"),
        ("-", None),
        ("-", None),
        ("-", None),
    ]


def test_a_large_count_said_of_the_subject_names_the_claim_and_is_its_value(
    config: Config,
) -> None:
    texts = [
        "The border was estimated at 41,012 officers, not 10,000.",  # "at 41," is no time
        "La frontière : 12 000 maintenant.",  # said of the subject, no unit word
        "On est rendus 12 000 à la frontière, c'est fou",  # said before it
        "The border, 2024: five crossings closed.",  # a year is no count
        "8-9k officers at the border",  # a range with its scale gives none
    ]
    assert readings(config, "personnel", texts) == [
        ("asserts", "41012"),  # another value against the verified one asserts it
        ("asserts", "12000"),
        ("asserts", "12000"),
        ("-", None),
        ("asserts", None),
    ]


def test_a_value_said_of_a_known_place_elsewhere_is_not_the_claims(config: Config) -> None:
    texts = [
        "Mexico deployed 10,000 officers at its border; Canada 8,000 officers at the border.",
        "La France compte 5 000 agents à sa frontière. Le Canada, 8 000 agents à la frontière.",
    ]
    assert readings(config, "personnel", texts) == [("asserts", "8000"), ("asserts", "8000")]


def test_a_known_value_names_the_claim_without_its_subject(config: Config) -> None:
    texts = [
        "10 000 agents, mon oeil.",  # the verified value, counting the claim's units
        "20,000 officers at the Canada border now",
        "Canada has 20,000 officers on the border, RCMP says",
        "20 000 agents, c'est du délire",  # a variant two posts gave: known
        "30,000 agents lol",  # a variant no other post gives: not known
        "Mexico: 20,000 agents",  # known, but placed elsewhere
        "500 agents de sécurité au Stade olympique",  # a count no post gives as a variant
    ]
    assert readings(config, "personnel", texts) == [
        ("denies", "10000"),
        ("asserts", "20000"),
        ("asserts", "20000"),
        ("asserts", "20000"),
        ("-", None),
        ("-", None),
        ("-", None),
    ]


def write_posts(path: Path, texts: list[str], first_id: int = 0, days: int = 1) -> Path:
    """The texts as posts of x in JSON Lines, spread over `days` days from 2025-02-01."""
    rows = [
        {
            "source": "x",
            "source_id": str(first_id + i),
            "created_at": f"2025-02-0{1 + i % days}T12:00:00Z",
            "text": text,
            "author_handle": f"user{first_id + i}",
        }
        for i, text in enumerate(texts)
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    return path


def test_values_known_from_earlier_runs_name_the_claim_in_an_incremental_run(
    story: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    earlier = ["20,000 officers at the Canada border", "Canada: 20,000 agents at the border"]
    cli("--config", str(story), "import", str(write_posts(tmp_path / "a.jsonl", earlier)))
    assert cli("--config", str(story), "analyze").code == 0
    later = write_posts(tmp_path / "b.jsonl", ["20 000 agents, mon œil"], first_id=10)
    assert cli("--config", str(story), "import", str(later)).code == 0
    assert cli("--config", str(story), "analyze").code == 0
    result = cli(
        "--config",
        str(story),
        "sql",
        "--format",
        "json",
        "SELECT variant, stance FROM claim_mentions m JOIN posts p USING (post_uid)"
        " WHERE claim_id = 'personnel' AND p.source_id = '10'",
    )
    assert json.loads(result.out) == [{"variant": "20000", "stance": "denies"}]


def test_a_bare_number_takes_the_scale_the_post_writes(config: Config) -> None:
    texts = [
        "Le plan frontalier d'Ottawa coûte 1,3 milliard $, pas 13.",  # 13 milliards rejected
        "Ottawa's border plan: not $13 billion. It's 1.3.",
    ]
    assert readings(config, "plan-cost", texts) == [
        ("corrects", "1300000000"),
        ("corrects", "1300000000"),
    ]


def test_number_words_become_digits_in_place() -> None:
    text = "près de dix mille agents, un ami, vingt-cinq pour cent, a million"
    digits = digitise(text, ("en", "fr"))
    assert len(digits) == len(text)  # every offset kept
    assert digits.split() == [
        "près", "de", "10000", "agents,", "un", "ami,", "25", "pour", "cent,", "1000000",
    ]  # fmt: skip


def test_a_claim_inherits_its_topics_terms(config: Config) -> None:
    claim = config.claims["plan-cost"]
    assert claim.context["en"] == ["Canada", "Canadian", "Ottawa", "RCMP"]
    assert [a.handle for a in claim.corrections.authorities] == ["Safety_Canada"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('verified = 1300000000 }', 'verified = 1300000000, max = 1000 }'),
            "expected min <= verified <= max",
        ),
        (('kind = "percent", verified = 25', 'kind = "percent", currency = "USD", verified = 25'),
         'currency is for kind = "money"'),
        (('[claims.personnel]', '[language.en.numbers]\n"10,000" = 10000\n\n[claims.personnel]'),
         "expected number words (digits are always read"),
    ],
)  # fmt: skip
def test_a_quantity_that_can_never_match_is_refused_naming_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "claimwatch.toml"
    path.write_text(STORY.replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert message in str(raised.value)


def test_money_and_percent_claims_from_import_to_variant_spread(
    story: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    texts = [
        "Canada's border plan costs $1.3 billion",
        "le plan frontalier de 1,3 milliard $ d'Ottawa",
        "Ottawa's border plan costs $1,300,000,000",
        "Ottawa's border plan: $2 billion!!",
        "Trump's 25% tariff on Canadian goods",
        "des tarifs de 25 % sur les produits canadiens",
        "a 10 per cent tariff on Canadian goods",
    ]
    posts = write_posts(tmp_path / "posts.jsonl", texts, days=2)
    assert cli("--config", str(story), "import", str(posts)).code == 0
    assert cli("--config", str(story), "analyze").code == 0
    result = cli(
        "--config",
        str(story),
        "sql",
        "--format",
        "json",
        "SELECT claim_id, variant, variant_label, unit, sum(posts)::INTEGER AS posts"
        " FROM variant_spread"
        " WHERE grain = 'day' GROUP BY ALL ORDER BY claim_id, variant",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {
            "claim_id": "plan-cost",
            "variant": "1300000000",
            "variant_label": "$1.3 billion",
            "unit": "CAD",
            "posts": 3,
        },
        {
            "claim_id": "plan-cost",
            "variant": "2000000000",
            "variant_label": "$2 billion",
            "unit": "CAD",
            "posts": 1,
        },
        {
            "claim_id": "tariff",
            "variant": "10",
            "variant_label": "10%",
            "unit": "percent",
            "posts": 1,
        },
        {
            "claim_id": "tariff",
            "variant": "25",
            "variant_label": "25%",
            "unit": "percent",
            "posts": 2,
        },
    ]


@pytest.mark.parametrize(
    ("sentence", "kind", "verified"),
    [
        ("Canada deployed 10,000 personnel to the border", "count", 10000),
        ("Ottawa announced a C$1.3 billion border plan", "money", 1300000000),
        ("Trump imposed a 25% tariff on Canadian goods", "percent", 25),
        ("Le Canada a déployé dix mille agents à la frontière", "count", 10000),
    ],
)
def test_a_claim_drafted_from_a_sentence_loads_with_its_quantity(
    tmp_path: Path, cli: Callable[..., CliResult], sentence: str, kind: str, verified: int
) -> None:
    drafted = cli("claims", "draft", sentence, "--topic", "border", "--id", "drafted")
    assert drafted.code == 0, drafted.err
    path = tmp_path / "claimwatch.toml"
    path.write_text(STORY + "\n" + drafted.out, encoding="utf-8")
    quantity = load_config(path, env={}).claims["drafted"].quantity
    assert quantity is not None
    assert (quantity.kind, quantity.verified) == (kind, verified)


def test_a_sentence_without_a_number_is_refused(cli: Callable[..., CliResult]) -> None:
    result = cli("claims", "draft", "ICE has offices in Canada")
    assert result.code == 2
    assert "no amount found" in result.err
