"""The claims checked in the posts (quantities, authorities, corrections) and the words of stance of
each language, the built-in ones (config/lexicon.py) merged with what the file gives.
"""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from config.lexicon import LEXICONS
from config.topics import Authority, Corrections, Topic, merged_terms
from config.values import Id, Model, Place, Term, Terms

QuantityKind = Literal["count", "money", "percent"]
# An ISO 4217 code ("CAD", "USD", "EUR").
Currency = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[StrictInt | StrictFloat, Field(ge=0)]


class Quantity(Model):
    """What a claim's value is, and where it can lie.

    `kind` says what the engine reads as the value: a `count` ("10,000 officers", "dix mille
    agents"), an amount of `money` ("$1.3 billion", "1,3 milliard $") or a `percent` ("25%",
    "25 pour cent"). Numbers of the other kinds are masked around the value, never over it.
    """

    kind: QuantityKind = "count"
    currency: Currency | None = None  # money only: the claim's currency, for its labels
    verified: Amount | None = None
    verified_note: StrictStr = ""
    places: list[Place] = []
    units: Terms = {}  # nouns a number counts ("5 stations", "5 cities"); the object terms too
    parts: Terms = {}  # nouns naming a part of the whole ("the embassy and 4 consulates" is 5)
    min: Amount | None = None  # default: see `bounds`
    max: Amount | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.currency is not None and self.kind != "money":
            raise ValueError(f'currency is for kind = "money"; found kind = "{self.kind}"')
        if (self.places or self.parts) and self.kind != "count":
            raise ValueError(
                f'places and parts count things: they are for kind = "count"; found kind = '
                f'"{self.kind}"'
            )
        low, high = self.bounds()
        verified = self.verified
        if low > high or (verified is not None and not low <= verified <= high):
            raise ValueError(
                f"expected min <= verified <= max; found min = {plain_number(low)}, verified = "
                f"{verified}, max = {plain_number(high)}"
            )
        return self

    def bounds(self) -> tuple[float, float]:
        """The plausible values: `min` and `max` where given, else around the verified value.

        A count defaults to 1..100 (up to 100 times the verified value when that is more), money
        to a thousandth to a thousand times the verified value, a percentage to 0..1000.
        """
        verified = float(self.verified) if self.verified is not None else None
        if self.kind == "percent":
            low, high = 0.0, 1000.0
        elif self.kind == "money":
            low, high = (verified / 1000, verified * 1000) if verified else (0.0, 1e15)
        else:
            low, high = 1.0, max(100.0, 100.0 * verified) if verified else 1e12
        low = float(self.min) if self.min is not None else low
        return low, float(self.max) if self.max is not None else max(high, low)


def plain_number(value: float) -> str:
    """`value` as people write it in a config: 5, 1300000000, 2.5."""
    return str(int(value)) if value == int(value) else repr(value)


class Claim(Model):
    topic: Id
    title: Term
    description: StrictStr = ""
    subject: Terms = Field(min_length=1)
    object: Terms = Field(min_length=1)
    context: Terms = {}
    elsewhere: Terms = {}
    unrelated: Terms = {}
    window: StrictInt = Field(default=5, ge=0, le=30)
    quantity: Quantity | None = None
    verified: StrictStr | None = None
    corrections: Corrections = Corrections()

    def with_topic(self, topic: Topic) -> "Claim":
        """The claim with what its topic shares: context, elsewhere, authorities, publishers,
        facts and phrases, the topic's first and then the claim's own, each once."""
        shared, own = topic.corrections, self.corrections
        authorities: dict[tuple[str, str], Authority] = {
            (a.source, a.handle.lower()): a for a in [*shared.authorities, *own.authorities]
        }
        corrections = Corrections(
            authorities=list(authorities.values()),
            factcheck_publishers=list(
                dict.fromkeys([*shared.factcheck_publishers, *own.factcheck_publishers])
            ),
            facts={
                lang: [*shared.facts.get(lang, []), *own.facts.get(lang, [])]
                for lang in dict.fromkeys([*shared.facts, *own.facts])
            },
            phrases=merged_terms(shared.phrases, own.phrases),
        )
        return self.model_copy(
            update={
                "context": merged_terms(topic.context, self.context),
                "elsewhere": merged_terms(topic.elsewhere, self.elsewhere),
                "corrections": corrections,
            }
        )

    def term_tables(self) -> dict[str, Mapping[str, Any]]:
        """Every per-language table of the claim, by its key path relative to the claim."""
        tables: dict[str, Mapping[str, Any]] = {
            "subject": self.subject,
            "object": self.object,
            "context": self.context,
            "elsewhere": self.elsewhere,
            "unrelated": self.unrelated,
            "corrections.facts": self.corrections.facts,
            "corrections.phrases": self.corrections.phrases,
        }
        if self.quantity is not None:
            tables |= {"quantity.units": self.quantity.units, "quantity.parts": self.quantity.parts}
        return tables


def _number_words(numbers: dict[str, int]) -> dict[str, int]:
    written = [word for word in numbers if any(char.isdigit() for char in word)]
    if written:
        raise ValueError(
            f"expected number words (digits are always read, in any shape); found {written[0]!r}"
        )
    return numbers


class Lexicon(Model):
    """The words of stance of one language (defaults: config/lexicon.py)."""

    numbers: Annotated[
        dict[Term, Annotated[StrictInt, Field(ge=0)]], AfterValidator(_number_words)
    ] = {}
    negations: list[Term] = []
    denials: list[Term] = []
    mockery: list[Term] = []
    corrective: list[Term] = []
    attribution: list[Term] = []
    questions: list[Term] = []
    doubt: list[Term] = []
    interrogatives: list[Term] = []
    rhetorical: list[Term] = []
    reported: list[Term] = []
    reported_after: list[Term] = []
    totals_before: list[Term] = []
    totals_after: list[Term] = []
    prepositions: list[Term] = []
    articles: list[Term] = []
    not_places: list[Term] = []


def _with_builtin_lexicons(value: object) -> object:
    """Each language's built-in lists, replaced key by key by what the file gives."""
    given = value if isinstance(value, dict) else {}
    if not isinstance(value, dict) and value is not None:
        return value  # let validation report the wrong type
    merged: dict[str, object] = {lang: dict(rules) for lang, rules in LEXICONS.items()}
    for lang, rules in given.items():
        base = merged.get(lang, {})
        merged[lang] = base | rules if isinstance(rules, dict) and isinstance(base, dict) else rules
    return merged
