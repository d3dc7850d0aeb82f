"""The claims checked in the posts (quantities, authorities, corrections) and the words of stance of
each language, the built-in ones (config/lexicon.py) merged with what the file gives.
"""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator

from config.errors import _expected_one_of
from config.lexicon import LEXICONS
from config.sources import Sources
from config.values import Handle, Id, Language, Model, Place, Term, Terms


class Quantity(Model):
    verified: StrictInt | None = None
    verified_note: StrictStr = ""
    places: list[Place] = []
    units: Terms = {}  # nouns a number counts ("5 stations", "5 cities"); the object terms too
    parts: Terms = {}  # nouns naming a part of the whole ("the embassy and 4 consulates" is 5)
    min: StrictInt = Field(default=1, ge=0)
    max: StrictInt = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        low, high, verified = self.min, self.max, self.verified
        if low > high or (verified is not None and not low <= verified <= high):
            raise ValueError(
                f"expected min <= verified <= max; found min = {low}, verified = {verified}, "
                f"max = {high}"
            )
        return self


def _known_source(source_id: str) -> str:
    if source_id not in Sources.model_fields:
        raise ValueError(_expected_one_of(source_id, Sources.model_fields))
    return source_id


class Authority(Model):
    source: Annotated[StrictStr, AfterValidator(_known_source)]
    handle: Handle
    name: StrictStr = ""


# A fact is a phrase, or two or three words that must all appear in one sentence.
Fact = Term | Annotated[list[Term], Field(min_length=2, max_length=3)]


class Corrections(Model):
    authorities: list[Authority] = []
    factcheck_publishers: list[Term] = []
    facts: dict[Language, list[Fact]] = {}
    phrases: Terms = {}


class Claim(Model):
    topic: Id
    title: Term
    description: StrictStr = ""
    subject: Terms = Field(min_length=1)
    object: Terms = Field(min_length=1)
    context: Terms = {}
    elsewhere: Terms = {}
    window: StrictInt = Field(default=5, ge=0, le=30)
    quantity: Quantity | None = None
    verified: StrictStr | None = None
    corrections: Corrections = Corrections()

    def term_tables(self) -> dict[str, Mapping[str, Any]]:
        """Every per-language table of the claim, by its key path relative to the claim."""
        tables: dict[str, Mapping[str, Any]] = {
            "subject": self.subject,
            "object": self.object,
            "context": self.context,
            "elsewhere": self.elsewhere,
            "corrections.facts": self.corrections.facts,
            "corrections.phrases": self.corrections.phrases,
        }
        if self.quantity is not None:
            tables |= {"quantity.units": self.quantity.units, "quantity.parts": self.quantity.parts}
        return tables


class Lexicon(Model):
    """The words of stance of one language (defaults: config/lexicon.py)."""

    numbers: dict[Term, Annotated[StrictInt, Field(ge=0)]] = {}
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
