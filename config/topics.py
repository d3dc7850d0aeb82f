"""The topics a collector matches posts against: their titles, languages, terms and queries."""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.errors import _expected_one_of
from config.sources import Sources
from config.values import Handle, Hashtag, Language, Model, Term, Terms


class TopicTerms(Model):
    phrases: list[Term] = []
    hashtags: list[Hashtag] = []
    all_words: list[Annotated[list[Term], Field(min_length=1)]] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.phrases or self.hashtags or self.all_words):
            raise ValueError("expected at least one of phrases, hashtags, all_words; found none")
        return self


def _known_source(source_id: str) -> str:
    if source_id not in Sources.model_fields:
        raise ValueError(_expected_one_of(source_id, Sources.model_fields))
    return source_id


class Authority(Model):
    source: Annotated[StrictStr, AfterValidator(_known_source)]
    handle: Handle
    name: StrictStr = ""
    aliases: list[Term] = []  # how reports name it: "ICE", "Sécurité publique Canada"


# A fact is a phrase, or two or three words that must all appear in one sentence.
Fact = Term | Annotated[list[Term], Field(min_length=2, max_length=3)]


class Corrections(Model):
    authorities: list[Authority] = []
    factcheck_publishers: list[Term] = []
    facts: dict[Language, list[Fact]] = {}
    phrases: Terms = {}


def merged_terms(shared: Terms, own: Terms) -> Terms:
    """A topic's terms, then a claim's own, per language, each once."""
    languages = list(dict.fromkeys([*shared, *own]))
    return {
        lang: list(dict.fromkeys([*shared.get(lang, []), *own.get(lang, [])])) for lang in languages
    }


class Topic(Model):
    title: Term
    languages: list[Language] = Field(min_length=1)
    terms: dict[Language, TopicTerms]
    queries: Terms = Field(default_factory=dict, validate_default=True)
    context: Terms = {}  # shared by the topic's claims (each may add its own)
    elsewhere: Terms = {}
    corrections: Corrections = Corrections()

    @field_validator("queries")
    @classmethod
    def _queries_default_to_phrases(cls, queries: Terms, info: ValidationInfo) -> Terms:
        terms: dict[str, TopicTerms] = info.data.get("terms", {})
        return {lang: t.phrases for lang, t in terms.items()} | queries
