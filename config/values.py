"""The scalar types of the config (durations, times of day, ids, URLs, environment variable names,
time zones, terms) and `Model`, the base of every table.
"""

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    StrictStr,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from config.errors import _did_you_mean

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
