"""Quantities as people write them: amounts read from the folded text, as whole columns.

An *amount* is a number in digits with what it carries: thousands separators as each language
writes them ("10,000", "10 000" with any space, "10.000"), a decimal part ("1.3", and "1,3" when a
scale, a currency or a percent sign follows, as French writes it), a scale ("10k", "1.3M", "bn",
"thousand", "million", "milliard", "G$", "M$"), a currency (symbols, codes and words before or
after: "$", "C$", "US$", "CAD", "dollars", "€") and a percent sign or word ("%", "per cent",
"pour cent", "pct"). Number words ("ten thousand", "dix mille", "deux millions") are turned into
digits beforehand by text2num (`digitise`), in place, so that offsets in the text do not move.

A claim's `kind` (count, money, percent) says which amounts are its values; the amounts of the
other kinds are masked as noise around it (`other_kinds`). Values are Float64 and their canonical
form a plain decimal string ("10000", "1300000000", "2.5"), the `variant` of a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Literal

import polars as pl
from text_to_num import alpha2digit, find_numbers, text2num  # type: ignore[import-untyped]

Kind = Literal["count", "money", "percent"]

# A space inside an amount; the folded text has no-break and narrow no-break spaces made plain
# (`SPACES`), which keeps these patterns ASCII (a Unicode class under (?i) slows every search).
_SP = "[ \t]"
SPACES = {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " "}
# The decimal point of the folded text: a "." between digits becomes U+2024 (one dot leader) so
# that it never ends a sentence; both are read as a point.
DECIMAL_POINT = "\u2024"
_B = "(?-u:\\b)"
_INT = rf"(?:[0-9]{{1,3}}(?:[,.{DECIMAL_POINT} ][0-9]{{3}})+|[0-9]+)"
_POINT = rf"(?:[.{DECIMAL_POINT}][0-9]+)"
# a vulgar fraction after the whole part: "2¾%", "2 ¾ %", "1½ million"
_VULGAR_VALUES = {
    "¼": 0.25,
    "½": 0.5,
    "¾": 0.75,
    "⅓": 1 / 3,
    "⅔": 2 / 3,
    "⅛": 0.125,
    "⅜": 0.375,
    "⅝": 0.625,
    "⅞": 0.875,
    "⅕": 0.2,
    "⅖": 0.4,
    "⅗": 0.6,
    "⅘": 0.8,
}
_VULGAR = "[" + "".join(_VULGAR_VALUES) + "]"
_FRAC = rf"(?:{_SP}?{_VULGAR})"
_COMMA = r"(?:,[0-9]{1,3})"  # a decimal comma: only with a marker after it ("1,3 milliard")
# (informal: "100 mil", "59.5 mill", "40 bil", "34 bilion")
_SCALE_WORDS = (
    "thousands?|mille|millions?|milliards?|billions?|trillions?|mln|mn|bn|mds?|mrds?|tn"
    "|mill?|bill?|bill?ions?"
)
SCALE = rf"(?:{_SP}*-?{_SP}*(?i-u:{_SCALE_WORDS}){_B}|[kKMB]{_B})"
_SCALE_SIGN = rf"(?:{_SP}*[GM]\$)"  # "1,3 G$", "500 M$": a scale with its currency
_SCALE_LOOSE = rf"(?:{SCALE}|[mb]{_B})"  # "$10m", "$1.3b": lower case only after a currency
CURRENCY_BEFORE = rf"(?:(?:C|CA|CAN|US|U\.S\.|A|AU|NZ|HK)?\$|€|£|(?:CAD|USD|EUR|GBP){_SP}*\$?)"
_COUNTRY = "canadiens?|americains?|canadian|american|US|CAD|USD|CAN|CA"
CURRENCY_AFTER = (
    rf"(?:{_SP}*(?:\$(?:{_SP}*(?:CA|CAN|US|CAD|USD){_B})?|€|£|(?:CAD|USD|EUR|GBP){_B}"
    rf"|(?i-u:(?:de{_SP}+|d')?(?:dollars?|euros?|livres?|pounds?|piastres?|piasses?|bucks){_B}(?:{_SP}+(?:{_COUNTRY}){_B})?)))"
)
PERCENT = rf"(?:{_SP}*(?:%|(?i-u:per{_SP}?-?cent|pour{_SP}?-?cent|pourcent|pct|percent){_B}))"
_TAIL = rf"(?:{_SCALE_SIGN}|{SCALE}|{_B})(?:{CURRENCY_AFTER})?(?:{PERCENT})?"
_TAIL_AFTER_CURRENCY = rf"(?:{_SCALE_SIGN}|{_SCALE_LOOSE}|{_B})(?:{CURRENCY_AFTER})?"
_COMMA_TAIL = rf"(?:(?:{_SCALE_SIGN}|{SCALE})(?:{CURRENCY_AFTER})?|{CURRENCY_AFTER}|{PERCENT})"

# Any amount, the longest reading first; a value can be found in it with `amount_value`.
AMOUNT = (
    rf"(?:{CURRENCY_BEFORE}{_SP}*{_B}{_INT}{_COMMA}?{_POINT}?{_FRAC}?{_TAIL_AFTER_CURRENCY}"
    rf"|{_B}{_INT}{_COMMA}{_COMMA_TAIL}"
    rf"|{_B}{_INT}{_FRAC}(?:{SCALE})?(?:{CURRENCY_AFTER})?(?:{PERCENT})?"
    rf"|{_B}{_INT}{_POINT}?{_TAIL})"
)
_MONEY_MARK = rf"(?:{CURRENCY_BEFORE}|{CURRENCY_AFTER}|{_SCALE_SIGN})"

_FACTORS = {
    "k": 1e3,
    "thousand": 1e3,
    "thousands": 1e3,
    "mille": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "mil": 1e6,
    "mill": 1e6,
    "bil": 1e9,
    "bill": 1e9,
    "bilion": 1e9,
    "bilions": 1e9,
    "g": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "md": 1e9,
    "mds": 1e9,
    "mrd": 1e9,
    "mrds": 1e9,
    "tn": 1e12,
    "trillion": 1e12,
    "trillions": 1e12,
}
_SCALE_OF = rf"[0-9]{_FRAC}?{_SP}*-?{_SP}*((?i-u:{_SCALE_WORDS})|[kKMBmbG]){_B}"
_NUMBER_OF = rf"({_INT})(?:[,.{DECIMAL_POINT}]([0-9]+))?"


def amount_value(token: pl.Expr) -> pl.Expr:
    """The value of an amount as written ("10 000", "$1.3bn", "1,3 G$", "25 %"), Float64."""
    parts = token.str.extract_groups(_NUMBER_OF)
    whole = parts.struct.field("1").str.replace_all(r"\D", "").cast(pl.Float64, strict=False)
    fraction = (pl.lit("0.") + parts.struct.field("2")).cast(pl.Float64, strict=False)
    vulgar = token.str.extract(f"[0-9]{_SP}?({_VULGAR})")
    fraction = fraction.fill_null(
        vulgar.replace_strict(
            list(_VULGAR_VALUES),
            list(_VULGAR_VALUES.values()),
            default=None,
            return_dtype=pl.Float64,
        )
    )
    scale = token.str.extract(_SCALE_OF).str.to_lowercase()
    factor = scale.replace_strict(
        list(_FACTORS), list(_FACTORS.values()), default=1.0, return_dtype=pl.Float64
    )
    return ((whole + fraction.fill_null(0.0)) * factor).round(6)


def canonical(value: pl.Expr) -> pl.Expr:
    """A value as a plain decimal string: 10000, 1300000000, 2.5."""
    whole = value == value.floor()
    return (
        pl.when(whole & (value.abs() < 9e18))
        .then(value.cast(pl.Int64).cast(pl.String))
        .otherwise(value.cast(pl.String))
    )


def kind_of(token: pl.Expr) -> pl.Expr:
    """What an amount is, by its marks: "percent", "money" (a currency) or "count"."""
    return (
        pl.when(token.str.contains(PERCENT + "$"))
        .then(pl.lit("percent"))
        .when(token.str.contains(_MONEY_MARK))
        .then(pl.lit("money"))
        .otherwise(pl.lit("count"))
    )


def scale_of(text: pl.Expr) -> pl.Expr:
    """The factor of the first scale written in `text` ("34 milliards" 1e9, "$1.3M" 1e6), else 1."""
    scale = text.str.extract(_SCALE_OF).str.to_lowercase()
    return scale.replace_strict(
        list(_FACTORS), list(_FACTORS.values()), default=1.0, return_dtype=pl.Float64
    )


def has_scale(token: pl.Expr) -> pl.Expr:
    return token.str.contains(_SCALE_OF) | token.str.contains(_SCALE_SIGN)


_MONEY = (
    rf"(?:{CURRENCY_BEFORE}{_SP}*{_B}{_INT}{_COMMA}?{_POINT}?{_FRAC}?{_TAIL_AFTER_CURRENCY}"
    rf"|{_B}{_INT}{_COMMA}?{_POINT}?{_FRAC}?(?:{_SCALE_SIGN}|{SCALE})?{CURRENCY_AFTER})"
)
_PERCENT = rf"(?:{_B}{_INT}{_COMMA}?{_POINT}?{_FRAC}?{PERCENT})"
# money may go without its currency when it has a scale ("34 billion", "1,3 milliard") or is
# written out in millions ("trente milliards" becomes 30000000000)
_SCALED = (
    rf"(?:{_B}{_INT}(?:{_COMMA}|{_POINT}|{_FRAC})?(?:{_SCALE_SIGN}|{SCALE})|{_B}[0-9]{{7,}}{_B})"
)


def other_kinds(kind: Kind) -> str:
    """The amounts that are never a value of a claim of `kind`: masked as noise around it."""
    return {"count": f"{_MONEY}|{_PERCENT}", "money": _PERCENT, "percent": _MONEY}[kind]


def typed_amount(kind: Kind) -> str:
    """An amount that can be a value of a claim of `kind` (a count is any amount left once the
    other kinds are masked)."""
    return {"count": AMOUNT, "money": f"(?:{_MONEY}|{_SCALED})", "percent": _PERCENT}[kind]


def marked_amount(kind: Kind) -> str:
    """An amount that says its kind by itself: money with its currency ("$25M", "25 M$", "25
    millions de dollars"), a percentage with its sign or words; a count is any amount."""
    return {"count": AMOUNT, "money": _MONEY, "percent": _PERCENT}[kind]


# --- number words ---------------------------------------------------------------------------------

# Words that start a number in words beyond a language's small number words, per language (a
# language without its own list uses all of them).
SCALE_WORDS = {
    "en": "hundreds?|thousands?|millions?|billions?|trillions?|sixty|seventy|eighty|ninety|half"
    "|quarters?"
    "|per\\s*cent|percent",  # "ten per cent": a percentage reads digits
    "fr": "cents?|mille|millions?|milliards?|soixante|septante|huitante|nonante|demi|quarts?"
    "|pourcent",
}
# Of those, the scales that make a number only beside a number word or an article ("two
# hundred", "a million", "hundred and five"; "hundreds of people" is none) and the words that are
# a number alone unless digits come before them ("cent agents"; "142.4 cents le litre" is none):
# a text holding them otherwise is not sent to text2num, which would leave it as it is.
COMPANIONED_SCALES = {
    "en": "hundreds?|thousands?|millions?|billions?|trillions?",
    "fr": "millions?|milliards?",
}
NOT_AFTER_DIGITS = {"fr": "cents?|mille"}
SCALE_WORDS_TRIGGER = "|".join(SCALE_WORDS.values())
_TOKEN = re.compile(r"\w+|[^\w\s]")
_LONE = {"un", "une", "one", "a", "an", "uno", "una", "ein", "eine"}  # articles, mostly
_ALONE = {"mille", "cent", "mil"}  # scale words that are a number by themselves: "mille agents"
_TEXT2NUM_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl")


class _Word:
    """A token as text2num's `find_numbers` reads it."""

    __slots__ = ("word",)

    def __init__(self, word: str) -> None:
        self.word = word

    def text(self) -> str:
        return self.word

    def nt_separated(self, previous: _Word) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


# A fraction of a scale word: "half a million", "un demi-million", "a quarter billion"
_FRACTIONS = {"half": 0.5, "demi": 0.5, "quarter": 0.25, "quart": 0.25}
_SCALES = {"million": 1e6, "millions": 1e6, "billion": 1e9, "milliard": 1e9}
_FRACTION_OF_SCALE = re.compile(
    r"\b(?:(?:a|one|un|une)[ -])?(half|quarter|demi|quart)[ -](?:(?:a|of a|de|d'un)[ -])?"
    r"(million|millions|billion|milliard)\b",
    re.IGNORECASE,
)


def _fraction_of_scale(found: re.Match[str]) -> str:
    value = _FRACTIONS[found.group(1).lower()] * _SCALES[found.group(2).lower()]
    return str(int(value)).ljust(len(found.group()))


# A decimal in words: "eight point one", "huit virgule un" (text2num's alpha2digit reads them)
_DECIMAL_MARK = re.compile(r"[ -](?:point|virgule)[ -][^\W\d_]+(?:-[^\W\d_]+)*\b", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"[^\W\d_]+[ -]?$")
_DECIMAL_READ = re.compile(r"\d+[.,]\d+")


def _decimals_in(text: str, language: str) -> str:
    """Decimals in words as digits, padded in place; the words before the mark are read one,
    then two, then three at a time, keeping the longest reading that is a decimal."""
    for mark in reversed(list(_DECIMAL_MARK.finditer(text))):
        start, best = mark.start(), None
        for _ in range(3):
            before = _WORD_BEFORE.search(text[:start].rstrip(" -") + " ")
            if before is None:
                break
            start = before.start()
            read = alpha2digit(text[start : mark.end()], language).strip()
            if _DECIMAL_READ.fullmatch(read):
                best = (start, read.replace(",", "."))
        if best is not None:
            first, digits = best
            text = text[:first] + digits.ljust(mark.end() - first) + text[mark.end() :]
    return text


# And a half, a quarter, three quarters: "quatre millions et demi", "two and a half million",
# "deux et demi pour cent", "two and three-quarters per cent"
_HALF_OF = "(?:mille|millions?|milliards?|billions?)"  # "quatre millions et demi"
_HALF_WORD = rf"(?!{_HALF_OF}\b)[^\W\d_]+"  # a word of the number before it
_AND_A_HALF = re.compile(
    rf"\b((?:{_HALF_WORD}[ -]){{0,4}}{_HALF_WORD}|\d+)(?:[ -]({_HALF_OF}))?"
    r"[ -](et[ -]demie?|and a half|and a quarter|et quart|and three[ -]quarters|et trois quarts)"
    r"(?:[ -](thousand|millions?|billions?))?\b",
    re.IGNORECASE,
)


_HALF_SCALES = {**_SCALES, "thousand": 1e3, "mille": 1e3}


def _and_a_half(found: re.Match[str], language: str) -> str:
    """The number and a half as digits, padded in place (the words, if it is not a number)."""
    words, whole = _whole_number(found.group(1), language)
    if whole is None or (found.group(2) and found.group(4)):
        return found.group()
    part = found.group(3).lower()
    fraction = 0.75 if "three" in part or "trois" in part else 0.25 if "quar" in part else 0.5
    scale = found.group(2) or found.group(4)
    if scale:
        digits = str(int((int(whole) + fraction) * _HALF_SCALES[scale.lower().rstrip("s")]))
    else:
        digits = f"{whole}{DECIMAL_POINT}{str(fraction)[2:]}"
    width = len(found.group()) - len(words)
    return words + digits.ljust(width) if len(digits) <= width else found.group()


def _whole_number(words: str, language: str) -> tuple[str, str | None]:
    """(the words before it, the number) that the last of `words` make ("pour cinquante-neuf":
    "pour ", "59"; "a": "", "1"), the longest number first; None when none is."""
    if words.isdigit() or words.lower() in _LONE:  # "a million and a half"
        return "", "1" if words.lower() in _LONE else words
    starts = [0] + [m.end() for m in re.finditer(r"[ -]", words)]
    for start in starts:
        try:
            return words[:start], str(text2num(words[start:].lower(), language))
        except ValueError:
            continue
    return words, None


def digitise(text: str, languages: Iterable[str]) -> str:
    """`text` with its number words as digits, each padded to the words' length ("dix mille" is
    "10000    "), so every offset stays; words whose digits would be longer stay words."""
    for language in languages:
        if language in _TEXT2NUM_LANGUAGES and any(w in text for w in ("demi", "half", "quar")):
            text = _AND_A_HALF.sub(partial(_and_a_half, language=language), text)
    text = _FRACTION_OF_SCALE.sub(_fraction_of_scale, text)
    for language in languages:
        if language in _TEXT2NUM_LANGUAGES:
            if "point" in text or "virgule" in text:
                text = _decimals_in(text, language)
            text = _digitise_in(text, language)
    return text


def _digitise_in(text: str, language: str) -> str:
    spans = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    if not spans:
        return text
    pieces, last = [], 0
    for found in find_numbers([_Word(word) for _, _, word in spans], language, 0):
        first = _first_word(spans, found.start, found.end, found.is_ordinal, found.value)
        if first is None and _one_percent(spans, found.start, found.end):
            first = found.start
        digits = _digits(found.value)
        if first is None or digits is None:
            continue
        start, end = spans[first][0], spans[found.end - 1][1]
        if len(digits) > end - start or start < last:
            continue
        pieces += [text[last:start], digits.ljust(end - start)]
        last = end
    return "".join([*pieces, text[last:]]) if pieces else text


def _first_word(
    spans: list[tuple[int, int, str]], first: int, end: int, ordinal: bool, value: float
) -> int | None:
    """Where the number words found in `first`..`end` start, or None to leave them as words."""
    words = [word.lower() for _, _, word in spans[first:end]]
    before = spans[first - 1][2].lower() if first else ""
    if ordinal or any(char.isdigit() for word in words for char in word):
        return None
    if before.isdigit() or (before in {",", "."} and first >= 2 and spans[first - 2][2].isdigit()):
        return None  # "1.3 billion", "10 mille": the amount reads its own scale
    if words == ["cent"] and before in {"pour", "per"}:
        return None  # "25 pour cent", "25 per cent"
    if len(words) == 1 and value >= 100 and words[0] not in _ALONE:
        return first - 1 if before in _LONE else None  # "a million" is one, "millions" is none
    if len(words) == 1 and (words[0] in _LONE or value == 1):
        return None  # "un ami", "one of them": an article, or one
    return first


_PERCENT_AFTER = {("percent",), ("per", "cent"), ("pour", "cent"), ("pourcent",), ("%",)}


def _one_percent(spans: list[tuple[int, int, str]], first: int, end: int) -> bool:
    """ "one percent", "un pour cent": the article that is otherwise no number is one here."""
    if end - first != 1 or spans[first][2].lower() not in {"one", "un"}:
        return False
    after = tuple(word.lower() for _, _, word in spans[end : end + 2])
    return after[:1] in _PERCENT_AFTER or after in _PERCENT_AFTER


@lru_cache(maxsize=4096)
def _digits(value: float) -> str | None:
    if value != int(value) or value < 0:
        return None
    return str(int(value))


def digitised(frame: pl.DataFrame, column: str, triggers: dict[str, str]) -> pl.DataFrame:
    """`frame` with `column`'s number words as digits (`digitise`), read in each language (key of
    `triggers`) only on the rows that hold one of its words (`triggers`' regex): the few
    candidates, never the whole stream (a when/then would call it on every row)."""
    for language, trigger in triggers.items():
        rows = frame.select(pl.col(column).str.contains(trigger).fill_null(False)).to_series()
        if not rows.any():
            continue
        spelled = frame.get_column(column).filter(rows)
        digits = pl.Series([digitise(text, [language]) for text in spelled], dtype=pl.String)
        frame = frame.with_columns(frame.get_column(column).scatter(rows.arg_true(), digits))
    return frame


# --- labels ---------------------------------------------------------------------------------------

_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£"}


def label(value: pl.Expr, kind: Kind, currency: str | None) -> pl.Expr:
    """A value as people read it: "10,000", "$1.3 billion", "25%"."""
    if kind == "percent":
        return _grouped(value) + pl.lit("%")
    if kind == "count":
        return _grouped(value)
    symbol = _SYMBOLS.get(currency or "", "") if currency else "$"
    prefix = symbol if symbol or not currency else f"{currency} "
    scaled = [(1e12, " trillion"), (1e9, " billion"), (1e6, " million")]
    text = _grouped(value)
    for size, word in reversed(scaled):
        text = (
            pl.when(value.abs() >= size).then(_short(value / size) + pl.lit(word)).otherwise(text)
        )
    return pl.lit(prefix) + text


def written(value: float, kind: Kind, currency: str | None) -> tuple[str, str]:
    """One value's (canonical, label), for a config's verified value: ("34000000000",
    "$34 billion")."""
    amount = pl.lit(value, pl.Float64)
    row = pl.select(canonical(amount).alias("key"), label(amount, kind, currency).alias("shown"))
    return str(row.item(0, 0)), str(row.item(0, 1))


def _short(value: pl.Expr) -> pl.Expr:
    """Up to two decimals, trailing zeros dropped: 1.3, 34, 1.25."""
    return value.round(2).cast(pl.String).str.replace(r"\.0$", "")


def _grouped(value: pl.Expr) -> pl.Expr:
    """Digits grouped by thousands with commas, decimals kept: 10,000, 2.5."""
    whole = value.floor().cast(pl.Int64).cast(pl.String)
    grouped = whole.str.reverse().str.replace_all(r"([0-9]{3})", "$1,").str.reverse()
    grouped = grouped.str.strip_prefix(",")
    decimals = (value - value.floor()).round(6).cast(pl.String).str.strip_prefix("0")
    return pl.when(value == value.floor()).then(grouped).otherwise(grouped + decimals)
