"""Shared plumbing for the collector unit tests: one pass of a collector against a fake server.

Every request goes through `httpx.MockTransport` to a `Handler`, and `SourceHttp` sleeps on
`no_sleep`, so nothing touches the network and nothing waits. Import it as a sibling module:
`from collector_harness import Handler, run_pages`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from collectors.base import BadPage, Collector, Page, TopicQuery
from collectors.http import SourceHttp

Handler = Callable[[httpx.Request], httpx.Response]


async def no_sleep(seconds: float) -> None:
    """A `sleep` that returns at once, for `SourceHttp` and the collectors that take one."""
    return None


@asynccontextmanager
async def mock_http(
    source: str,
    handler: Handler,
    requests: list[httpx.Request] | None = None,
    **http_options: Any,
) -> AsyncIterator[SourceHttp]:
    """A `SourceHttp` for `source` whose requests go to `handler`, appended to `requests` if given.

    `http_options` go to `SourceHttp` (its `sleep` is `no_sleep` unless one is passed).
    """

    def route(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(request)
        return handler(request)

    http_options.setdefault("sleep", no_sleep)
    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
        yield SourceHttp(client, source, **http_options)


def run_pages(
    collector: Collector,
    source: str,
    handler: Handler,
    query: TopicQuery,
    cursors: Mapping[str, str | None] | None = None,
    **http_options: Any,
) -> tuple[list[Page | BadPage], list[httpx.Request]]:
    """Run one pass of `collector` against `handler`: every page it yields, and every request sent.

    `http_options` go to `SourceHttp`, as in `mock_http`.
    """
    requests: list[httpx.Request] = []

    async def main() -> list[Page | BadPage]:
        async with mock_http(source, handler, requests, **http_options) as http:
            return [page async for page in collector.pages(query, cursors or {}, http)]

    return asyncio.run(main()), requests


@dataclass(frozen=True)
class SourceRunner:
    """`run_pages` for one source with a default query, called as
    `collect(handler, collector, query=<default>, cursors=None)`."""

    source: str
    query: TopicQuery

    def __call__(
        self,
        handler: Handler,
        collector: Collector,
        query: TopicQuery | None = None,
        cursors: Mapping[str, str | None] | None = None,
    ) -> tuple[list[Page | BadPage], list[httpx.Request]]:
        return run_pages(
            collector, self.source, handler, self.query if query is None else query, cursors
        )


def only_pages(pages: list[Page | BadPage]) -> list[Page]:
    """The pages, all of which must be readable (no `BadPage`)."""
    assert all(isinstance(page, Page) for page in pages), pages
    return [page for page in pages if isinstance(page, Page)]
