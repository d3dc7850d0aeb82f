"""The validated configuration: topics, claims, sources, schedule, digest, dashboard, warehouse.

`load_config` reads a TOML file, validates it with the models below and raises `ConfigError`, one
message naming the file and, for each problem, the dotted key, what was expected and what was found.
Secrets never live in the file: credential tables name environment variables, resolved on demand.
See docs/config.md for every key.
"""

import dataclasses
import datetime as dt
import difflib
import json
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    SecretStr,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from config.lexicon import LEXICONS

DEFAULT_TIMEZONE = "America/Toronto"
USER_AGENT = "claimwatch/0.1"


# --- scalar types -------------------------------------------------------------------------------

_DURATION = re.compile(r"(?:\d+(?:ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT = {
    "ms": dt.timedelta(milliseconds=1),
    "s": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
}


def _parse_duration(value: object) -> object:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return dt.timedelta(seconds=value)
    if isinstance(value, str) and _DURATION.fullmatch(value):
        parts = _DURATION_PART.findall(value)
        return sum((int(n) * _UNIT[unit] for n, unit in parts), dt.timedelta())
    raise ValueError(
        'expected a duration such as "30s", "15m", "1h", "1h30m" or a whole number of seconds'
    )


def format_duration(duration: dt.timedelta) -> str:
    """The shortest duration string that parses back to `duration`: "1h30m", "30s", "0s"."""
    left = duration // _UNIT["ms"]
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        count, left = divmod(left, _UNIT[unit] // _UNIT["ms"])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _positive(duration: dt.timedelta) -> dt.timedelta:
    if duration <= dt.timedelta():
        raise ValueError("expected a duration greater than zero")
    return duration


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


def _parse_day_time(value: object) -> object:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return dt.time.fromisoformat(value)
    raise ValueError('expected a time of day as "HH:MM" (24-hour clock)')


DayTime = Annotated[
    dt.time,
    BeforeValidator(_parse_day_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
]


def _matching(pattern: str, expected: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(f"expected {expected}")
        return value

    return check


Id = Annotated[
    StrictStr,
    AfterValidator(
        _matching(
            r"[a-z0-9][a-z0-9-]*", 'an id of lowercase letters, digits and "-" (like "ice-canada")'
        )
    ),
]
Language = Annotated[
    StrictStr, AfterValidator(_matching(r"[a-z]{2}", 'a two-letter language code like "en"'))
]
Hashtag = Annotated[
    StrictStr, AfterValidator(_matching(r"\w+", 'a hashtag without "#" (letters, digits, "_")'))
]
Email = Annotated[
    StrictStr, AfterValidator(_matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address"))
]
Host = Annotated[
    StrictStr,
    AfterValidator(_matching(r"[A-Za-z0-9.:\[\]-]+", 'a host name or IP address like "127.0.0.1"')),
]
Term = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
Handle = Annotated[Term, AfterValidator(lambda handle: handle.removeprefix("@"))]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError('expected an http(s) URL like "https://example.org"')
    return value.rstrip("/")


def _secret_url(value: object) -> object:
    try:
        return _http_url(value) if isinstance(value, str) else _http_url("")
    except ValueError as error:
        raise PydanticCustomError("secret", f"{error} (the value is not shown)") from None


Url = Annotated[StrictStr, AfterValidator(_http_url)]
SecretUrl = Annotated[SecretStr, BeforeValidator(_secret_url)]


def _env_name(value: str) -> str:
    # Never echo a bad value here: it is most likely the secret itself, pasted into the file.
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        raise PydanticCustomError(
            "secret",
            "expected the NAME of an environment variable in capitals (like X_BEARER_TOKEN), "
            "never the secret itself (the value is not shown)",
        )
    return value


EnvName = Annotated[StrictStr, AfterValidator(_env_name)]


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _did_you_mean(name, available_timezones())
        raise ValueError(f'expected an IANA time zone name like "America/Toronto"{hint}') from None
    return name


Timezone = Annotated[StrictStr, AfterValidator(_timezone)]


def _spellings(value: object) -> object:
    return [value] if isinstance(value, str) else value


# A place is one string or the list of its spellings: "Ottawa", ["Montreal", "Montréal"].
Place = Annotated[list[Term], BeforeValidator(_spellings), Field(min_length=1)]
Terms = dict[Language, list[Term]]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- topics and claims --------------------------------------------------------------------------


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


# --- sources ------------------------------------------------------------------------------------


def _mask(env_name: str, env: Mapping[str, str]) -> str:
    return f"{env_name} (set, ****)" if env.get(env_name) else f"{env_name} (not set)"


class Credentials(Model):
    """Credential name -> NAME of the environment variable that holds it."""

    required: ClassVar[bool] = False  # False: all or none (a half-set pair is missing its half)

    def env_names(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in type(self).model_fields}

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


class Source(Model):
    enabled: StrictBool = True
    interval: PositiveDuration = dt.timedelta(minutes=15)
    timeout: PositiveDuration = dt.timedelta(seconds=30)
    max_pages: StrictInt = Field(default=5, ge=1)
    user_agent: Term = USER_AGENT
    credentials: Credentials = Credentials()


class ApiSource(Source):
    base_url: Url


class MastodonSource(Source):
    instances: list[Url] = Field(
        default=["https://mastodon.social", "https://mstdn.ca", "https://mastodon.online"],
        min_length=1,
    )
    hashtags: list[Hashtag] = []


class RedditSource(ApiSource):
    base_url: Url = "https://www.reddit.com"
    oauth_url: Url = "https://oauth.reddit.com"
    subreddits: list[
        Annotated[StrictStr, AfterValidator(_matching(r"\w{2,21}", 'a subreddit without "r/"'))]
    ] = []
    credentials: RedditCredentials = RedditCredentials()


class NewsSource(ApiSource):
    interval: PositiveDuration = dt.timedelta(minutes=30)
    base_url: Url = "https://news.google.com"
    google_news_editions: list[
        Annotated[StrictStr, AfterValidator(_matching(r"[a-z]{2}-[A-Z]{2}", 'like "en-CA"'))]
    ] = ["en-CA", "fr-CA"]
    feeds: list[Url] = []


class GdeltSource(ApiSource):
    base_url: Url = "https://api.gdeltproject.org"
    min_request_interval: PositiveDuration = dt.timedelta(seconds=5)


class HackerNewsSource(ApiSource):
    interval: PositiveDuration = dt.timedelta(minutes=30)
    base_url: Url = "https://hn.algolia.com"


class BlueskySource(ApiSource):
    enabled: StrictBool = False
    base_url: Url = "https://bsky.social"
    credentials: BlueskyCredentials = BlueskyCredentials()


class XSource(ApiSource):
    enabled: StrictBool = False
    interval: PositiveDuration = dt.timedelta(hours=1)
    base_url: Url = "https://api.x.com"
    credentials: XCredentials = XCredentials()


class YouTubeSource(ApiSource):
    enabled: StrictBool = False
    interval: PositiveDuration = dt.timedelta(hours=2)
    base_url: Url = "https://www.googleapis.com"
    credentials: YouTubeCredentials = YouTubeCredentials()


class FactCheckSource(ApiSource):
    enabled: StrictBool = False
    interval: PositiveDuration = dt.timedelta(hours=6)
    base_url: Url = "https://factchecktools.googleapis.com"
    language_codes: list[
        Annotated[StrictStr, AfterValidator(_matching(r"[a-z]{2}(-[A-Z]{2})?", 'like "en"'))]
    ] = ["en", "fr"]
    credentials: FactCheckCredentials = FactCheckCredentials()


class Sources(Model):
    mastodon: MastodonSource = MastodonSource()
    reddit: RedditSource = RedditSource()
    news: NewsSource = NewsSource()
    gdelt: GdeltSource = GdeltSource()
    hackernews: HackerNewsSource = HackerNewsSource()
    bluesky: BlueskySource = BlueskySource()
    x: XSource = XSource()
    youtube: YouTubeSource = YouTubeSource()
    factcheck: FactCheckSource = FactCheckSource()

    def by_id(self) -> dict[str, Source]:
        return {source_id: getattr(self, source_id) for source_id in type(self).model_fields}


# --- schedule, digest, dashboard, warehouse -----------------------------------------------------


class Schedule(Model):
    timezone: Timezone = DEFAULT_TIMEZONE
    jitter: Duration = dt.timedelta(seconds=30)
    analyze_after_collect: StrictBool = True
    heartbeat: PositiveDuration = dt.timedelta(minutes=1)
    max_backoff: PositiveDuration = dt.timedelta(hours=6)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SmtpCredentials(Credentials):
    username: EnvName = "SMTP_USERNAME"
    password: EnvName = "SMTP_PASSWORD"


class Smtp(Model):
    host: Host
    port: StrictInt = Field(default=587, ge=1, le=65535)
    starttls: StrictBool = True
    from_addr: Email
    to_addrs: list[Email] = Field(min_length=1)
    credentials: SmtpCredentials = SmtpCredentials()
    # A CA bundle (PEM) to trust besides the system's, for a server with a private certificate.
    ca_file: Path | None = None


class Webhook(Model):
    url_env: EnvName | None = None
    url: SecretUrl | None = None

    @model_validator(mode="after")
    def _one_url(self) -> Self:
        if (self.url_env is None) == (self.url is None):
            found = "both" if self.url else "neither"
            raise ValueError(f"expected exactly one of url_env, url; found {found}")
        return self

    def masked(self, env: Mapping[str, str]) -> dict[str, str]:
        if self.url_env is not None:
            return {"url_env": _mask(self.url_env, env)}
        return {"url": "**** (set in the config file)"}


class Digest(Model):
    time: DayTime = dt.time(7, 0)
    timezone: Timezone | None = None  # None until loaded: then the schedule's time zone
    output_dir: Path = Path("data/digests")
    retries: StrictInt = Field(default=3, ge=0)
    retry_delay: Duration = dt.timedelta(seconds=5)  # before the first retry; doubles each time
    timeout: PositiveDuration = dt.timedelta(seconds=30)  # of one delivery attempt
    smtp: Smtp | None = None
    webhook: Webhook | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return value


class Alerts(Model):
    """Alerts raised between digests (digest/alerts.py), delivered like the digest."""

    enabled: StrictBool = True
    lookback: PositiveDuration = dt.timedelta(days=1)  # older events are not alerted
    spike_factor: Annotated[float, BeforeValidator(_number), Field(ge=1)] = 3.0
    spike_min_posts: StrictInt = Field(default=10, ge=1)
    spike_baseline: PositiveDuration = dt.timedelta(days=1)
    spike_cooldown: Duration = dt.timedelta(hours=6)


class Dashboard(Model):
    port: StrictInt = Field(default=8501, ge=1, le=65535)
    address: Host = "127.0.0.1"
    base_url: Url | None = None  # None: http://{address}:{port}

    @property
    def link_base(self) -> str:
        """Where links in digests and alerts point: `base_url`, else the app's own address."""
        if self.base_url is not None:
            return self.base_url
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"


class Warehouse(Model):
    lock_timeout: PositiveDuration = dt.timedelta(seconds=10)
    read_timeout: PositiveDuration = dt.timedelta(seconds=30)
    max_text_bytes: StrictInt = Field(default=1_048_576, ge=1)


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


# --- errors -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Problem:
    key: str  # dotted key path; for a TOML syntax error, the line and column
    message: str


class ConfigError(Exception):
    """An unusable config file; `str()` is one message, one line per problem."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path}: {p.key}: {p.message}" if p.key else f"{path}: {p.message}" for p in problems
        ]
        super().__init__("\n".join(lines))


def _did_you_mean(found: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(found, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expected_one_of(found: str, allowed: Iterable[str]) -> str:
    names = sorted(allowed)
    return f"expected one of {', '.join(names)}{_did_you_mean(found, names)}"


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "path_type": "a path (a string)",
    "string_too_short": "a non-empty string",
}
_BOUNDS = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">"}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _expectation(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"expected a number {_BOUNDS[kind]} {bound}"
    if kind == "too_short":
        return f"expected at least {ctx['min_length']} item(s); found {ctx['actual_length']}"
    if kind == "value_error":
        return str(ctx["error"])
    return str(error["msg"])


def _problem(error: ErrorDetails) -> Problem:
    loc, kind = error["loc"], error["type"]
    key = _key_path(loc)
    if kind == "extra_forbidden":
        return Problem(key, _unknown_key(loc))
    if kind == "missing":
        return Problem(key, "required key is missing")
    if kind == "secret":
        return Problem(key, str(error["msg"]))
    expected = _expectation(error)
    if "; found" in expected:  # our own validators may already say what they found
        return Problem(key, expected)
    return Problem(key, f"{expected}; found {_show(error['input'])}")


# --- finding the model behind a key path, for unknown-key messages ------------------------------


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X; `X | None` -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _child(annotation: Any, part: int | str) -> Any:
    annotation = _unwrap(annotation)
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if get_origin(annotation) in (dict, list):
        return get_args(annotation)[-1]
    return None


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    annotation: Any = Config
    for part in loc:
        annotation = _child(annotation, part)
    annotation = _unwrap(annotation)
    return annotation if _is_model(annotation) else None


def _nested_keys(annotation: Any, prefix: str, depth: int = 2) -> dict[str, str]:
    """Key name -> its path below a table, for keys of the tables nested in it."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:
        return _nested_keys(get_args(annotation)[0], prefix, depth)
    if get_origin(annotation) is dict:
        key, value = get_args(annotation)
        return _nested_keys(value, prefix + (".<language>" if key == Language else ".<id>"), depth)
    if not _is_model(annotation) or depth == 0:
        return {}
    fields = annotation.model_fields
    keys = {name: f"{prefix}.{name}" for name in fields}
    for name, field in fields.items():  # the nearest table wins
        keys = _nested_keys(field.annotation, f"{prefix}.{name}", depth - 1) | keys
    return keys


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    model, key = _model_at(loc[:-1]), str(loc[-1])
    if model is None or not model.model_fields:
        return "unknown key; this table takes no keys"
    message = f"unknown key; {_expected_one_of(key, model.model_fields)}"
    if "did you mean" in message:
        return message
    deeper = {
        name: path
        for field, info in model.model_fields.items()
        for name, path in _nested_keys(info.annotation, field).items()
    }
    close = difflib.get_close_matches(key, deeper, n=1, cutoff=0.8)
    if close:
        path = deeper[close[0]]
        message += f" (did you mean {path.split('.')[0]!r}? {close[0]!r} goes in {path})"
    return message


# --- cross-field checks -------------------------------------------------------------------------


def _topic_problems(key: str, topic: Topic) -> list[Problem]:
    languages = ", ".join(dict.fromkeys(topic.languages))
    repeated = sorted({lang for lang in topic.languages if topic.languages.count(lang) > 1})
    problems = [
        Problem(f"{key}.languages", f"expected each language once; found {_show(lang)} twice")
        for lang in repeated
    ]
    problems += [
        Problem(
            f"{key}.terms",
            f"expected a table for each language ({languages}); found none for {_show(lang)}",
        )
        for lang in dict.fromkeys(topic.languages)
        if lang not in topic.terms
    ]
    for table in ("terms", "queries"):
        problems += [
            Problem(
                f"{key}.{table}.{lang}",
                f"expected a language of the topic ({languages}); found {_show(lang)}",
            )
            for lang in getattr(topic, table)
            if lang not in topic.languages
        ]
    return problems


def _claim_problems(key: str, claim: Claim, topics: Mapping[str, Topic]) -> list[Problem]:
    topic = topics.get(claim.topic)
    if topic is None:
        expected = (
            f"a topic defined in [topics] ({', '.join(topics)}){_did_you_mean(claim.topic, topics)}"
        )
        return [Problem(f"{key}.topic", f"expected {expected}; found {_show(claim.topic)}")]
    languages = ", ".join(dict.fromkeys(topic.languages))
    return [
        Problem(
            f"{key}.{table}.{lang}",
            f"expected a language of topic {_show(claim.topic)} ({languages}); found {_show(lang)}",
        )
        for table, terms in claim.term_tables().items()
        for lang in terms
        if lang not in topic.languages
    ]


def _cross_field_problems(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for topic_id, topic in config.topics.items():
        problems += _topic_problems(f"topics.{topic_id}", topic)
    for claim_id, claim in config.claims.items():
        problems += _claim_problems(f"claims.{claim_id}", claim, config.topics)
    return problems


# --- loading and rendering ----------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        message = "config file not found; choose another with --config PATH or CLAIMWATCH_CONFIG"
        raise ConfigError(path, [Problem("", message)]) from None
    except OSError as error:
        raise ConfigError(path, [Problem("", f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError as error:
        raise ConfigError(path, [Problem("", f"expected UTF-8 text; {error.reason}")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [_syntax_problem(str(error), text)]) from None


def _syntax_problem(message: str, text: str) -> Problem:
    what, _, where = message.partition(" (at ")
    position = re.fullmatch(r"line (\d+), column (\d+)\)", where)
    if position is None:  # "(at end of document)"
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    else:
        line, column = int(position[1]), int(position[2])
    return Problem(f"line {line}, column {column}", f"invalid TOML: {what}")


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; `env` resolves credentials (default: os.environ)."""
    data = _read_toml(path)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(path, [_problem(e) for e in error.errors()]) from None
    problems = _cross_field_problems(config)
    if problems:
        raise ConfigError(path, problems)
    config._path = path
    config._env = os.environ if env is None else env
    return config


def render_effective(config: Config) -> str:
    """The effective config as TOML, defaults filled in; credentials show only their env names."""
    data = config.model_dump(mode="json", exclude_none=True)
    for source_id, source in config.sources.by_id().items():
        masked = source.credentials.masked(config.env)
        if masked:
            data["sources"][source_id]["credentials"] = masked
        else:
            del data["sources"][source_id]["credentials"]
    if config.digest.smtp is not None:
        data["digest"]["smtp"]["credentials"] = config.digest.smtp.credentials.masked(config.env)
    if config.digest.webhook is not None:
        data["digest"]["webhook"] = config.digest.webhook.masked(config.env)
    header = f"# Effective configuration from {config.path}: defaults filled in, secrets masked.\n"
    return header + tomli_w.dumps(data)
