"""Claim and language rules compiled to the regexes the engine runs over whole columns.

Everything here runs once per config, never per post. Terms follow the matching rules of topic
matching (`collectors.matching.phrase_pattern`): whole words, acronyms in capitals matched
case-sensitively, other words in any case, accents and typographic apostrophes folded.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from claims.quantities import (
    AMOUNT,
    COMPANIONED_SCALES,
    NOT_AFTER_DIGITS,
    SCALE_WORDS,
    SCALE_WORDS_TRIGGER,
    Kind,
    marked_amount,
    typed_amount,
)
from collectors.matching import ASCII_SEPARATOR, SEPARATOR, fold, phrase_pattern
from config import Claim, Lexicon

# A word between two terms: letters, digits and the marks words carry ("l'ICE", "#ICE", "U.S.").
# ASCII classes: the text is folded (accents off), and Unicode classes under a bounded repetition
# ({0,8} words) kept Rust's regex off its fast path (measured 0.28 s against 0.008 s per million
# posts); a letter left outside ASCII (ø, Greek) only splits a word in two.
WORD = r"(?:(?:[A-Z]\.){2,}|[#@]?[A-Za-z0-9][A-Za-z0-9'&_-]*)"
# What may separate two words of one sentence: not a sentence end (. ! ? or a line break).
GAP = r"[^A-Za-z0-9.!?\n]+"
ASCII_BOUNDARY = r"(?-u:\b)"
# A capitalised name (a place, when it follows "in", "at", "à"...).
NAME = r"\p{Lu}\p{Ll}[\p{L}'-]*(?:[ \t]+\p{Lu}\p{Ll}[\p{L}'-]*)*"


# A name with a number in it ("F-35", "CF-18s", "COVID-19", "G7", "Bill C-69"): its digits are
# no value. Texts and terms are both read with those digits as capitals ("F-35" as "F-DF"): one
# character for one, so offsets hold, and a term still matches the text it matched ("x5" is a
# times sign, a currency code before digits an amount: neither is a name).
_NAMED_NUMBER = r"(?:[A-WYZa-wyz]|[A-Za-z]{2,5})-?[0-9]+[A-Za-z]*"
_NAMED_NUMBER_RE = re.compile(rf"\b{_NAMED_NUMBER}\b", re.ASCII)
_AS_CAPITALS = str.maketrans("0123456789", "ABCDEFGHIJ")
_CURRENCY_CODES = {"cad", "usd", "eur", "gbp", "aud", "can", "us", "ca"}


def _as_name(found: str) -> str:
    letters = re.match(r"[A-Za-z]+", found)
    if letters and letters.group().lower() in _CURRENCY_CODES:
        return found
    return found.translate(_AS_CAPITALS)


def masked_names(text: str) -> str:
    """`text` with the digits of its names as capitals (`_NAMED_NUMBER`)."""
    return _NAMED_NUMBER_RE.sub(lambda found: _as_name(found.group()), text)


_NAMED_NUMBER_IN_TEXT = rf"(?-u:\b){_NAMED_NUMBER}(?-u:\b)"


def names_masked(texts: pl.Series) -> pl.Series:
    """`masked_names` over a column: only the rows holding a name are read again, their few
    distinct names found once and replaced in one pass."""
    rows = texts.str.contains(_NAMED_NUMBER_IN_TEXT).fill_null(False).arg_true()
    if rows.is_empty():
        return texts
    holding = texts.gather(rows)
    names = holding.str.extract_all(_NAMED_NUMBER_IN_TEXT).explode().drop_nulls()
    found = sorted(set(names.to_list()), key=len, reverse=True)  # "F-35A" before "F-35"
    kept = {name: _as_name(name) for name in found}
    kept = {name: mask for name, mask in kept.items() if mask != name}
    if not kept:
        return texts
    masked = holding.str.replace_many(list(kept), list(kept.values()))
    return texts.scatter(rows, masked)


def names_in(terms: Iterable[str]) -> bool:
    """Whether any of `terms` holds a name with a number (so texts are matched names masked)."""
    return any(masked_names(fold(term)) != fold(term) for term in terms)


def term_pattern(term: str) -> str:
    """A term's regex (topic matching's rules), with ASCII word boundaries.

    The text is folded first (accents off), so nearly every letter left is ASCII; an ASCII word
    boundary keeps Rust's lazy DFA on, where a Unicode one makes it fall back to a slower engine on
    any text with an emoji or a typographic quote (measured 10-25x slower).
    """
    pattern = phrase_pattern(masked_names(term)).replace(SEPARATOR, ASCII_SEPARATOR)
    return pattern.replace("\\b", ASCII_BOUNDARY)


def any_of(terms: Iterable[str]) -> str:
    """One regex matching any of `terms` by the term rules; never matches when there are none."""
    patterns = list(dict.fromkeys(term_pattern(term) for term in terms if fold(term).strip()))
    return "(?:" + "|".join(patterns) + ")" if patterns else r"(?:[^\s\S])"


def all_terms(table: Mapping[str, list[str]]) -> list[str]:
    """The terms of every language of a per-language table (posts are often mislabelled)."""
    return list(dict.fromkeys(term for terms in table.values() for term in terms))


def acronyms(terms: Iterable[str]) -> list[str]:
    """The acronyms written in `terms` ("ICE" in "l'ICE", "HSI")."""
    found = (run for term in terms for run in re.findall(r"[^\W\d_]+", term))
    return list(dict.fromkeys(run for run in found if len(run) >= 2 and run.isupper()))


def initials_pattern(acronym: str) -> str:
    """Words whose initials spell `acronym`, small words between ("In Case of Emergency")."""
    word = r"[\p{L}'-]*"
    between = r"[\s-]+(?:[\p{L}']{1,4}[\s-]+)?"
    letters = [re.escape(letter) + word for letter in acronym]
    return "(?i:" + between.join(letters) + ")"


def _bounded(pattern: str) -> str:
    return f"(?:{ASCII_BOUNDARY}{pattern}{ASCII_BOUNDARY})"


@dataclass(frozen=True)
class Numbers:
    """How numbers are written in the claim's languages."""

    token: str  # any number: an amount in digits (claims.quantities.AMOUNT) or a number word
    bare_token: str  # a number standing alone: an amount or a number word worth more than one
    words: dict[str, int]  # folded, lower-cased number word -> value
    # per language, number words the word list cannot read alone: texts holding them are read
    # by text2num in that language
    triggers: dict[str, str]
    languages: tuple[str, ...]

    @classmethod
    def of(cls, lexicons: Mapping[str, Lexicon]) -> Numbers:
        words: dict[str, int] = {}
        for lexicon in lexicons.values():
            words.update({fold(word).lower(): value for word, value in lexicon.numbers.items()})
        by_length = sorted(words, key=len, reverse=True)  # "a dozen" before "a"
        spelled = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in by_length)
        plural = "|".join(
            re.escape(word).replace(r"\ ", r"\s+") for word in by_length if words[word] > 1
        )
        triggers = {
            language: _language_trigger(language, [fold(w).lower() for w in lexicon.numbers])
            for language, lexicon in lexicons.items()
        }
        return cls(
            token=rf"(?:{AMOUNT}|{_bounded(f'(?i:{spelled})')})" if spelled else AMOUNT,
            bare_token=rf"(?:{AMOUNT}|{_bounded(f'(?i:{plural})')})" if plural else AMOUNT,
            words=words,
            triggers=triggers,
            languages=tuple(lexicons),
        )


