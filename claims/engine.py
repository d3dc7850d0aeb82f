"""Claim analysis over whole columns (Polars): which claims each post mentions, with what value
(the variant), in what stance, and which mentions are corrections.

The rules, in order (docs/claims.md says the same with examples):

1. Candidates. Only posts that contain one of the claims' subject words (a literal Aho-Corasick
   pass, case-sensitive for acronyms) go further; the rest of the work runs on them alone.
2. Text. Text and title are joined, links dropped, keycap emoji made digits, accents and
   typographic apostrophes folded one for one (so offsets stay). Number noise (dates, scores,
   fractions, times, thousands, percentages, ordinals) is masked, quoted passages and reported
   claims ("Claim: ...", "claims that ...") are set apart from what the author says.
3. Mention. The subject and object within the claim's `window` words in one sentence, or the subject
   and one of the claim's facts, or the subject and four of the claim's places; an acronym the post
   spells out as something else ("Intercontinental Exchange (ICE)") does not count; a mention bound
   to a place outside the context ("field offices in Texas") does not count; a post that names no
   context term counts only if it names no place elsewhere either.
4. Variant (claims with a quantity). Candidates: totals ("5 en tout", "= 5"), numbers counting the
   claim's units ("5 #ICE stations", "cinq bureaux", "five Canadian cities"), numbers attached to
   the subject ("ICE x5"), numbers standing alone ("Five."), the count of the claim's places listed,
   the sum of its parts ("embassy + 4 consulates"), and rejected values (quoted or negated). A total
   wins; two values offered ("4 or 5") give none; one asserted value wins, several give none; then
   places, then parts; a post that only quotes or negates a value (and does not correct it) gets
   that value.
5. Stance. An authority's post corrects (kind authority), a fact-check publisher's corrects (kind
   factcheck), a post stating a fact of the claim that is not a question corrects (community); then
   a denial (a denial word, or a negated claim with no value asserted); then a question (a doubt
   word, or a question cue in a post with "?", or a sentence about the claim ending in a single "?",
   unless a rhetorical cue says otherwise); otherwise the post asserts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from claims.patterns import (
    GAP,
    NAME,
    WORD,
    YEARS,
    ClaimRules,
    Language,
    initials_pattern,
    names_in,
    names_masked,
)
from claims.quantities import (
    AMOUNT,
    DECIMAL_POINT,
    SCALE,
    SPACES,
    Kind,
    amount_value,
    canonical,
    digitised,
    label,
    other_kinds,
    scale_of,
)
from collectors.matching import FOLD_IN_PLACE, FOLD_SEPARATORS, URL_PATTERN, match_topics
from config import Config, Topic

# Bump when the rules in this package change: every claim is then re-analysed.
ENGINE_VERSION = "6"

_PLACES = Path(__file__).with_name("data") / "places.txt.gz"
INPUT_COLUMNS = ("post_uid", "source", "author_handle", "text")  # plus "title" when present
MENTION_SCHEMA = pl.Schema(
    {
        "post_uid": pl.String,
        "claim_id": pl.String,
        "variant": pl.String,
        "variant_label": pl.String,
        "unit": pl.String,
        "stance": pl.String,
        "matched_text": pl.String,
        "span_start": pl.Int32,
        "span_end": pl.Int32,
    }
)
CORRECTION_SCHEMA = pl.Schema(
    {
        "post_uid": pl.String,
        "claim_id": pl.String,
        "variant": pl.String,
        "kind": pl.String,
    }
)
STANCES = ("asserts", "questions", "denies", "corrects")
CORRECTION_KINDS = ("authority", "factcheck", "community")


@dataclass(frozen=True)
class ClaimAnalysis:
    mentions: pl.DataFrame  # MENTION_SCHEMA: one row per (post, claim) mentioned
    corrections: pl.DataFrame  # CORRECTION_SCHEMA: one row per mention whose stance is corrects


def claim_versions(config: Config) -> dict[str, str]:
    """claim id -> fingerprint of its definition, the language rules and the engine version."""
    lexicon = config.model_dump(mode="json").get("language", {})
    versions = {}
    for claim_id, claim in config.claims.items():
        payload = json.dumps(
            [ENGINE_VERSION, claim.model_dump(mode="json"), lexicon], sort_keys=True
        )
        versions[claim_id] = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return versions


def analyze_posts(
    posts: pl.DataFrame | pl.LazyFrame,
    config: Config,
    claim_ids: Iterable[str] | None = None,
    known: Mapping[str, Iterable[float]] | None = None,
) -> ClaimAnalysis:
    """Mentions and corrections of the claims `claim_ids` (default: all) in `posts`.

    `known`: claim id -> values already seen as variants (in earlier runs), which a post may
    name the claim by alone (rule 2 of docs/claims.md); the values of this batch are added.
    """
    chosen = list(config.claims) if claim_ids is None else list(claim_ids)
    rules = [ClaimRules.of(claim_id, config.claims[claim_id]) for claim_id in chosen]
    if not rules:
        return _empty()
    language = Language.of(config.language)
    topics = {r.topic: config.topics[r.topic] for r in rules if r.topic in config.topics}
    lazy = posts.lazy()
    mentions = _mentions(_candidates(lazy, rules, topics), rules, topics, language)
    values = _known_values(mentions, rules, known or {})
    echoes = _mentions(_echo_candidates(lazy, rules, values), rules, topics, language, values)
    if echoes.height:  # a post named by its subject keeps that reading
        echoes = echoes.join(mentions, on=["post_uid", "claim_id"], how="anti")
        mentions = pl.concat([mentions, echoes])
    corrections = mentions.filter(pl.col("stance") == "corrects").select(
        "post_uid", "claim_id", "variant", pl.col("_kind").alias("kind")
    )
    return ClaimAnalysis(
        mentions.select(list(MENTION_SCHEMA)).cast(MENTION_SCHEMA),
        corrections.cast(CORRECTION_SCHEMA),
    )


def _mentions(
    candidates: pl.LazyFrame,
    rules: list[ClaimRules],
    topics: dict[str, Topic],
    language: Language,
    echoed: dict[str, list[float]] | None = None,
) -> pl.DataFrame:
    """The mentions in `candidates`, one row per post and claim (copies each get theirs); with
    `echoed`, only those naming a claim by one of its known values."""
    found = candidates.collect()
    if found.is_empty():
        return pl.DataFrame(schema=MENTION_SCHEMA | {"_kind": pl.String})
    copies = _distinct_texts(found, rules)
    texts = _texts(_with_topics(copies.drop("_uids"), topics), language)
    chosen = [r for r in rules if echoed is None or echoed.get(r.claim_id)]
    named = _named_texts(texts, chosen, language) if echoed is None else None
    if named is not None:  # the rest is read only on the texts that name a claim
        texts = texts.filter(pl.col("post_uid").is_in(pl.concat(named.values()).implode()))
    prepared = {kind: _prepare(texts, language, kind) for kind in {r.kind for r in chosen}}
    # The subject's text is the same for claims of one subject (both ICE claims): made once.
    read: dict[tuple[object, ...], pl.DataFrame] = {}
    claims = []
    for rule in chosen:
        key = (rule.kind, tuple(rule.subject_acronyms), rule.subject_expansions)
        if key not in read:
            read[key] = _with_subject_text(prepared[rule.kind], rule)
        if named is not None:
            frame = read[key].filter(pl.col("post_uid").is_in(named[rule.claim_id].implode()))
        else:
            assert echoed is not None
            frame = read[key].filter(_echo(rule, language, echoed[rule.claim_id]))
            frame = _placed(frame, rule, language)
        claims.append(_claim_mentions(frame, rule, language))
    if not claims:
        return pl.DataFrame(schema=MENTION_SCHEMA | {"_kind": pl.String})
    mentions = _with_spans(pl.concat(claims))
    return (
        mentions.join(copies.select("post_uid", "_uids"), on="post_uid")
        .drop("post_uid")
        .explode("_uids")
        .rename({"_uids": "post_uid"})
        .select(*MENTION_SCHEMA, "_kind")
    )


def _empty() -> ClaimAnalysis:
    return ClaimAnalysis(
        pl.DataFrame(schema=MENTION_SCHEMA), pl.DataFrame(schema=CORRECTION_SCHEMA)
    )


# --- 1. candidates --------------------------------------------------------------------------------


def _anchors(config_terms: list[str]) -> tuple[list[str], list[str]]:
    """Literal words every mention contains: (case-sensitive acronyms, lower-case words)."""
    exact: list[str] = []
    loose: list[str] = []
    for term in config_terms:
        runs = sorted(_ascii_runs(term), key=len, reverse=True)
        if not runs:
            continue
        acronym = next((run for run in runs if len(run) >= 2 and run.isupper()), None)
        if acronym:
            exact.append(acronym)
        else:
            loose.append(runs[0].lower())
    return list(dict.fromkeys(exact)), list(dict.fromkeys(loose))


def _ascii_runs(term: str) -> list[str]:
    runs, current = [], ""
    for char in term:
        if char.isascii() and char.isalnum():
            current += char
        else:
            runs.append(current)
            current = ""
    return [run for run in [*runs, current] if run]


def _literal(terms: Iterable[str]) -> str:
    """A regex of the literal words of `terms`: acronyms as written, other words in any case (one
    regex of literals: the engine's fastest first pass, far faster than case-blind Aho-Corasick)."""
    exact, loose = _anchors(list(terms))
    parts = [re.escape(word) for word in exact]
    if loose:
        parts.append("(?i-u:" + "|".join(re.escape(word) for word in loose) + ")")
    return "|".join(parts) or r"[^\s\S]"


def _hit(pattern: str, fields: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(f).cast(pl.String).str.contains(pattern) for f in fields)


def _topic_words(topic: Topic) -> list[str]:
    """Terms whose literal words every post matching the topic holds one of."""
    words: list[str] = []
    for terms in topic.terms.values():
        words += [*terms.phrases, *terms.hashtags, *(group[0] for group in terms.all_words)]
    return words


def _candidates(
    posts: pl.LazyFrame, rules: list[ClaimRules], topics: dict[str, Topic]
) -> pl.LazyFrame:
    columns = posts.collect_schema().names()
    fields = ["text", "title"] if "title" in columns else ["text"]
    named = _literal(term for rule in rules for term in rule.anchor_terms)
    # a claim with a quantity may be named by its topic alone: an object word and a topic word
    implied = [rule for rule in rules if rule.quantity and rule.topic in topics]
    topic_words = {rule.claim_id: _literal(_topic_words(topics[rule.topic])) for rule in implied}
    first = "|".join([named, *topic_words.values()])
    by_topic = {
        rule.claim_id: _hit(topic_words[rule.claim_id], fields)
        & _hit(_literal(rule.object_terms), fields)
        for rule in implied
    }
    title = pl.col("title").cast(pl.String) if "title" in columns else pl.lit(None, pl.String)
    folded = pl.concat_str(
        [pl.col(field).cast(pl.String).fill_null("") for field in fields], separator="\n"
    ).str.replace_many(FOLD_IN_PLACE | FOLD_SEPARATORS)
    # each test once, as a column: the subject said (per distinct subject) and the anchors
    anchor = "|".join(dict.fromkeys(rule.anchor() for rule in rules))
    subjects = list(dict.fromkeys(rule.subject for rule in implied))
    said = {subject: f"_said{index}" for index, subject in enumerate(subjects)}
    tests = {column: pl.col("_folded").str.contains(subject) for subject, column in said.items()}
    if anchor not in said:
        tests["_anchor"] = pl.col("_folded").str.contains(anchor)
    anchored = pl.col(said.get(anchor, "_anchor"))
    topic = {rule.claim_id: f"_topic{index}" for index, rule in enumerate(implied)}
    # the topic implies a subject only where it is not said: the rows whose topics are matched
    unsaid = [pl.col(topic[r.claim_id]) & ~pl.col(said[r.subject]) for r in implied]
    return (
        posts.filter(_hit(first, fields).fill_null(False))  # every post: one fast pass
        .with_columns(
            _hit(named, fields).fill_null(False).alias("_named"),
            *(by_topic[claim].fill_null(False).alias(column) for claim, column in topic.items()),
        )
        .filter(pl.any_horizontal("_named", *topic.values()))  # on the few it kept
        .with_columns(folded.alias("_folded"))
        .with_columns(
            pl.col("_folded").map_batches(names_masked, return_dtype=pl.String)
            if names_in(term for rule in rules for term in rule.subject_terms + rule.object_terms)
            else pl.col("_folded")  # the tests below match no name: the texts as they are
        )
        .with_columns(**tests)
        .with_columns(pl.any_horizontal(pl.lit(False), *unsaid).alias("_implied"))
        .filter(pl.col("_implied") | anchored)  # the exact test (the topic's is made later)
        .select(
            pl.col("post_uid").cast(pl.String),
            pl.col("source").cast(pl.String).fill_null(""),
            pl.col("author_handle").cast(pl.String).fill_null(""),
            pl.col("text").cast(pl.String).fill_null("").alias("text"),
            title.alias("title"),
            "_implied",
        )
    )


def _with_topics(copies: pl.DataFrame, topics: dict[str, Topic]) -> pl.DataFrame:
    """`copies` with `_topics`: the topics whose terms the post matches (it was collected for
    them), which name a claim's subject for the post."""
    none = pl.lit([], pl.List(pl.String))
    if not topics:
        return copies.with_columns(none.alias("_topics")).drop("_implied")
    maybe = copies.filter("_implied").select("post_uid", "text", "title")  # the few it can change
    matched = match_topics(maybe, topics).select("post_uid", pl.col("topics").alias("_topics"))
    return (
        copies.join(matched, on="post_uid", how="left")
        .with_columns(pl.col("_topics").fill_null(none))
        .drop("_implied")
    )


def _distinct_texts(candidates: pl.DataFrame, rules: list[ClaimRules]) -> pl.DataFrame:
    """One row per distinct text, title and voice, keyed by a new `post_uid`, with the posts that
    share them in `_uids`: copies, reposts with the text and cross-posts are analysed once.

    The voice is the account when it is an authority or a fact-check publisher of a claim (their
    posts are corrections by who they are), and empty otherwise.
    """
    authorities = [account for rule in rules for account in rule.authorities]
    publishers = [publisher for rule in rules for publisher in rule.factcheck_publishers]
    account = pl.concat_str(pl.col("source"), pl.lit(":"), pl.col("author_handle"))
    voice = (
        pl.when(_kind(authorities, publishers).is_not_null()).then(account).otherwise(pl.lit(""))
    )
    return (
        candidates.with_columns(voice.alias("_voice"))
        .group_by("text", "title", "_voice")
        .agg(
            pl.col("post_uid").alias("_uids"),
            pl.col("source", "author_handle").first(),
            pl.col("_implied").any(),
        )
        .with_row_index("_key")
        .select(
            pl.col("_key").cast(pl.String).alias("post_uid"),
            "source",
            "author_handle",
            "text",
            "title",
            "_uids",
            "_implied",
        )
    )


# --- 2. text --------------------------------------------------------------------------------------

_RAW, _T, _M, _U, _Q = "_raw", "_t", "_m", "_u", "_q"
_PLAIN, _ASK = (
    "_said_plainly",
    "_said_asking",
)  # what the author says outside questions, and in them
_ASKED = r"[^.!?\n]*\?[?!]*"  # a sentence ending with a question mark
_QUOTED = (
    r"“[^”\n]{2,}”|«[^»\n]{2,}»|\"[^\"\n]{2,}\"|„[^“”\n]{2,}[“”]"
    r"|(?:^|[\s(\[:])'(?:[^'\n]|'\p{L}){2,}?'(?:[\s.,;:!?)…]|$)"
)
_SPACE = r"[ \t\u00a0\u202f-]+"
_OPENING_QUOTE = r"(?:[\"“«'\u2018][ \t\u00a0\u202f]*)?"  # "not “100,000 troops”"
# between a negation and the number it negates: a verb or two, a quote ("didn't cost $34B")
_NEGATED_GAP = rf"\s+(?:{WORD}\s+){{0,2}}?{_OPENING_QUOTE}"


_NUMBER = rf"(?-u:\b)\d+(?:[.,{DECIMAL_POINT}]\d+)*"  # digits, with any separators
_YEAR_AFTER = (
    "in|en|since|depuis|from|until|year|annee|circa|fall|spring|summer|winter|automne|printemps"
    "|ete|hiver|early|late|mid|fin|debut|avant|apres|before|after|jusqu'en|d'ici|back in"
)


def _noise(language: Language, kind: Kind) -> str:
    """Numbers that are not values of a claim of `kind`: dates, years, scores, fractions, times,
    measures, ordinals, and the amounts of the other kinds (money or percentages of a count)."""
    day = r"\d{1,2}(?-u:\b)"
    units = r"(?i:am|pm|h|hrs?|min|mins|km|kg|cm|mm|kms|bpd|b/d|mph|km/h)|m|[xX]"
    return "|".join(
        [
            other_kinds(kind),
            rf"{language.not_places}\.?\s+{day}(?:,?\s+(?:19|20)\d{{2}}(?-u:\b))?",
            rf"(?-u:\b){day}\s+{language.not_places}(?:\s+(?:19|20)\d{{2}}(?-u:\b))?",
            rf"(?i:(?-u:\b)(?:{_YEAR_AFTER}))[ \t]+(?:19|20)\d{{2}}(?-u:\b)",
            r"\((?:19|20)\d{2}\)",
            # scores, fractions, ranges ("4-5M hectares": the scale is the range's)
            rf"{_NUMBER}\s*[/\-\u2013^]\s*{_NUMBER}(?:{SCALE})?(?-u:\b)",  # ("^": a dash)
            r"(?-u:\b)\d{1,2}:\d{2}(?-u:\b)",  # times
            # a score: "Canada 3, Sweden 2"
            r"(?-u:\b)\p{Lu}[\p{L}.]+\s+\d{1,2}\s*,?\s+\p{Lu}[\p{L}.]+\s+\d{1,2}(?-u:\b)",
            r"#\d+(?-u:\b)",
            rf"{_NUMBER}\s*(?:{units})(?-u:\b)",
            r"(?-u:\b)\d+(?i:st|nd|rd|th|e|er|re|ère|ème|eme)(?-u:\b)",
            # the first few of them, a part ("the first 16 jets", "les 16 premiers")
            r"(?i:(?-u:\b)(?:first|initial|premiers|premieres))[ \t]+\d+(?-u:\b)",
            r"(?-u:\b)\d+[ \t]+(?i:premiers|premieres)(?-u:\b)",
            r"(?m)^[ \t]*\d{1,2}[.)][ \t]",  # a numbered list: "1) Ottawa"
            r"\d+\s+(?i:contre|to|against|vs\.?)\s+\d+",  # a vote: "45 contre 12"
            # a time: "more at 11." (not "at 41,012,563")
            r"(?i:(?-u:\b)at)[ \t]+\d{1,2}[ \t]*(?:[.!?,;)](?:[^0-9]|$)|$)",
        ]
    )


# a mixed number's fraction -> its decimals, padded to the fraction's length ("2 3/4": "2.75 ")
_MIXED = {"1/2": "5  ", "1/4": "25 ", "3/4": "75 "}


def _texts(candidates: pl.DataFrame, language: Language) -> pl.DataFrame:
    """Text and title joined (`_RAW`) and folded (`_T`): accents off, decimal points kept apart
    from full stops, number words as digits; every offset of `_RAW` kept."""
    joined = pl.concat_str(
        [pl.col("text"), pl.lit("\n"), pl.col("title").fill_null("")], ignore_nulls=True
    )
    raw = (
        joined.str.replace_all(URL_PATTERN, " ")
        .str.replace_all("\ufe0f\u20e3|\u20e3", "")
        .str.replace_all("\ufe0f", "")
    )
    folded = pl.col(_RAW).str.replace_many(FOLD_IN_PLACE | FOLD_SEPARATORS | SPACES)
    folded = folded.str.replace_all(r"(\d)\.(\d)", f"${{1}}{DECIMAL_POINT}${{2}}")
    for fraction, digits in _MIXED.items():  # "2 3/4 per cent" is 2.75, padded in place
        folded = folded.str.replace_all(
            rf"(?-u:\b)([0-9]+)[ \t]{fraction}(?-u:\b)", f"${{1}}{DECIMAL_POINT}{digits}"
        )
    numbers = language.numbers
    texts = candidates.with_columns(raw.alias(_RAW)).with_columns(folded.alias(_T))
    texts = texts.with_columns(names_masked(texts.get_column(_T)))
    return digitised(texts, _T, numbers.triggers)


_APPROXIMATE = "loin|far|moins|less|more|plus|quite|much"  # "pas loin de", "no less than"
_OWN_CLAUSE = r"\s(?i:et que|and that|mais|but|alors que|whereas|while)\s"
_ENDS = r"(?P<end>[.!?\n;:|]|,(?:[^0-9]|$))"  # what ends a clause


def _prepare(texts: pl.DataFrame, language: Language, kind: Kind) -> pl.DataFrame:
    """The texts read for a claim of `kind`: noise masked (`_M`), quotes and reported claims set
    apart (`_Q`) from what the author says (`_U`), questions (`_ASK`) from the rest (`_PLAIN`)."""
    # to the end of its clause (a quote set apart, " | ", ends it too) or to a conjunction that
    # starts the author's own ("the figure circulating is wrong and the deficit was $61.9B")
    clause = r"(?:[^.!?\n;:,|]|,[0-9])"
    reported = rf"{language.reported}\s*:?{clause}*?(?P<own>{_OWN_CLAUSE}{clause}*)?(?:{_ENDS}|$)"
    # a negation that approximates ("pas loin de 0,06 G$", "no less than 5") rejects nothing
    approximate = rf"{language.negations}[ \t]+(?i:{_APPROXIMATE})(?-u:\b)"
    prepared = texts.with_columns(
        pl.col(_T)
        .str.replace_all(_noise(language, kind), " ~ ")
        .str.replace_all(approximate, " ")
        .alias(_M)
    )
    # "the 15% going around", "le 15 % qui circule": a value others give, said before it
    given = (
        rf"(?:{language.numbers.token})(?:[ \t]+{WORD}){{0,3}}?[ \t]+(?:{language.reported_after})"
    )
    quoted = pl.concat_list(
        pl.col(_M).str.extract_all(_QUOTED),
        pl.col(_M)
        .str.extract_all(reported)
        .list.eval(pl.element().str.replace(rf"{_OWN_CLAUSE}.*$", "")),
        pl.col(_M).str.extract_all(given),
    ).list.join(" | ")
    negated = rf"{language.negations}{_NEGATED_GAP}{language.numbers.token}"
    # "went from $21.4B to $34B": the first is history, the second what the post says
    history = rf"(?i:(?-u:\b)(?:from|de))\s+(?:{language.numbers.token})(?P<to>\s+(?i:to|a)\s+)"
    said = (
        pl.col(_M)
        .str.replace_all(_QUOTED, " | ")
        .str.replace_all(reported, " | ${own}${end}")
        .str.replace_all(given, " | ")
        .str.replace_all(negated, " | ")
        .str.replace_all(history, " ~ ${to}")
    )
    prepared = prepared.with_columns(said.alias(_U), quoted.alias(_Q))
    return prepared.with_columns(
        pl.col(_U).str.replace_all(_ASKED, " | ").alias(_PLAIN),
        pl.col(_U).str.extract_all(_ASKED).list.join(" | ").alias(_ASK),
    )


# --- 3. mentions ----------------------------------------------------------------------------------


# A proper name in brackets after an acronym: "ICE (Intercontinental Exchange)".
_PROPER = r"\p{Lu}[\p{L}'-]*(?:\s+(?:\p{Ll}{1,3}\s+)?\p{Lu}[\p{L}'-]*)+"


def _with_subject_text(frame: pl.DataFrame, rule: ClaimRules) -> pl.DataFrame:
    """`frame` with `_st`: the text with the subject's acronyms blanked where the post spells them
    out otherwise (one acronym at a time: a when/then chained over them repeats its branches)."""
    frame = frame.with_columns(pl.col(_T).alias("_st"))
    for acronym in rule.subject_acronyms:
        text = pl.col("_st")
        bracketed = rf"\(\s*{acronym}\s*\)"
        redefined = (
            text.str.contains(bracketed)
            & ~text.str.contains(rf"{rule.subject_expansions}\W*{bracketed}")
        ) | (
            text.str.contains(
                rf"(?-u:\b){acronym}\s*\(\s*(?:{_PROPER}|{initials_pattern(acronym)})\s*\)"
            )
            & ~text.str.contains(rf"(?-u:\b){acronym}\s*\(\s*{rule.subject_expansions}\s*\)")
        )
        blank = "·" * len(acronym)
        blanked = text.str.replace_all(rf"(?-u:\b){acronym}(?-u:\b)", blank)
        frame = frame.with_columns(pl.when(redefined).then(blanked).otherwise(text).alias("_st"))
    return frame


def _place_after(words: str, what: str, language: Language) -> str:
    """`words`, then (within three words) a preposition and `what`: "offices in Texas"."""
    lead = rf"{words}(?:[ \t]+{WORD}){{0,3}}?[ \t]+" if words else r"(?-u:\b)"
    return rf"{lead}(?:{language.prepositions})[ \t]+(?:{language.articles}[ \t]+)?(?:{what})"


@lru_cache(maxsize=1)
def _places() -> pl.DataFrame:
    """The place names GeoNames knows (claims/data/build_places.py), folded and lower-cased."""
    with gzip.open(_PLACES, "rt", encoding="utf-8") as names:
        return pl.DataFrame({"_name": names.read().split("\n")}, schema={"_name": pl.String})


def _name_parts(name: pl.Expr) -> pl.Expr:
    """The first one, two and three words of a capitalised name, with and without its first
    word ("La France": "la", "la france", "france"), lower-cased: the names a place may be."""
    words = name.str.to_lowercase().str.replace_all(r"[ \t]+", " ")
    return pl.concat_list(
        words.str.extract(rf"^(?:\S+ ){{{skip}}}(\S+(?: \S+){{{more}}})")
        for skip in range(2)
        for more in range(3)
    )


def _at_known_places(frame: pl.DataFrame, pattern: str) -> pl.Series:
    """The post_uids where a match of `pattern` (a place after a preposition) ends in a
    capitalised name that starts with a known place ("Texas", "New York City", "Toronto
    Tuesday"), not a document or an office ("the Public Accounts", "les Comptes publics")."""
    said = frame.select("post_uid", pl.col("_st").str.extract_all(pattern).alias("_said"))
    said = said.explode("_said").drop_nulls("_said")
    name = pl.col("_said").str.extract(f"({NAME})$")
    prefixes = said.select("post_uid", _name_parts(name).alias("_name"))
    known = prefixes.explode("_name").join(_places(), on="_name", how="semi")
    return known.get_column("post_uid").unique()


def _with_outside(
    frame: pl.DataFrame, rule: ClaimRules, language: Language, name: str, bound_to: str = ""
) -> pl.DataFrame:
    """`frame` with column `name`: whether a place outside the claim's context is named (bound
    to `bound_to`, if given): a known place (GeoNames' countries, US states, cities) or an
    `elsewhere` term after a preposition, unless a place inside (or a month) is said that way
    too; or, unbound, an `elsewhere` term anywhere."""
    text = pl.col("_st")
    ending = r"(?:[ \t]*[.,;:!?)\n]|[ \t]*$|[ \t]+(?i:and|or|et|ou|alone|too)(?-u:\b))"
    elsewhere = f"(?:{rule.elsewhere}){ending}"
    at_place = _at_known_places(frame, _place_after(bound_to, NAME, language))
    named = text.str.contains(_place_after(bound_to, elsewhere, language)) | pl.col(
        "post_uid"
    ).is_in(at_place.implode())
    inside = text.str.contains(
        _place_after(bound_to, f"{rule.context}|{language.not_places}", language)
    )
    outside = named & ~inside  # "in June" is no place, "in Ottawa" is inside
    if not bound_to:  # an elsewhere term anywhere, whatever month follows: "US CPI ... in June"
        outside = outside | text.str.contains(rule.elsewhere)
    return frame.with_columns(outside.alias(name))


def _named(rule: ClaimRules, language: Language) -> pl.Expr:
    """Whether the post names the claim (cheap tests first: places are checked on the few left)."""
    text = pl.col("_st")
    named = text.str.contains(rule.link()) | text.str.contains(rule.phrases)
    if rule.places:
        places = pl.sum_horizontal(text.str.contains(place).cast(pl.Int32) for place in rule.places)
        named = named | (places >= 4)
    if rule.quantity:
        counts = [_counted(rule, language), _times(rule), *_numbered_parts(rule, language)]
        named = named | text.str.contains("|".join(counts))
        if rule.kind == "count" and rule.maximum >= _LARGE_COUNT:  # "41 millions au Canada"
            unmasked = text.str.replace_all(_noise(language, rule.kind), " ~ ")  # no years, no $
            named = named | unmasked.str.contains(_said_of(rule, _LARGE, _CLAUSE_GAP))
    named = text.str.contains(rule.subject) & named
    if rule.kind != "count":  # "25% on Canadian goods", "the plan is worth $1.3 billion"
        said_before = rf"(?:{rule.value})(?:{_SPACE}{WORD}){{0,2}}?{_SPACE}{rule.units}"
        typed = [said_before, _said_of(rule)]
        named = named | text.str.contains("|".join(typed))
        # the subject named and an amount of its kind anywhere: "$25M for a customs app. ArriveCAN"
        # (not a share of people: "62% of Canadians")
        loose = text.str.count_matches(rule.value) > text.str.count_matches(_share(rule))
        named = named | (text.str.contains(rule.subject) & loose)
    if rule.quantity:  # a post of the topic that never says the subject implies it
        implied = pl.col("_topics").list.contains(rule.topic) & ~pl.col(_T).str.contains(
            rule.subject
        )  # (said, but as something else, "ICE (Intercontinental Exchange)", it is not)
        named = named | (implied & text.str.contains(_counted(rule, language)))
    return named


# --- 3b. known values -----------------------------------------------------------------------------

ECHO_MIN_POSTS = 2  # a value becomes known once this many posts give it as a variant
ECHO_MIN_COUNT = 100  # smaller counts are everywhere ("5 stations"): never known alone


def _known_values(
    mentions: pl.DataFrame, rules: list[ClaimRules], earlier: Mapping[str, Iterable[float]]
) -> dict[str, list[float]]:
    """Claim id -> the values a post may name it by alone: the verified value, the variants of
    at least ECHO_MIN_POSTS posts (of this batch and `earlier`), within the claim's bounds; for
    a count, only values of at least ECHO_MIN_COUNT."""
    counted = (
        mentions.filter(pl.col("variant").is_not_null())
        .group_by("claim_id", "variant")
        .agg(pl.col("post_uid").n_unique().alias("posts"))
        .filter(pl.col("posts") >= ECHO_MIN_POSTS)
    )
    seen: dict[str, set[float]] = {rule.claim_id: set() for rule in rules}
    for claim_id, variant in counted.select("claim_id", "variant").iter_rows():
        seen.setdefault(claim_id, set()).add(float(variant))
    known: dict[str, list[float]] = {}
    for rule in rules:
        values = seen[rule.claim_id] | {float(v) for v in earlier.get(rule.claim_id, [])}
        if rule.verified is not None:
            values.add(rule.verified)
        low = max(rule.minimum, ECHO_MIN_COUNT) if rule.kind == "count" else rule.minimum
        known[rule.claim_id] = sorted(v for v in values if low <= v <= rule.maximum)
    return known


def _echo_candidates(
    posts: pl.LazyFrame, rules: list[ClaimRules], known: dict[str, list[float]]
) -> pl.LazyFrame:
    """Posts that may name a claim by a known value: a digit or a number word, and (counts) an
    object word or (money, percentages) an amount that says its kind."""
    columns = posts.collect_schema().names()
    fields = ["text", "title"] if "title" in columns else ["text"]
    echoed = [rule for rule in rules if known.get(rule.claim_id)]
    words = [term for rule in echoed if rule.kind == "count" for term in rule.object_terms]
    typed = [rule.marked for rule in echoed if rule.kind != "count"]
    hit = pl.lit(False)
    if words:
        hit = hit | _hit(_literal(words), fields)
    if typed:
        hit = hit | _hit("|".join(typed), fields)
    title = pl.col("title").cast(pl.String) if "title" in columns else pl.lit(None, pl.String)
    return posts.filter(hit.fill_null(False)).select(
        pl.col("post_uid").cast(pl.String),
        pl.col("source").cast(pl.String).fill_null(""),
        pl.col("author_handle").cast(pl.String).fill_null(""),
        pl.col("text").cast(pl.String).fill_null("").alias("text"),
        title.alias("title"),
        pl.lit(False).alias("_implied"),
    )


def _echo(rule: ClaimRules, language: Language, values: list[float]) -> pl.Expr:
    """Whether a post gives one of the claim's known `values` as a number of its units (a count:
    "10 000 agents, mon cul") or as an amount of its kind (money, percentages: "tmx 40G$ ???")."""
    said = _counted(rule, language) if rule.kind == "count" else rule.marked
    amounts = pl.col(_U).str.extract_all(said).list.eval(_number(_leading(language), language))
    return amounts.list.eval(pl.element().is_in(values)).list.any().fill_null(False)


def _leading(language: Language) -> pl.Expr:
    """The first number of each found text."""
    return pl.element().str.extract(f"({language.numbers.token})")


def _share(rule: ClaimRules) -> str:
    """An amount followed by what it is a share of: "62% of Canadians", "45 % des Canadiens"."""
    return rf"(?:{rule.marked})\s+(?i:of|des|du|de la|de l'|d')(?:\s|$)"


def _placed(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """The posts naming the claim that are in its context (DFA tests only: no captures). A place
    outside is looked for only where no context term is said (its test is the costly one)."""
    frame = frame.with_columns(pl.col("_st").str.contains(rule.context).alias("_in_context"))
    unplaced = _with_outside(frame.filter(~pl.col("_in_context")), rule, language, "_outside")
    frame = frame.join(
        unplaced.select("post_uid", "_outside"), on="post_uid", how="left", maintain_order="left"
    )
    frame = _with_outside(frame, rule, language, "_bound_elsewhere", bound_to=rule.object)
    placed = pl.col("_in_context") | ~pl.col("_outside").fill_null(False)
    return frame.filter(placed & ~pl.col("_bound_elsewhere")).drop(
        "_in_context", "_outside", "_bound_elsewhere"
    )


def _named_by(rule: ClaimRules) -> pl.Expr:
    """The text that named the claim: the subject and object, else the fact, else the subject."""
    text = pl.col("_st")
    return pl.coalesce(
        text.str.extract(f"({rule.link()})"),
        text.str.extract(f"({rule.phrases})"),
        text.str.extract(f"({rule.subject})"),
        text.str.extract(f"({rule.object})"),
    )


# --- 4. variants ----------------------------------------------------------------------------------


def _number(expr: pl.Expr, language: Language) -> pl.Expr:
    """A number token as written ("5", "10 000", "$1.3bn", "FIVE", "une  dizaine") -> its value."""
    words = language.numbers.words
    lowered = expr.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    spelled = lowered.replace_strict(
        list(words), list(words.values()), default=None, return_dtype=pl.Float64
    )
    return pl.coalesce(amount_value(expr), spelled)


def _counted(rule: ClaimRules, language: Language) -> str:
    """A number counting the claim's units ("5 #ICE stations", "une dizaine de bureaux")."""
    num = language.numbers.token
    return (
        rf"{num}(?:\s*\(\s*{num}\s*\))?(?:{_SPACE}{WORD}){{0,2}}?{_SPACE}"
        rf"(?:(?i:de|d'|of)\s*)?{rule.units}"
    )


def _said_of(rule: ClaimRules, value: str | None = None, gap: str = GAP) -> str:
    """An amount of the claim's kind (or `value`) said of its subject or object, within `window`
    words after it ("the border plan is worth $1.3 billion", "tarifs de 25 %"), words apart by
    `gap`."""
    value = value or rule.value
    words = rf"(?:{gap}{WORD}){{0,{rule.window}}}?{gap}"
    before = rf"(?:{gap}{WORD}){{0,2}}?{gap}"  # "les 34 milliards de Trans Mountain"
    named = f"(?:{rule.subject}|{rule.units})"
    return rf"{named}{words}(?:{value})|(?:{value}){before}{named}"


_CLAUSE_GAP = r"[ \t:~\"“”«»'-]+"  # between words of one clause: no comma, no full stop
# a count of a thousand or more, as written: "41,012,563", "10000", "41M", "41 millions" (four
# digits alone are a year)
_LARGE = (
    rf"(?-u:\b)(?:[0-9]{{1,3}}(?:[,. ][0-9]{{3}})+|[0-9]{{5,}}|[0-9]+(?:[.,{DECIMAL_POINT}][0-9]+)?"
    rf"{SCALE})"
)
_LARGE_COUNT = 1000  # a count said of the subject is read from this size: "population: 41M"

# A decimal standing for a percentage said of the claim: "the BoC cut to 2.75", "taux à 2,75"
_BARE_DECIMAL = rf"^[0-9]+[.,{DECIMAL_POINT}][0-9]+$"


def _said_value(rule: ClaimRules) -> str:
    """What a value said of the claim may be: an amount of its kind; for a percentage, also any
    amount (kept only when it is a bare decimal, `_BARE_DECIMAL`)."""
    return f"(?:{rule.value}|{AMOUNT})" if rule.kind == "percent" else rule.value


def _times(rule: ClaimRules) -> str:
    """A number attached to the subject ("ICE x5")."""
    times = "[x\u00d7]"  # x or the multiplication sign
    after, before = r"\d{1,3}(?-u:\b)", r"(?-u:\b)\d{1,3}"  # "ICE x5", "5x ICE"
    return rf"{rule.subject}\s*{times}\s*{after}|{before}\s*{times}\s*{rule.subject}"


# Punctuation that ends a number standing alone ("Five.", "5!"), never a separator ("40,000").
_STOP = r"(?:[!?;:()…\n]|[.,](?:[^0-9]|$))"

# (column, regex of the candidate text, regex of the number in it, which number: first or last)
Pattern = tuple[str, str, str, str]


def _candidate_patterns(rule: ClaimRules, language: Language) -> dict[str, Pattern]:
    """Category -> how its candidates are found (`Pattern`)."""
    num = language.numbers.token
    counted, times = _counted(rule, language), _times(rule)
    ends = rf"(?:[ \t]*{_STOP}|[ \t]*$|{_SPACE}(?:{WORD}{_SPACE}){{0,2}}?{rule.units})"
    total = rf"(?:{language.totals_before})\s*:?\s*{num}{ends}|{num}\s+(?:{language.totals_after})"
    bare = rf"(?:^|[\s:=(])(?:{language.numbers.bare_token})[ \t]*(?:{_STOP}|$)"
    bare_value = f"({language.numbers.bare_token})"
    patterns: dict[str, Pattern] = {
        "total": (_U, total, f"({num})", "first"),
        "counted": (_U, counted, f"({num})", "first"),
        "times": (_U, times, r"(\d{1,3})", "first"),
        "bare": (_U, bare, bare_value, "first"),
        "plain_counted": (_PLAIN, counted, f"({num})", "first"),
        "plain_times": (_PLAIN, times, r"(\d{1,3})", "first"),
        "plain_bare": (_PLAIN, bare, bare_value, "first"),
        "asked": (_ASK, f"{counted}|{times}|{bare}", f"({num})|(\\d{{1,3}})", "first"),
        "quoted": (_Q, f"{counted}|{times}", f"({num})|(\\d{{1,3}})", "first"),
        "negated": (_M, rf"{language.negations}{_NEGATED_GAP}{num}", f"({num})", "first"),
    }
    if rule.kind != "count":
        value = _said_value(rule)
        said_of = _said_of(rule, value)
        patterns |= {
            "typed": (_PLAIN, f"{_share(rule)}|{rule.marked}", f"({rule.marked})", "first"),
            "said": (_U, said_of, f"({value})", "last"),
            "plain_said": (_PLAIN, said_of, f"({value})", "last"),
            "asked_said": (_ASK, said_of, f"({value})", "last"),
            "quoted_said": (_Q, said_of, f"({value})", "last"),
            "quoted_typed": (_Q, rule.marked, f"({rule.marked})", "first"),
        }
    else:  # a large count said of the subject in one clause: "Canada's population: 41M"
        said_of = _said_of(rule, gap=_CLAUSE_GAP)
        patterns |= {
            name: (column, said_of, f"({rule.value})", "last")
            for name, column in (("said", _U), ("plain_said", _PLAIN), ("asked_said", _ASK))
        } | {"quoted_said": (_Q, said_of, f"({rule.value})", "last")}
    return patterns


_GROUPS = {
    "plain_counted": "plain",
    "plain_times": "plain",
    "plain_bare": "plain",
    "plain_said": "plain",
    "asked": "asked",
    "asked_said": "asked",
    "total": "total",
    "counted": "asserted",
    "times": "asserted",
    "bare": "asserted",
    "said": "asserted",
    "quoted": "quoted",
    "quoted_said": "quoted",
    "quoted_typed": "quoted",
    "negated": "rejected",
    "typed": "loose",
}
_LONG_SCHEMA = {"post_uid": pl.String, "group": pl.String, "value": pl.Float64, "text": pl.String}


def _candidates_long(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """One row per value a post offers: post_uid, group (total/asserted/rejected), value, text."""
    parts = []
    for category, (column, pattern, inner, which) in _candidate_patterns(rule, language).items():
        found = frame.select("post_uid", pl.col(column).str.extract_all(pattern).alias("text"))
        found = found.explode("text").drop_nulls("text")
        if category == "typed":  # an amount that is a share of something is no loose value
            found = found.filter(~pl.col("text").str.contains(_share(rule)))
        numbers = pl.col("text").str.extract_all(inner)
        number = numbers.list.last() if which == "last" else numbers.list.first()
        parts.append(
            found.select(
                "post_uid",
                pl.lit(_GROUPS[category]).alias("group"),
                _number(number, language).alias("value"),
                pl.col("text").str.strip_chars(" \t\n:=(.!?,;)…"),
                (number.str.strip_chars().str.contains(_BARE_DECIMAL) & category.endswith("said"))
                .fill_null(False)
                .alias("_decimal"),
                pl.lit(category.endswith("said")).alias("_said"),
            )
        )
    long = pl.concat(parts)
    if rule.kind == "money":  # a bare number takes the post's scale: "34 milliards, pas 40"
        long = _scaled_by_the_post(long, frame, rule)
    else:
        long = long.with_columns(pl.lit(False).alias("_inherited"))
    plausible = pl.col("value").is_between(rule.minimum, rule.maximum)
    if rule.kind == "count":  # said of the subject, only a count no list or ordinal gives
        plausible = plausible & (~pl.col("_said") | (pl.col("value") >= _LARGE_COUNT))
    else:  # a count's other kinds are masked; its words are values too
        # a rejected number needs no mark of its own: "8.1%, not 10", "it's $34B, not 40"
        rejected = pl.col("group").is_in(["rejected", "quoted"])
        loose = rejected | pl.col("_inherited") | pl.col("_decimal")
        plausible = plausible & (pl.col("text").str.contains(rule.value) | loose)
    return long.filter(plausible).drop("_inherited", "_decimal", "_said", strict=False)


def _scaled_by_the_post(long: pl.DataFrame, frame: pl.DataFrame, rule: ClaimRules) -> pl.DataFrame:
    """Bare numbers below the claim's bounds, in a post that writes a scale elsewhere, read at
    that scale ("c'est 34 milliards, pas 40": 40 milliards; "pas 40 milliards. C'est 34.")."""
    scales = frame.select("post_uid", scale_of(pl.col(_M)).alias("_scale"))
    bare = (pl.col("value") < rule.minimum) & ~pl.col("text").str.contains(rule.value)
    inherited = bare & (pl.col("_scale") > 1)
    return (
        long.join(scales, on="post_uid", how="left")
        .with_columns(
            pl.when(inherited).then(pl.col("value") * pl.col("_scale")).otherwise("value"),
            inherited.fill_null(False).alias("_inherited"),
        )
        .drop("_scale")
    )


# between two values offered: "4 or 5", "4, 5", "4/5", "between 20 and 25%" ("10,000" is one)
_BETWEEN_TWO = r"(?:\s*,\s+|\s*/\s*|\s+(?i:or|ou|and|et)\s+)"


def _runs_of(patterns: list[str]) -> str:
    """The first run of two or more of `patterns` close together in a sentence (the list named)."""
    either = "|".join(patterns) or r"[^\s\S]"
    return rf"((?:{either})(?:[^.!?\n]{{0,40}}?(?:{either}))+)"


def _value_features(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """Per post: the values offered by group, places listed, parts summed, two values offered."""
    num = language.numbers.token
    # (a percentage's second value may go without its sign: "2.75 or 3 now?")
    second = num if rule.kind in ("count", "percent") else f"(?:{rule.value})"
    places = [
        pl.col(_U).str.contains(rf"{place}(?:\s*[^\s?]|\s*$)").cast(pl.Int64)
        for place in rule.places
    ]
    return frame.select(
        "post_uid",
        pl.col(_U).str.contains(rf"{num}{_BETWEEN_TWO}{second}").alias("_two"),
        (pl.sum_horizontal(places) if places else pl.lit(0, pl.Int64)).alias("_places"),
        pl.col(_U).str.extract(_runs_of(rule.places)).alias("_places_text"),
        _parts_sum(rule, language).alias("_parts"),
        pl.col(_U).str.extract(_runs_of(rule.parts)).alias("_parts_text"),
    )


def _numbered_parts(rule: ClaimRules, language: Language) -> list[str]:
    """A number counting one of the claim's parts ("4 consulates"), one regex per part."""
    num = language.numbers.token
    return [rf"({num})(?:{_SPACE}{WORD})?{_SPACE}{part}" for part in rule.parts]


def _parts_sum(rule: ClaimRules, language: Language) -> pl.Expr:
    """Σ parts ("the embassy and four consulates" = 1 + 4) when at least one part has a number."""
    if not rule.parts:
        return pl.lit(None, pl.Float64)
    counts, numbered = [], []
    for part, numbered_part in zip(rule.parts, _numbered_parts(rule, language), strict=True):
        value = _number(pl.col(_U).str.extract(numbered_part), language)
        counts.append(pl.coalesce(value, pl.col(_U).str.contains(part).cast(pl.Float64)))
        numbered.append(value.is_not_null())
    return pl.when(pl.any_horizontal(numbered)).then(pl.sum_horizontal(counts))


def _one(values: str) -> pl.Expr:
    return pl.col(values).list.len() == 1


def _has(values: pl.Expr, value: float | None) -> pl.Expr:
    return values.list.contains(value) if value is not None else pl.lit(False)


def _variant(rule: ClaimRules) -> tuple[pl.Expr, pl.Expr]:
    """(value, where it came from), by the order of the module's rule 4."""
    # A correction or a denial asserts only what it says outside its questions; a denial rejects
    # what it asks about ("5 ICE stations in Canada? Fake." denies 5).
    settled = pl.col("stance").is_in(["corrects", "denies"])
    asserted = pl.when(settled).then(pl.col("_plain")).otherwise(pl.col("_asserted"))
    rejected = (
        pl.when(pl.col("stance") == "denies")
        .then(pl.concat_list("_rejected", "_asked").list.unique().list.sort())
        .otherwise(pl.col("_rejected"))
    )
    in_range = pl.col("_places").is_between(max(rule.minimum, 3), rule.maximum)
    parts_ok = pl.col("_parts").is_between(rule.minimum, rule.maximum)
    offered = pl.concat_list("_total", "_plain")
    verified = rule.verified
    # an authority's or a fact check's correction quoting the verified value quotes the
    # authority ("« Il s'agit de près de 10 000 agents », a précisé une porte-parole")
    sourced = pl.col("_kind").is_in(["authority", "factcheck"]) & _has(pl.col("_quoted"), verified)
    states_verified = (pl.col("stance") == "corrects") & (_has(offered, verified) | sourced)
    steps: list[tuple[pl.Expr, pl.Expr | None, str | None]] = [
        (states_verified, pl.lit(verified, pl.Float64), "verified"),
        (_one("_total"), pl.col("_total").list.first(), "total"),
        (pl.col("_two"), None, None),
        # the verified value said plainly beside the one said of the subject: an older figure
        # set against it ("TMX: $5.4 billion promised, $34 billion delivered")
        (
            (asserted.list.len() == 1)
            & _has(pl.col("_loose"), rule.verified)
            & (pl.col("stance") != "questions"),
            pl.lit(rule.verified, pl.Float64),
            "asserted",
        ),
        (asserted.list.len() == 1, asserted.list.first(), "asserted"),
        # Several values, the verified one among them: the others are context (an older
        # estimate, another figure) set against it ("$5.4B promised, $34B delivered").
        (
            (asserted.list.len() > 1)
            & _has(asserted, rule.verified)
            & (pl.col("stance") != "questions"),
            pl.lit(rule.verified, pl.Float64),
            "asserted",
        ),
        (asserted.list.len() > 1, None, None),
        (in_range, pl.col("_places").cast(pl.Float64), "places"),
        (parts_ok, pl.col("_parts"), "parts"),
        # an amount of the claim's kind said plainly, bound to nothing: the only one in the post
        (pl.col("_loose").list.len() == 1, pl.col("_loose").list.first(), "loose"),
        (
            (pl.col("stance") != "corrects") & (rejected.list.len() == 1),
            rejected.list.first(),
            "rejected",
        ),
    ]
    value: pl.Expr = pl.lit(None, pl.Float64)
    origin: pl.Expr = pl.lit(None, pl.String)
    for condition, then, where in reversed(steps):
        value = pl.when(condition).then(then if then is not None else None).otherwise(value)
        origin = pl.when(condition).then(pl.lit(where, pl.String)).otherwise(origin)
    return value, origin


# --- 5. stance ------------------------------------------------------------------------------------


def _question(rule: ClaimRules, language: Language) -> pl.Expr:
    """A genuine question about the claim (rule 5 of the module)."""
    text = pl.col(_T)
    opener = rf"^\W*(?:{WORD},\s*)?(?:{language.interrogatives})"
    sentence = pl.element()
    single = sentence.str.contains(r"[^?!]\?$|^\?$")  # "??" and "?!" are outrage, not asking
    about = sentence.str.contains(rule.subject) | sentence.str.contains(rule.object)
    asking = text.str.extract_all(_ASKED).list.eval(
        single & (about | sentence.str.contains(opener))
    ).list.any().fill_null(False) | (
        text.str.contains(r"\?") & text.str.contains(language.questions)
    )
    answered = text.str.contains(
        rf"\?[ \t]*\n?[ \t]*#?(?:{language.numbers.bare_token})[ \t]*(?:[.!\n]|$)"
    )  # "How many ICE stations does Canada host? 5."
    rhetorical = text.str.contains(language.rhetorical)
    # "TMX a coûté 34 milliards? Ça m'étonne pas.": the claim said back with a "?", then a
    # comment on it, is an echo, not a question (one "?", no interrogative, no alternatives,
    # no inversion "peut-il", no question cue)
    alternatives = r"(?i:(?-u:\b)(?:or|ou)(?-u:\b))|-(?:t-)?(?:il|elle|ils|elles|on)(?-u:\b)"
    plain_ask = ~sentence.str.contains(opener) & ~sentence.str.contains(alternatives)
    echoed = (
        text.str.extract_all(_ASKED).list.eval(plain_ask).list.all()
        & text.str.contains(r"[^?!]\?[ \t]*[^?\s][^?]*$")
        & (text.str.count_matches(r"\?") == 1)
        & ~text.str.contains(language.questions)
    ).fill_null(False)
    asking = asking & ~echoed
    return text.str.contains(language.doubt) | (asking & ~rhetorical & ~answered)


def _negated_claim(rule: ClaimRules, language: Language) -> pl.Expr:
    """The claim negated: "no ICE stations", "not 5 ICE offices", "aucun bureau", "not armed"."""
    num = language.numbers.token
    quote = r"(?:[\"“«']\s*)?"
    return pl.col(_M).str.contains(
        rf"{language.negations}\s+{quote}(?:{num}\s+)?{quote}(?:{WORD}\s+)?{quote}{rule.object}"
    )


def _denial(rule: ClaimRules, language: Language) -> pl.Expr:
    """A rejection of the claim: a denial word said (not asked), or mockery or a negation of the
    claim with no value asserted."""
    nothing_asserted = pl.col("_asserted").list.len().fill_null(0) == 0
    said = pl.col(_T).str.replace_all(_ASKED, " ")  # "c'est vrai ou c'est bullshit?" asks
    # a value of the claim's kind negated, and none put in its place: "the deficit was not $40B"
    value = language.numbers.token if rule.kind == "count" else rule.value
    negated = (
        pl.col(_M)
        .str.replace_all(_ASKED, " ")
        .str.contains(rf"{language.negations}{_NEGATED_GAP}(?:{value})")
    )
    rejected = said.str.contains(language.mockery) | _negated_claim(rule, language)
    if rule.quantity:
        rejected = rejected | negated
    return said.str.contains(language.denials) | (nothing_asserted & rejected)


def _pushback(rule: ClaimRules, language: Language) -> pl.Expr:
    """The post answers the claim: it rejects, negates or quotes it, or says it is correcting."""
    quote = pl.col(_Q)
    # quoting the claim pushes back; quoting the facts ("« près de 10 000 agents »") does not
    quoted = (quote.str.contains(rule.subject) | quote.str.contains(rule.object)) & ~(
        quote.str.contains(rule.facts)
    )
    return (
        pl.col(_T).str.contains(language.corrective)
        | pl.col(_T).str.contains(language.denials)
        | _negated_claim(rule, language)
        | pl.col(_M).str.contains(
            rf"{language.negations}\s+{_OPENING_QUOTE}{language.numbers.token}"
        )
        | quoted
    )


def _kind(authorities: list[str], publishers: list[str]) -> pl.Expr:
    """ "authority" for an authority's account ("source:handle", lower-cased), "factcheck" for a
    fact-check publisher's post or any post of source factcheck; null otherwise."""
    account = pl.concat_str(
        pl.col("source"), pl.lit(":"), pl.col("author_handle")
    ).str.to_lowercase()
    publisher = pl.col("author_handle").str.to_lowercase().str.replace_all(" ", "", literal=True)
    return (
        pl.when(account.is_in(authorities))
        .then(pl.lit("authority"))
        .when((pl.col("source") == "factcheck") | publisher.is_in(publishers))
        .then(pl.lit("factcheck"))
    )


def _other_value(rule: ClaimRules, language: Language) -> pl.Expr:
    """Whether the post names a plausible value other than the verified one ("the 50% thing
    going around"), or the claim has no verified value."""
    if rule.verified is None:
        return pl.lit(True)
    if rule.kind == "count":  # a bare number is anything: only those counting the claim's units
        values = pl.concat_list("_total", "_asserted", "_asked", "_rejected")
    else:
        typed = pl.col(_M).str.extract_all(rule.value)
        values = typed.list.eval(_number(pl.element(), language))
    other = pl.element().is_between(rule.minimum, rule.maximum) & (pl.element() != rule.verified)
    return values.list.eval(other).list.any().fill_null(False)


def _value_corrected(rule: ClaimRules, language: Language, answering: pl.Expr) -> pl.Expr:
    """The verified value said against another one: rejecting it ("c'est 25 %, pas 10"), or
    `answering` (pushing back) where another value is named ("I wrote $54M.
    The Auditor General's figure is $59.5M"). The other way round ("it's 4, not 5") asserts 4."""
    if rule.verified is None:
        return pl.lit(False)
    stated = _has(pl.concat_list("_total", "_plain", "_loose"), rule.verified)
    # rejected, or asked about and answered ("ArriveCAN a coûté 60 M$? Non, 59,5 M$")
    others = pl.concat_list("_rejected", "_asked")
    rejected = others.list.eval(pl.element() != rule.verified).list.any()
    return (stated & (rejected | (answering & _other_value(rule, language)))).fill_null(False)


def _stance(rule: ClaimRules, language: Language) -> list[pl.Expr]:
    question = _question(rule, language)
    kind = _kind(rule.authorities, rule.factcheck_publishers)
    text = pl.col(_T)
    pushback = _pushback(rule, language)
    attributed = text.str.contains(language.attribution)  # relayed with the official answer
    # Pushing back with the facts corrects when there is something else to correct: the framing,
    # or another value; with the verified number alone, it asserts or rejects that number.
    something_else = text.str.contains(rule.framing) | _other_value(rule, language)
    restated = text.str.contains(rule.facts) & something_else
    answers = (
        text.str.contains(rule.phrases)
        | (restated & pushback)
        | _value_corrected(rule, language, pushback)
    )
    # A report relaying the facts answers the claim ("HSI staff at the embassy", not "ICE
    # stations"); relaying only the verified number, it relays the announcement: it asserts.
    relayed = (text.str.contains(rule.framing) | _negated_claim(rule, language)) & attributed
    community = (answers | relayed) & ~question
    # An authority corrects when it answers the claim; stating the value, it is the origin.
    states_against = text.str.contains(rule.facts) & text.str.contains(language.negations)
    official = (kind == "authority") & (pushback | answers | states_against)
    corrects = official | (kind == "factcheck") | community
    stance = (
        pl.when(corrects)
        .then(pl.lit("corrects"))
        .when(_denial(rule, language))
        .then(pl.lit("denies"))
        .when(question)
        .then(pl.lit("questions"))
        .otherwise(pl.lit("asserts"))
    )
    # A report of an authority's answer ("a spokesperson for Public Safety Canada said the
    # figure is false") is the authority's correction, wherever it appeared.
    reported = text.str.contains(rule.authority_names) & attributed
    who = pl.coalesce(
        pl.when(kind.is_not_null()).then(kind),
        pl.when(reported).then(pl.lit("authority")),
        pl.lit("community"),
    )
    correction = pl.when(stance == "corrects").then(who)
    return [stance.alias("stance"), correction.alias("_kind")]


# --- the claim ------------------------------------------------------------------------------------


_VALUE_GROUPS = ("total", "asserted", "plain", "asked", "rejected", "quoted", "loose")


# the words between a value and what it is said of, in English and French
_OF_WORDS = "of|on|for|in|de|des|du|sur|pour|en"
_ARTICLES = "the|all|le|la|les|un|une|tous|toutes"


def _unrelated_masked(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """Values said of one of the claim's `unrelated` things ("the 50% steel tariff", "25 % sur
    l'acier") masked in every text values are read from; `_unrelated` says whether any was."""
    if rule.unrelated is None:
        return frame.with_columns(pl.lit(False).alias("_unrelated"))
    value = language.numbers.token if rule.kind == "count" else rule.value
    gap = r"[^A-Za-z0-9.!?\n,;:()]+"  # within a clause
    near = rf"(?:{gap}[A-Za-z][A-Za-z'&_-]*){{0,3}}?{gap}"  # words, never another number
    # a value before the thing it is said of: "25% tariffs", "50% on steel", "25 % sur l'acier"
    # (not "2.75% vs Fed", "2,75 % pis mon hypothèque": the value of something else, beside it)
    # ("a 50% tariff on steel": a word between only before "of", "on", "sur"...)
    of = (
        rf"(?:[ \t]+(?:[A-Za-z][A-Za-z'-]*[ \t]+)?(?i:{_OF_WORDS})(?-u:\b))?[ \t]*"
        rf"(?:(?i:{_ARTICLES})[ \t]+|(?i:[ld]'))?"
    )
    labelled = rf"(?:{rule.unrelated})[ \t]*:[ \t]*(?:{value})"  # "counter-tariffs: 25%"
    bound = rf"(?:{value}){of}(?:{rule.unrelated})|(?:{rule.unrelated}){near}(?:{value})|{labelled}"
    return frame.with_columns(
        pl.col(_U).str.contains(bound).alias("_unrelated"),
        *(pl.col(c).str.replace_all(bound, " ~ ") for c in (_M, _U, _Q, _PLAIN, _ASK)),
    )


_PERIOD_WORDS = 5  # words between a value and the year it is said with, at most


def _other_periods(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """(post_uid, value): values said with a year the claim's title does not name ("a deficit
    of $46.8 billion for 2024-25" of a claim on 2023-24, "the 2026 target is 380,000" of one on
    2025), within a clause and two words. None for a claim whose title names no year."""
    empty = pl.DataFrame(schema={"post_uid": pl.String, "value": pl.Float64})
    if not rule.years:
        return empty
    value = language.numbers.token if rule.kind == "count" else rule.value
    gap = r"[^A-Za-z0-9.!?\n,;:()]+"
    near = rf"(?:{gap}[A-Za-z][A-Za-z'&_-]*){{0,{_PERIOD_WORDS}}}?{gap}"
    said = [(rf"(?:{value}){near}{YEARS}", "first"), (rf"{YEARS}{near}(?:{value})", "last")]
    # words of one clause, none of them joining another thing to the value ("$61.9B in 2023-24
    # and $48.3B in 2024-25", "395 000 ou j'mélange avec 2026")
    joined = r"(?i)(?-u:\b)(?:or|ou|and|et|vs|versus|not|pas|than|que)(?-u:\b)"
    found = []
    for pattern, which in said:
        pairs = frame.select("post_uid", pl.col(_T).str.extract_all(pattern).alias("_said"))
        pairs = pairs.explode("_said").drop_nulls("_said")
        pairs = pairs.filter(~pl.col("_said").str.contains(joined))
        amounts = pl.col("_said").str.extract_all(value)
        amount = amounts.list.first() if which == "first" else amounts.list.last()
        start = pl.col("_said").str.extract(YEARS, 1).cast(pl.Int64)
        end_written = pl.col("_said").str.extract(YEARS, 2)
        short_end = start // 100 * 100 + end_written.cast(pl.Int64)
        end = (
            pl.when(end_written.str.len_chars() == 4)
            .then(end_written.cast(pl.Int64))
            .when(short_end < start)
            .then(short_end + 100)  # "1999-00"
            .otherwise(short_end)
        )
        years = list(rule.years)
        foreign = ~start.is_in(years) | (end.is_not_null() & ~end.is_in(years))
        found.append(
            pairs.filter(foreign).select("post_uid", _number(amount, language).alias("value"))
        )
    plausible = pl.col("value").is_between(rule.minimum, rule.maximum)
    return pl.concat(found).filter(plausible).unique() if found else empty


def _named_texts(
    texts: pl.DataFrame, rules: list[ClaimRules], language: Language
) -> dict[str, pl.Series]:
    """Claim id -> the post_uids of `texts` that name the claim in its context (`_named`,
    `_placed`: tests of the text alone, before any reading of its values)."""
    subject_texts: dict[tuple[object, ...], pl.DataFrame] = {}
    named = {}
    for rule in rules:
        key = (tuple(rule.subject_acronyms), rule.subject_expansions)
        if key not in subject_texts:
            subject_texts[key] = _with_subject_text(texts.select("post_uid", _T, "_topics"), rule)
        naming = subject_texts[key].filter(_named(rule, language))
        named[rule.claim_id] = _placed(naming, rule, language).get_column("post_uid")
    return named


def _other_places(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """(post_uid, value): values said of a known place outside the claim's context, right after
    it or after a preposition ("La France compte 68 millions d'habitants", "Australia just
    passed 27 million", "9 millions au Québec" of a claim on Canada)."""
    value = language.numbers.token if rule.kind == "count" else rule.value
    near = r"(?:[ \t]+[A-Za-z][A-Za-z'-]*){0,2}?[ \t]+"  # two words at most, in one clause
    place = rf"(?:{language.prepositions})[ \t]+(?:(?:{language.articles})[ \t]*)?"
    said = [
        (rf"({NAME}){near}(?:{value})", "last"),
        (rf"(?:{value})[ \t]+{place}({NAME})", "first"),
    ]
    found = []
    for pattern, which in said:
        pairs = frame.select("post_uid", pl.col(_T).str.extract_all(pattern).alias("_said"))
        pairs = pairs.explode("_said").drop_nulls("_said")
        amounts = pl.col("_said").str.extract_all(value)
        amount = amounts.list.last() if which == "last" else amounts.list.first()
        name = pl.col("_said").str.extract(f"^({NAME})" if which == "last" else f"({NAME})$")
        found.append(
            pairs.select(
                "post_uid",
                _number(amount, language).alias("value"),
                name.alias("_place"),
                pl.col("_said"),
            ).filter(~pl.col("_place").str.contains(rule.context).fill_null(True))
        )
    parts = _name_parts(pl.col("_place")).alias("_name")
    prefixes = pl.concat(found).select("post_uid", "value", parts)
    known = prefixes.explode("_name").join(_places(), on="_name", how="semi")
    return known.select("post_uid", "value").unique()


def _claim_mentions(frame: pl.DataFrame, rule: ClaimRules, language: Language) -> pl.DataFrame:
    """The claim's mentions in `frame`: the texts that name it in its context, read for its
    kind, with its subject's `_st`."""
    if rule.quantity:
        frame = _unrelated_masked(frame, rule, language)
        elsewhen = pl.concat(
            [_other_periods(frame, rule, language), _other_places(frame, rule, language)]
        ).unique()
        long = _candidates_long(frame, rule, language).join(
            elsewhen, on=["post_uid", "value"], how="anti"
        )
        frame = frame.with_columns(
            pl.col("post_uid").is_in(elsewhen.get_column("post_uid").implode()).alias("_elsewhere")
        )
        grouped = long.group_by("post_uid").agg(
            pl.col("value").filter(pl.col("group") == group).unique().sort().alias(f"_{group}")
            for group in _VALUE_GROUPS
        )
        frame = frame.join(_value_features(frame, rule, language), on="post_uid").join(
            grouped, on="post_uid", how="left"
        )
        frame = frame.with_columns(
            pl.col(f"_{g}").fill_null(pl.lit([], pl.List(pl.Float64))) for g in _VALUE_GROUPS
        ).with_columns(  # what it quotes, it holds at a distance, as what it negates
            pl.concat_list("_rejected", "_quoted").list.unique().list.sort().alias("_rejected")
        )
    else:
        long = pl.DataFrame(schema=_LONG_SCHEMA)
        frame = frame.with_columns(pl.lit([], pl.List(pl.Float64)).alias("_asserted"))
    # lazily, so that the tests the stance rules share (facts, negations) run once each
    frame = frame.lazy().with_columns(_stance(rule, language)).collect()
    if rule.quantity:
        value, origin = _variant(rule)
        frame = frame.with_columns(value.alias("_value"), origin.alias("_origin"))
        # a post whose values are all said of something else is about that thing
        # (one that corrects by saying where or when the other value is from is the claim's:
        # "the 5% is NATO's goal for 2035")
        other = pl.col("_unrelated") | (pl.col("_elsewhere") & (pl.col("stance") != "corrects"))
        frame = frame.filter(~other | pl.col("_value").is_not_null())
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.Float64).alias("_value"), pl.lit(None, pl.String).alias("_origin")
        )
    return _matched_text(frame, long, rule).select(
        "post_uid",
        pl.lit(rule.claim_id).alias("claim_id"),
        "variant",
        "variant_label",
        "unit",
        "stance",
        "_kind",
        "matched_text",
        "text",
        _T,
        _RAW,
    )


def _matched_text(frame: pl.DataFrame, long: pl.DataFrame, rule: ClaimRules) -> pl.DataFrame:
    """The text that gave the value (or, for a mention without one, that named the claim)."""
    texts = long.group_by("post_uid", "value").agg(pl.col("text").first().alias("_said"))
    joined = frame.join(
        texts, left_on=["post_uid", "_value"], right_on=["post_uid", "value"], how="left"
    )
    matched = (
        pl.when(pl.col("_origin") == "places")
        .then(pl.col("_places_text") if "_places_text" in frame.columns else None)
        .when(pl.col("_origin") == "parts")
        .then(pl.col("_parts_text") if "_parts_text" in frame.columns else None)
        .otherwise(pl.col("_said"))
    )
    joined = joined.with_columns(matched.alias("matched_text"))
    unmatched = joined.filter(pl.col("matched_text").is_null())  # named the claim, no value
    joined = pl.concat(
        [
            joined.filter(pl.col("matched_text").is_not_null()),
            unmatched.with_columns(_named_by(rule).alias("matched_text")),
        ]
    )
    value = pl.col("_value")
    return joined.with_columns(
        canonical(value).alias("variant"),
        label(value, rule.kind, rule.currency).alias("variant_label"),
        pl.when(value.is_not_null()).then(pl.lit(_unit(rule))).alias("unit"),
    )


def _unit(rule: ClaimRules) -> str:
    """What a variant's value is: "count", "percent", or a currency code ("CAD"; "money")."""
    return rule.currency or "money" if rule.kind == "money" else rule.kind


# --- spans ----------------------------------------------------------------------------------------


def _with_spans(mentions: pl.DataFrame) -> pl.DataFrame:
    """Where `matched_text` is in the post's text, in characters (null when it is in the title).

    The match was made in the folded text; the fold keeps offsets, so the same characters of the
    unfolded text give the original spelling, which is then looked up in `text`.
    """
    frame = mentions
    found = pl.col(_T).str.contains(pl.col("matched_text"), literal=True)
    start_in_t = pl.col(_T).str.split(pl.col("matched_text")).list.first().str.len_chars()
    length = pl.col("matched_text").str.len_chars()
    original = pl.when(found).then(pl.col(_RAW).str.slice(start_in_t, length))
    frame = frame.with_columns(original.fill_null(pl.col("matched_text")).alias("matched_text"))
    in_text = pl.col("text").str.contains(pl.col("matched_text"), literal=True)
    start = pl.col("text").str.split(pl.col("matched_text")).list.first().str.len_chars()
    return frame.with_columns(
        pl.when(in_text).then(start).cast(pl.Int32).alias("span_start"),
        pl.when(in_text).then(start + length).cast(pl.Int32).alias("span_end"),
    )
