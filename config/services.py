"""The settings of the services around collection: schedule, digest and its delivery (SMTP,
webhook), alerts, dashboard and warehouse.
"""

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from config.credentials import SmtpCredentials, _mask
from config.values import (
    DEFAULT_TIMEZONE,
    DayTime,
    Duration,
    Email,
    EnvName,
    Host,
    Model,
    PositiveDuration,
    SecretUrl,
    Timezone,
    Url,
)


class Schedule(Model):
    timezone: Timezone = DEFAULT_TIMEZONE
    jitter: Duration = dt.timedelta(seconds=30)
    analyze_after_collect: StrictBool = True
    heartbeat: PositiveDuration = dt.timedelta(minutes=1)
    max_backoff: PositiveDuration = dt.timedelta(hours=6)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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


def _page_base(value: str) -> str:
    """A public URL is the base of links that add a path and a query: it may have a path of its
    own (a dashboard behind a proxy), never a query or a fragment."""
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValueError(
            'expected the dashboard\'s address without "?" or "#", like'
            ' "https://claimwatch.example.org"'
        )
    return value


PublicUrl = Annotated[Url, AfterValidator(_page_base)]


class Dashboard(Model):
    port: StrictInt = Field(default=8501, ge=1, le=65535)
    address: Host = "127.0.0.1"
    # where people reach the dashboard (None: http://{address}:{port}); `base_url` is its older
    # name, still read
    public_url: PublicUrl | None = Field(
        default=None, validation_alias=AliasChoices("public_url", "base_url")
    )

    @property
    def link_base(self) -> str:
        """Where links in digests and alerts point: `public_url`, else the app's own address."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"


class Warehouse(Model):
    lock_timeout: PositiveDuration = dt.timedelta(seconds=10)
    read_timeout: PositiveDuration = dt.timedelta(seconds=30)
    max_text_bytes: StrictInt = Field(default=1_048_576, ge=1)