def _language_trigger(language: str, words: list[str]) -> str:
    """`_trigger` for one language: its scales that need a companion only beside one (a number
    word or an article before, a number word after), its words that are numbers alone only
    where no digits come before them."""
    scales = SCALE_WORDS.get(language)
    if scales is None:
        return _trigger(SCALE_WORDS_TRIGGER, words)
    companioned = COMPANIONED_SCALES.get(language, "")
    lone = NOT_AFTER_DIGITS.get(language, "")
    alone = "|".join(
        w for w in scales.split("|") if w not in companioned.split("|") + lone.split("|")
    )
    small = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if " " not in w)
    before = f"{small}|a|an|one|un|une" if small else "a|an|one|un|une"
    parts = [_trigger(alone, words)]
    if companioned:
        near = rf"(?:{before})[\s-]+(?:(?:and|et)[\s-]+)?(?:{companioned})"
        after = rf"(?:{companioned})[\s-]+(?:(?:and|et)[\s-]+)?(?:{small})" if small else ""
        parts.append(_bounded("(?i:" + "|".join(p for p in (near, after) if p) + ")"))
    if lone:
        parts.append(rf"(?:^|[^0-9 \t])[ \t]*{_bounded(f'(?i:{lone})')}")
    return "|".join(parts)


def _trigger(scales: str, words: list[str]) -> str:
    """What text2num reads that the word list does not: scales, numbers of several words."""
    small = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if " " not in w)
    compound = rf"(?:{small})[\s-]+(?:(?:and|et|point|virgule)[\s-]+)?(?:{small})" if small else ""
    return _bounded("(?i:" + "|".join(t for t in (scales, compound) if t) + ")")


