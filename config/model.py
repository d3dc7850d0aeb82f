"""`Config`, the model of the whole file, with the secrets it resolves from the environment."""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.claims import Claim, Lexicon, _with_builtin_lexicons
from config.errors import _expected_one_of
from config.services import Alerts, Dashboard, Digest, Schedule, Warehouse
from config.sources import Source, Sources
from config.topics import Topic
from config.values import Id, Language, Model


class Config(Model):
    """The whole configuration. Build it with `load_config`, which also runs the cross-checks."""

    topics: dict[Id, Topic] = Field(min_length=1)
    claims: dict[Id, Claim] = {}
    language: Annotated[dict[Language, Lexicon], BeforeValidator(_with_builtin_lexicons)] = Field(
        default_factory=dict, validate_default=True
    )
    sources: Sources = Sources()
    schedule: Schedule = Schedule()
    digest: Digest = Field(default_factory=Digest, validate_default=True)
    alerts: Alerts = Alerts()
    dashboard: Dashboard = Dashboard()
    warehouse: Warehouse = Warehouse()
    _path: Path = PrivateAttr(default=Path("config/claimwatch.toml"))
    _env: Mapping[str, str] = PrivateAttr(default_factory=lambda: os.environ)

    @field_validator("digest")
    @classmethod
    def _digest_timezone_defaults_to_schedule(cls, digest: Digest, info: ValidationInfo) -> Digest:
        schedule = info.data.get("schedule")
        if digest.timezone is None and isinstance(schedule, Schedule):
            return digest.model_copy(update={"timezone": schedule.timezone})
        return digest

    @model_validator(mode="after")
    def _claims_share_their_topics_terms(self) -> Self:
        """Each claim with its topic's context, elsewhere and corrections (an unknown topic is
        left for the cross-checks of `load_config` to name)."""
        shared = {
            claim_id: claim.with_topic(self.topics[claim.topic])
            if claim.topic in self.topics
            else claim
            for claim_id, claim in self.claims.items()
        }
        object.__setattr__(self, "claims", shared)  # the model is frozen once validated
        return self

    @property
    def path(self) -> Path:
        return self._path

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    def source(self, source_id: str) -> Source:
        sources = self.sources.by_id()
        if source_id not in sources:
            raise KeyError(f"unknown source {source_id!r}; {_expected_one_of(source_id, sources)}")
        return sources[source_id]

    def secret(self, env_name: str) -> SecretStr | None:
        value = self._env.get(env_name)
        return SecretStr(value) if value else None

    def credentials(self, source_id: str) -> dict[str, SecretStr]:
        """The credentials of a source whose environment variables are set, by credential name."""
        env_names = self.source(source_id).credentials.env_names()
        secrets = {name: self.secret(env_name) for name, env_name in env_names.items()}
        return {name: value for name, value in secrets.items() if value is not None}

    def missing_credentials(self, source_id: str) -> list[str]:
        """The environment variables a source needs that are unset (or empty)."""
        return self.source(source_id).credentials.missing(self._env)

    def webhook_url(self) -> SecretStr | None:
        webhook = self.digest.webhook
        if webhook is None:
            return None
        if webhook.url_env is not None:
            return self.secret(webhook.url_env)
        return webhook.url

    def secrets(self) -> list[str]:
        """Every secret the config names that is set: each source's keys, passwords and tokens
        (enabled or not), the SMTP password and the webhook URL; for `config.redaction`."""
        env_names = [
            name
            for source in self.sources.by_id().values()
            for name in source.credentials.secret_env_names()
        ]
        if self.digest.smtp is not None:
            env_names += self.digest.smtp.credentials.secret_env_names()
        found = [self.secret(name) for name in env_names] + [self.webhook_url()]
        return [secret.get_secret_value() for secret in found if secret is not None]
