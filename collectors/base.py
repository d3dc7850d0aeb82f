"""What every collector is: one small shape, so the runner treats all sources alike.

A collector is a class with a `source` name and one async generator, `pages`. It takes a topic's
query, the cursors saved by earlier runs and a `SourceHttp` (which wraps the run's injected
`httpx.AsyncClient`), and yields `Page`s: the posts of one API page as Post records (DESIGN.md's
contract, the source's own JSON kept as `raw`), the cursor to resume after that page, and what
the API said of its rate limit. A page whose body cannot be read is yielded as a `BadPage`, with
the raw body, so the runner can quarantine it and go on.

A source with several independent streams (Mastodon instances, news editions) names each one's
`scope`; the runner saves one cursor per (source, topic, scope), and only after the page's posts
are committed, so a crash re-fetches and never skips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from collectors.http import RateLimit, SourceHttp

PostRecord = dict[
    str, Any
]  # the Post contract's fields; at least source, source_id, created_at, text


@dataclass(frozen=True)
class TopicQuery:
    """What to ask a source for one topic: its search queries and hashtags, by language."""

    topic: str
    queries: Mapping[str, list[str]]  # language -> search strings
    hashtags: list[str] = field(default_factory=list)  # without '#'

    def all_queries(self) -> list[str]:
        """Every query once, in config order, whatever its language."""
        return list(dict.fromkeys(q for qs in self.queries.values() for q in qs))


@dataclass(frozen=True)
class Page:
    posts: list[PostRecord]  # every post the page held, matching the topic or not
    cursor: str | None  # where to resume after this page; None when the stream is exhausted
    scope: str = ""  # which stream of the source (an instance, an edition); "" for one stream
    url: str = ""  # the page's URL (secrets removed), for the run's record
    rate_limit: RateLimit | None = None


@dataclass(frozen=True)
class BadPage:
    """A page that arrived but could not be read; its paging stops, the run goes on."""

    error: str
    payload: str  # the body as received (cut to a bounded size by the runner)
    scope: str = ""
    url: str = ""


class Collector(Protocol):
    source: str

    def pages(
        self, query: TopicQuery, cursors: Mapping[str, str | None], http: SourceHttp
    ) -> AsyncIterator[Page | BadPage]: ...
