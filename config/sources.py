"""The sources collected from (`[sources.<id>]`), each with its interval, limits and credentials."""

# Model is a pydantic model, which copies mutable defaults per instance; ruff sees that only for
# direct BaseModel subclasses in the same file (astral-sh/ruff#13630).
# ruff: noqa: RUF012

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr

from config.credentials import (
    BlueskyCredentials,
    Credentials,
    FactCheckCredentials,
    RedditCredentials,
    XCredentials,
    YouTubeCredentials,
)
from config.values import USER_AGENT, Hashtag, Model, PositiveDuration, Term, Url, _matching


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
