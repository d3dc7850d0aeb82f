"""The topics a collector matches posts against: their titles, languages, terms and queries."""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

from typing import Annotated, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from config.values import Hashtag, Language, Model, Term, Terms


class TopicTerms(Model):
    phrases: list[Term] = []
    hashtags: list[Hashtag] = []
    all_words: list[Annotated[list[Term], Field(min_length=1)]] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.phrases or self.hashtags or self.all_words):
            raise ValueError("expected at least one of phrases, hashtags, all_words; found none")
        return self


class Topic(Model):
    title: Term
    languages: list[Language] = Field(min_length=1)
    terms: dict[Language, TopicTerms]
    queries: Terms = Field(default_factory=dict, validate_default=True)

    @field_validator("queries")
    @classmethod
    def _queries_default_to_phrases(cls, queries: Terms, info: ValidationInfo) -> Terms:
        terms: dict[str, TopicTerms] = info.data.get("terms", {})
        return {lang: t.phrases for lang, t in terms.items()} | queries