@dataclass(frozen=True)
class Language:
    """The stance rules of every language, merged (a post is read with all of them)."""

    negations: str
    denials: str
    questions: str
    doubt: str
    interrogatives: str
    rhetorical: str
    reported: str
    reported_after: str
    mockery: str
    corrective: str
    attribution: str
    totals_before: str
    totals_after: str
    prepositions: str
    articles: str
    not_places: str
    numbers: Numbers

    @classmethod
    def of(cls, lexicons: Mapping[str, Lexicon]) -> Language:
        def merged(field: str) -> str:
            return any_of(term for lexicon in lexicons.values() for term in getattr(lexicon, field))

        return cls(
            negations=merged("negations"),
            denials=merged("denials"),
            questions=merged("questions"),
            doubt=merged("doubt"),
            interrogatives=merged("interrogatives"),
            rhetorical=merged("rhetorical"),
            reported=merged("reported"),
            reported_after=merged("reported_after"),
            mockery=merged("mockery"),
            corrective=merged("corrective"),
            attribution=merged("attribution"),
            totals_before=merged("totals_before"),
            totals_after=merged("totals_after"),
            prepositions=merged("prepositions"),
            articles=merged("articles"),
            not_places=merged("not_places"),
            numbers=Numbers.of(lexicons),
        )


# A year, or a span of years as fiscal years are written: "2023", "2023-24", "2023-2024", "2023/24".
YEARS = r"(?-u:\b)((?:19|20)\d{2})(?:[ \t]*[-\u2013^/][ \t]*((?:19|20)?\d{2}))?(?-u:\b)"


def claim_years(title: str) -> frozenset[int]:
    """Every year the periods written in `title` cover ("deficit for 2023-24": 2023 and 2024)."""
    years: set[int] = set()
    for first, last in re.findall(YEARS.replace("(?-u:\\b)", r"\b"), title):
        start = int(first)
        end = _year_after(start, last) if last else start
        years.update(range(start, max(start, end) + 1))
    return frozenset(years)


def _year_after(start: int, written: str) -> int:
    """The end of a span whose end year may be written with two digits ("2023-24": 2024)."""
    if len(written) == 4:
        return int(written)
    end = start // 100 * 100 + int(written)
    return end if end >= start else end + 100  # "1999-00"


