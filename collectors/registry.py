"""Which collector serves which configured source, built from the config."""

from __future__ import annotations

from claimwatch.config import Config, MastodonSource, RedditSource
from collectors.base import Collector

# Sources the config knows that have no collector yet; `claimwatch collect` says so plainly.
NOT_BUILT_YET = ("news", "gdelt", "hackernews", "bluesky", "x", "youtube", "factcheck")


def build_collector(source_id: str, config: Config) -> Collector | None:
    """The collector for `source_id`, or None when claimwatch has none for it yet."""
    source = config.source(source_id)
    if isinstance(source, MastodonSource):
        from collectors.mastodon import MastodonCollector

        return MastodonCollector(
            [str(url) for url in source.instances],
            list(source.hashtags),
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
    return None
