"""Credential tables: each names the environment variables that hold a secret (read on demand)."""

from collections.abc import Mapping
from typing import ClassVar

from config.values import EnvName, Model


def _mask(env_name: str, env: Mapping[str, str]) -> str:
    return f"{env_name} (set, ****)" if env.get(env_name) else f"{env_name} (not set)"


class Credentials(Model):
    """Credential name -> NAME of the environment variable that holds it."""

    required: ClassVar[bool] = False  # False: all or none (a half-set pair is missing its half)
    public: ClassVar[frozenset[str]] = frozenset()  # who logs in, not a secret: never masked

    def env_names(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def secret_env_names(self) -> list[str]:
        """The variables that hold secrets (keys, passwords, tokens), for masking."""
        return [env for name, env in self.env_names().items() if name not in self.public]

    def missing(self, env: Mapping[str, str]) -> list[str]:
        names = list(self.env_names().values())
        if not self.required and not any(env.get(name) for name in names):
            return []
        return [name for name in names if not env.get(name)]

    def masked(self, env: Mapping[str, str]) -> dict[str, str]:
        return {name: _mask(env_name, env) for name, env_name in self.env_names().items()}


class RedditCredentials(Credentials):
    client_id: EnvName = "REDDIT_CLIENT_ID"
    client_secret: EnvName = "REDDIT_CLIENT_SECRET"


class BlueskyCredentials(Credentials):
    required = True
    public = frozenset({"handle"})
    handle: EnvName = "BLUESKY_HANDLE"
    app_password: EnvName = "BLUESKY_APP_PASSWORD"


class XCredentials(Credentials):
    required = True
    bearer_token: EnvName = "X_BEARER_TOKEN"


class YouTubeCredentials(Credentials):
    required = True
    api_key: EnvName = "YOUTUBE_API_KEY"


class FactCheckCredentials(Credentials):
    required = True
    api_key: EnvName = "FACTCHECK_API_KEY"


class SmtpCredentials(Credentials):
    public = frozenset({"username"})
    username: EnvName = "SMTP_USERNAME"
    password: EnvName = "SMTP_PASSWORD"
