"""The validated configuration: topics, claims, sources, schedule, digest, dashboard, warehouse.

`load_config` reads a TOML file, validates it with the models below and raises `ConfigError`, one
message naming the file and, for each problem, the dotted key, what was expected and what was found.
Secrets never live in the file: credential tables name environment variables, resolved on demand.
See docs/config.md for every key.

The modules, from the bottom up (each imports only those above it):
`errors` (`Problem`, `ConfigError`, the wording of what was expected and found), `values` (the
scalar types and the `Model` base), `lexicon` (the built-in words of stance), `credentials`,
`topics`, `sources`, `claims`, `services` (schedule, digest, alerts, dashboard, warehouse), `model`
(`Config`), `problems` (pydantic's errors as problems) and `loading` (`load_config`,
`render_effective`); beside them `redaction` (`Redactor`: the secrets masked in logs and stored
errors), which imports none of them. Import from `config` itself; the submodules are its inside.
"""

from config.claims import Claim, Lexicon, Quantity, QuantityKind
from config.credentials import (
    BlueskyCredentials,
    Credentials,
    FactCheckCredentials,
    RedditCredentials,
    SmtpCredentials,
    XCredentials,
    YouTubeCredentials,
)
from config.errors import ConfigError, Problem
from config.lexicon import LEXICONS
from config.loading import load_config, render_effective
from config.model import Config
from config.redaction import MASK, RedactingFilter, Redactor
from config.services import Alerts, Dashboard, Digest, Schedule, Smtp, Warehouse, Webhook
from config.sources import (
    ApiSource,
    BlueskySource,
    FactCheckSource,
    GdeltSource,
    HackerNewsSource,
    MastodonSource,
    NewsSource,
    RedditSource,
    Source,
    Sources,
    XSource,
    YouTubeSource,
)
from config.topics import Authority, Corrections, Fact, Topic, TopicTerms
from config.values import (
    DEFAULT_TIMEZONE,
    USER_AGENT,
    DayTime,
    Duration,
    Email,
    EnvName,
    Handle,
    Hashtag,
    Host,
    Id,
    Language,
    Model,
    Place,
    PositiveDuration,
    SecretUrl,
    Term,
    Terms,
    Timezone,
    Url,
    format_duration,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "LEXICONS",
    "MASK",
    "USER_AGENT",
    "Alerts",
    "ApiSource",
    "Authority",
    "BlueskyCredentials",
    "BlueskySource",
    "Claim",
    "Config",
    "ConfigError",
    "Corrections",
    "Credentials",
    "Dashboard",
    "DayTime",
    "Digest",
    "Duration",
    "Email",
    "EnvName",
    "Fact",
    "FactCheckCredentials",
    "FactCheckSource",
    "GdeltSource",
    "HackerNewsSource",
    "Handle",
    "Hashtag",
    "Host",
    "Id",
    "Language",
    "Lexicon",
    "MastodonSource",
    "Model",
    "NewsSource",
    "Place",
    "PositiveDuration",
    "Problem",
    "Quantity",
    "QuantityKind",
    "RedactingFilter",
    "Redactor",
    "RedditCredentials",
    "RedditSource",
    "Schedule",
    "SecretUrl",
    "Smtp",
    "SmtpCredentials",
    "Source",
    "Sources",
    "Term",
    "Terms",
    "Timezone",
    "Topic",
    "TopicTerms",
    "Url",
    "Warehouse",
    "Webhook",
    "XCredentials",
    "XSource",
    "YouTubeCredentials",
    "YouTubeSource",
    "format_duration",
    "load_config",
    "render_effective",
]