@dataclass(frozen=True)
class ClaimRules:
    """One claim's terms as regexes."""

    claim_id: str
    topic: str
    subject_terms: list[str]
    object_terms: list[str]
    anchor_terms: list[str]  # literal words one of which every mention contains
    subject: str
    object: str
    context: str
    elsewhere: str
    unrelated: str | None  # other things the claim's words measure ("steel", "counter-tariffs")
    facts: str  # the verified facts (phrases, or words together in one sentence)
    framing: str  # the facts in other words than the claim's (no number, no object term)
    phrases: str  # phrases that correct the claim on their own
    window: int
    subject_acronyms: list[str]
    subject_expansions: str  # the subject's spelled-out names ("Immigration and Customs ...")
    units: str  # what a number counts: the object terms and the quantity's units
    parts: list[str]  # one regex per part noun
    places: list[str]  # one regex per place (any of its spellings)
    quantity: bool
    kind: Kind
    currency: str | None
    minimum: float
    maximum: float
    value: str  # a value of the claim's kind (claims.quantities.typed_amount)
    marked: str  # one that says its kind by itself (claims.quantities.marked_amount)
    authorities: list[str]  # "source:handle", lower-cased
    authority_names: str  # how a report names them: their names, aliases and handles
    verified: float | None
    factcheck_publishers: list[str]  # lower-cased, without spaces
    years: frozenset[int]  # the years the claim's title names ("in 2023", "2023-24"), or none

    @classmethod
    def of(cls, claim_id: str, claim: Claim) -> ClaimRules:
        subject_terms = all_terms(claim.subject)
        quantity = claim.quantity
        context = all_terms(claim.context)
        kind = quantity.kind if quantity else "count"
        named = [term for term in subject_terms if names_in([term])]  # "F-35": names a thing
        minimum, maximum = quantity.bounds() if quantity else (0.0, 0.0)
        return cls(
            claim_id=claim_id,
            topic=claim.topic,
            subject_terms=subject_terms,
            object_terms=all_terms(claim.object),
            # an amount of money or a percentage said of the object names the claim by itself
            anchor_terms=subject_terms + (all_terms(claim.object) if kind != "count" else []),
            subject=_with_joined_hashtags(subject_terms),
            object=any_of(all_terms(claim.object)),
            context=_with_hashtags(context),
            elsewhere=any_of(all_terms(claim.elsewhere)),
            unrelated=any_of(all_terms(claim.unrelated)) if all_terms(claim.unrelated) else None,
            facts=_facts(claim.corrections.facts),
            framing=_facts(claim.corrections.facts, restating=all_terms(claim.object)),
            phrases=any_of(all_terms(claim.corrections.phrases)),
            window=claim.window,
            subject_acronyms=acronyms(subject_terms),
            subject_expansions=any_of(t for t in subject_terms if not acronyms([t])),
            # a name with a number ("F-35") is a thing a number before it counts ("88 F-35s")
            units=any_of(
                all_terms(claim.object)
                + (all_terms(quantity.units) if quantity else [])
                + [form for name in named for form in (name, name + "s")]
            ),
            parts=[term_pattern(t) for t in all_terms(quantity.parts)] if quantity else [],
            places=[any_of(spellings) for spellings in quantity.places] if quantity else [],
            quantity=quantity is not None,
            kind=kind,
            currency=quantity.currency if quantity else None,
            minimum=minimum,
            maximum=maximum,
            value=typed_amount(kind),
            marked=marked_amount(kind),
            authorities=[f"{a.source}:{a.handle}".lower() for a in claim.corrections.authorities],
            authority_names=any_of(
                name
                for a in claim.corrections.authorities
                for name in [a.name, *a.aliases, a.handle]
                if name
            ),
            verified=float(quantity.verified)
            if quantity and quantity.verified is not None
            else None,
            # compared without case or spaces: the account AFPFactCheck is "AFP Fact Check"
            factcheck_publishers=[
                p.lower().replace(" ", "") for p in claim.corrections.factcheck_publishers
            ],
            years=claim_years(claim.title),
        )

    def anchor(self) -> str:
        """What every mention names: the subject, or (money, percent) the object."""
        return self.subject if self.kind == "count" else f"(?:{self.subject}|{self.object})"

    def link(self) -> str:
        """Subject and object within `window` words of each other, in one sentence, either order."""
        gap = rf"(?:{GAP}{WORD}){{0,{self.window}}}?{GAP}"
        return rf"(?:{self.subject}{gap}{self.object}|{self.object}{gap}{self.subject})"


def _facts(table: Mapping[str, list[str | list[str]]], restating: list[str] | None = None) -> str:
    """Facts as one regex: a phrase, or words that all appear in one sentence (any order); given
    the claim's object terms, only the facts that restate neither them nor a number."""
    claim_words = (
        re.compile("|".join([r"\d", *(rf"\b{re.escape(fold(t).lower())}\b" for t in restating)]))
        if restating is not None
        else None
    )
    alternatives = []
    for fact in dict.fromkeys(json.dumps(f) for facts in table.values() for f in facts):
        said = fold(" ".join(_words_of(json.loads(fact)))).lower()
        if claim_words and claim_words.search(said):
            continue
        words = json.loads(fact)
        if isinstance(words, str):
            alternatives.append(term_pattern(words))
            continue
        patterns = [term_pattern(word) for word in words]
        alternatives += [r"[^.!?\n]*?".join(order) for order in itertools.permutations(patterns)]
    return "(?:" + "|".join(alternatives) + ")" if alternatives else r"(?:[^\s\S])"


def _words_of(fact: str | list[str]) -> list[str]:
    return [fact] if isinstance(fact, str) else fact


def _with_joined_hashtags(terms: list[str]) -> str:
    """Terms, and those of several words also as a hashtag of them joined ("#BankofCanada")."""
    joined = ["".join(re.findall(r"[^\W_]+", masked_names(fold(term)))) for term in terms]
    tags = [re.escape(tag) for tag, term in zip(joined, terms, strict=True) if " " in term.strip()]
    pattern = any_of(terms)
    return f"(?:{pattern}|(?i:#(?:{'|'.join(tags)})\\w*))" if tags else pattern


def _with_hashtags(terms: list[str]) -> str:
    """Context terms, also inside a hashtag ("#ICEoutofCanada" names Canada)."""
    words = [masked_names(fold(t)) for t in terms if re.fullmatch(r"[\w'-]+", fold(t))]
    tags = "|".join(re.escape(word) for word in words)
    pattern = any_of(terms)
    return f"(?:{pattern}|(?i:#\\w*(?:{tags})))" if tags else pattern
