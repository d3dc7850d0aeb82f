"""One collection pass: every chosen source for every chosen topic, sources side by side."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx

from collectors.fields import utcnow
from collectors.http import SourceHttp
from collectors.registry import build_collector
from collectors.runner import RunSummary, not_configured, run_collector
from config import Config
from warehouse import Warehouse

log = logging.getLogger(__name__)

OnPage = Callable[[RunSummary], None]
ShouldStop = Callable[[], bool]


def chosen(
    config: Config, sources: Sequence[str], topics: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The enabled sources and the topics to collect, checked against the config."""
    known_sources = config.sources.by_id()
    for name in sources:
        config.source(name)  # raises with the known names for an unknown one
    for name in topics:
        if name not in config.topics:
            raise KeyError(f"unknown topic {name!r}; the config has {', '.join(config.topics)}")
    picked = list(sources) or [s for s, c in known_sources.items() if c.enabled]
    return picked, list(topics) or list(config.topics)


async def collect(
    config: Config,
    warehouse: Warehouse,
    sources: Sequence[str],
    topics: Sequence[str],
    on_page: OnPage | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    should_stop: ShouldStop | None = None,
    now: Callable[[], datetime] = utcnow,
) -> list[RunSummary]:
    """Run every source in `sources` for every topic in `topics`, sources side by side. Once
    `should_stop` turns true, each source stores the page in hand and starts no further topic.
    `now` is the clock of the sources that ask for time windows."""
    runs = [
        _collect_source(config, warehouse, transport, s, topics, on_page, should_stop, now)
        for s in sources
    ]
    summaries = [summary for done in await asyncio.gather(*runs) for summary in done]
    offline = offline_summary(summaries)
    if offline and len(sources) > 1:
        log.warning(offline)
    return summaries


def offline_summary(summaries: Sequence[RunSummary]) -> str | None:
    """One line when no source that ran could reach its hosts (two at least: one alone may just
    be down): "no network: 5 sources unreachable (...)"; None otherwise."""
    ran = [s for s in summaries if s.status != "not_configured"]
    sources = sorted({s.source for s in ran})
    if len(sources) < 2 or any(s.unreachable is None for s in ran):
        return None
    reason = ran[0].unreachable
    return (
        f"no network: {len(sources)} sources unreachable ({', '.join(sources)}); the first:"
        f" {reason}. Check the connection, or the proxy settings (HTTPS_PROXY)."
    )


async def _collect_source(
    config: Config,
    warehouse: Warehouse,
    transport: httpx.AsyncBaseTransport | None,
    source_id: str,
    topics: Sequence[str],
    on_page: OnPage | None,
    should_stop: ShouldStop | None,
    now: Callable[[], datetime],
) -> list[RunSummary]:
    missing = config.missing_credentials(source_id)
    if missing:
        return [await asyncio.to_thread(not_configured, warehouse, source_id, topics[0], missing)]
    collector = build_collector(source_id, config, now)
    source = config.source(source_id)
    timeout = httpx.Timeout(source.timeout.total_seconds())
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        http = SourceHttp(
            client,
            source_id,
            user_agent=source.user_agent,
            min_interval=_min_interval(source),
            should_stop=should_stop,
        )
        summaries: list[RunSummary] = []
        for topic in topics:
            if should_stop and should_stop() and summaries:
                break
            summaries.append(
                await run_collector(
                    collector,
                    topic,
                    config.topics[topic],
                    warehouse,
                    http,
                    on_page,
                    should_stop,
                    now=now,
                )
            )
        return summaries


def _min_interval(source: object) -> float:
    interval = getattr(source, "min_request_interval", None)
    return interval.total_seconds() if interval is not None else 0.0
