"""A claim drafted from one sentence: a commented TOML starter with the quantity read from it.

`claimwatch claims draft "Canada deployed 10,000 personnel to the border"` reads the amount the way
the engine does (claims.quantities: its kind, value and currency), takes the word it counts or is
said of as the object, the last other word as the subject, and capitalised words as the context.
These are guesses to edit, and the starter says so; the quantity is what it reliably gets right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl
import tomli_w

from claims.quantities import AMOUNT, amount_value, canonical, digitise, kind_of

_STOPWORDS = {
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "and", "or", "is", "are", "was", "were",
    "has", "have", "had", "be", "been", "its", "their", "our", "by", "with", "from", "that", "this",
    "le", "la", "les", "un", "une", "des", "de", "du", "d", "l", "au", "aux", "en", "et", "ou",
    "est", "sont", "ont", "sur", "pour", "par", "dans", "avec", "que", "qui", "son", "sa",
    "ses", "leur", "leurs", "nearly", "about", "more", "than", "over", "pres", "plus", "environ",
}  # fmt: skip
_CURRENCY = {"C$": "CAD", "CA$": "CAD", "CAD": "CAD", "US$": "USD", "USD": "USD", "€": "EUR"}


@dataclass(frozen=True)
class Reading:
    """What the sentence says: the amount as written, its kind, value and currency."""

    amount: str
    kind: str
    value: str
    currency: str | None
    before: str  # the sentence before the amount
    after: str  # and after it


def read_amount(sentence: str) -> Reading | None:
    """The first amount of the sentence, read as the engine reads it; None when there is none."""
    text = digitise(sentence, ("en", "fr"))
    found = pl.DataFrame({"text": [text]}).select(
        pl.col("text").str.extract(f"({AMOUNT})").alias("amount")
    )
    amount = found["amount"][0]
    if amount is None:
        return None
    read = pl.DataFrame({"amount": [amount]}).select(
        canonical(amount_value(pl.col("amount"))).alias("value"),
        kind_of(pl.col("amount")).alias("kind"),
    )
    start = text.index(amount)
    end = start + len(amount)
    while end < len(text) and text[end] == " " and sentence[end] != " ":
        end += 1  # number words were padded to their length: "dix mille" is "10000    "
    currency = next((code for mark, code in _CURRENCY.items() if mark in amount), None)
    return Reading(
        amount=sentence[start:end].strip(),
        kind=read["kind"][0],
        value=read["value"][0],
        currency=currency,
        before=sentence[:start],
        after=sentence[end:],
    )


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'-]+", text) if w.lower() not in _STOPWORDS]


def draft_claim(
    sentence: str, topic: str = "my-topic", claim_id: str = "my-claim", language: str = "en"
) -> str:
    """The commented TOML of a claim drafted from `sentence`, written in `language`."""
    reading = read_amount(sentence)
    if reading is None:
        raise ValueError(
            "no amount found in the sentence; write it with its number "
            '("10,000 personnel", "$1.3 billion", "25%")'
        )
    after, before = _words(reading.after), _words(reading.before)
    capitalised = [w for w in before + after if w[:1].isupper()]
    rest = [w for w in before + after if not w[:1].isupper()]
    obj = next((w for w in after if not w[:1].isupper()), rest[0] if rest else "OBJECT")
    subject = next((w for w in reversed(rest) if w != obj), "SUBJECT")
    quantity: dict[str, object] = {"kind": reading.kind}
    if reading.currency:
        quantity["currency"] = reading.currency
    value = float(reading.value)
    quantity["verified"] = int(value) if value == int(value) else value
    quantity["verified_note"] = sentence.strip()
    claim = {
        "topic": topic,
        "title": sentence.strip()[:80],
        "description": f"Drafted from: {sentence.strip()}",
        "subject": {language: [subject]},
        "object": {language: [obj]},
        "context": {language: capitalised},
        "quantity": quantity,
    }
    body = tomli_w.dumps({"claims": {claim_id: claim}})
    return _HEADER.format(amount=reading.amount, kind=reading.kind, value=reading.value) + body


_HEADER = """\
# A claim drafted by `claimwatch claims draft` (docs/config.md says what each key does).
# Read from the sentence: the amount "{amount}" is a {kind} of {value}: check `quantity` (and
# give `currency` for money: "CAD", "USD", "EUR").
# Guessed, to edit: `subject` (who or what the claim is about), `object` (what the number
# counts or is said of: add its other words and the French ones under `fr`), `context` (the
# places; better said once on the topic, `[topics.<id>.context]`), and the claim's id and title.
# Add `[claims.<id>.corrections]` (facts and phrases that correct it) once you know them, and
# `unrelated` (other things the same words measure: "steel", "purchase") if posts mix them up.

"""
