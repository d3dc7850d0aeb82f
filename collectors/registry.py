"""Which collector serves which configured source, built from the config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from collectors.base import Collector
from collectors.fields import utcnow
from config import (
    BlueskySource,
    Config,
    FactCheckSource,
    GdeltSource,
    HackerNewsSource,
    MastodonSource,
    NewsSource,
    RedditSource,
    XSource,
    YouTubeSource,
)


def build_collector(
    source_id: str, config: Config, now: Callable[[], datetime] = utcnow
) -> Collector:
    """The collector for `source_id`, built from its config and its credentials, which the caller
    has checked are set (`Config.missing_credentials`). `now` is the clock of the sources that
    ask for time windows (GDELT, Hacker News, X): the demo's simulated time."""
    source = config.source(source_id)
    if isinstance(source, MastodonSource):
        from collectors.mastodon import MastodonCollector

        return MastodonCollector(
            [str(url) for url in source.instances],
            list(source.hashtags),
            max_pages=source.max_pages,
        )
    if isinstance(source, NewsSource):
        from collectors.news import NewsCollector

        return NewsCollector(
            str(source.base_url),
            list(source.google_news_editions),
            [str(url) for url in source.feeds],
        )
    if isinstance(source, GdeltSource):
        from collectors.gdelt import GdeltCollector

        return GdeltCollector(str(source.base_url), max_pages=source.max_pages, now=now)
    if isinstance(source, HackerNewsSource):
        from collectors.hackernews import HackerNewsCollector

        return HackerNewsCollector(
            str(source.base_url), max_pages=source.max_pages, clock=lambda: now().timestamp()
        )
    if isinstance(source, BlueskySource):
        from collectors.bluesky import BlueskyCollector

        secrets = config.credentials(source_id)
        return BlueskyCollector(
            str(source.base_url),
            secrets["handle"].get_secret_value(),
            secrets["app_password"].get_secret_value(),
            max_pages=source.max_pages,
        )
    if isinstance(source, RedditSource):
        from collectors.reddit import RedditCollector

        secrets = config.credentials(source_id)
        client_id, client_secret = secrets.get("client_id"), secrets.get("client_secret")
        return RedditCollector(
            str(source.base_url),
            str(source.oauth_url),
            list(source.subreddits),
            client_id=client_id.get_secret_value() if client_id else None,
            client_secret=client_secret.get_secret_value() if client_secret else None,
            max_pages=source.max_pages,
        )
    if isinstance(source, XSource):
        from collectors.x import XCollector

        token = config.credentials(source_id)["bearer_token"]
        return XCollector(
            str(source.base_url), token.get_secret_value(), max_pages=source.max_pages, now=now
        )
    if isinstance(source, YouTubeSource):
        from collectors.youtube import YouTubeCollector

        key = config.credentials(source_id)["api_key"]
        return YouTubeCollector(
            str(source.base_url), key.get_secret_value(), max_pages=source.max_pages
        )
    if isinstance(source, FactCheckSource):
        from collectors.factcheck import FactCheckCollector

        key = config.credentials(source_id)["api_key"]
        return FactCheckCollector(
            str(source.base_url),
            key.get_secret_value(),
            list(source.language_codes),
            max_pages=source.max_pages,
        )
    raise ValueError(f"claimwatch has no collector for {source_id!r}")
