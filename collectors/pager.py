"""The two-phase pass of a newest-first search: down to the mark, then through the pending gap.

Bluesky, Reddit and X read their streams the same way (`collectors/cursor.py` describes the saved
state); what differs is how each asks its API for a page and where it says the unread part below
a page starts. A source gives that as a `PageReader`; `two_phase_pass` is the loop:

1. **The top**: from the newest post down, page by page, until a page holds a post below the mark
   (`mark`, the saved high-water mark less the source's overlap), or the API has no next page, or
   `max_pages` is spent. A source whose API itself stops at the mark (X's `since_id`) says so with
   `stops_at_mark`: there, no next page means the mark was reached; elsewhere it means nothing older
   is left at all, so the pending gap closes too.
2. **The gap**, with pages left and a gap pending: from the gap's start down to its floor, until a
   page holds a post below the floor or the API has no next page.

Every page is yielded with the cursor to save as if the pass stopped right after it
(`Cursor.after_page`): the mark moved to the newest post seen, and as the gap what lies unread
below the page (`Read.below`, the source's rule; the last one a phase gave when a page gives none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from collectors.base import BadPage, Page, PostRecord
from collectors.cursor import Cursor, newest_of, passes
from collectors.http import RateLimit

__all__ = ["PageReader", "Read", "two_phase_pass"]

T = TypeVar("T")  # a point of the stream's order: a time or an id
G = TypeVar("G")  # where a gap starts: an upper bound or an API position
P = TypeVar("P")  # the API's own position for the next page (an opaque cursor, a token)


@dataclass(frozen=True)
class Read(Generic[T, G, P]):
    """What one API page gave, as the pass needs it."""

    posts: list[PostRecord]
    points: list[T]  # the order point (time or id) of each readable hit, as the API listed them
    next: P | None  # where the next page is asked from; None: this walk's results ended
    below: G | None  # where the unread part below this page starts (None: the page had no hit)
    url: str = ""
    rate_limit: RateLimit | None = None
    bad: list[BadPage] = field(default_factory=list)  # its unreadable posts, one BadPage each


class PageReader(Protocol[T, G, P]):
    """How one stream of a source asks for a page of the top, and of a pending gap."""

    @property
    def scope(self) -> str: ...

    @property
    def stops_at_mark(self) -> bool:
        """The API is asked for posts above the mark only (X's since_id)."""
        ...

    async def top(self, mark: T | None, position: P | None) -> Read[T, G, P] | BadPage: ...

    async def gap(self, gap: G, floor: T | None, position: P | None) -> Read[T, G, P] | BadPage: ...


async def two_phase_pass(
    reader: PageReader[T, G, P],
    state: Cursor[Any, Any],
    mark: T | None,
    max_pages: int,
    *,
    key: Callable[[T], Any] | None = None,
) -> AsyncIterator[Page | BadPage]:
    """One stream's pass; see the module docstring. `state` is the saved cursor (with any gap
    the API can no longer serve already left out), `mark` how far down the top is read, `key`
    how order points compare when they are not ordered as they are (ids as strings)."""
    points_key = key or _same
    newest = state.newest
    # A gap this pass leaves must also cover the pending one, which lies below it.
    top_floor = mark if state.gap is None else _lower(mark, state.floor, points_key)
    pages_left = max_pages
    position: P | None = None
    below: G | None = None
    reached = False
    while pages_left and not reached:
        pages_left -= 1
        read = await reader.top(mark, position)
        if isinstance(read, BadPage):
            yield read
            return
        for bad in read.bad:
            yield bad
        newest = newest_of(newest, read.points, key=points_key)
        below = read.below if read.below is not None else below
        position = read.next
        stopped = position is None
        reached = _below(read.points, mark, points_key) or (stopped and reader.stops_at_mark)
        ended = stopped and not reader.stops_at_mark  # nothing older is left, gap or not
        unread = None if ended or reached else below
        cursor = state.after_page(newest, unread, top_floor, pending=not ended)
        yield Page(read.posts, cursor.dump(), reader.scope, read.url, read.rate_limit)
        if ended:
            return
    if not reached or state.gap is None:
        return  # pages spent (the gap is saved), or nothing pending

    floor = state.floor
    position, below = None, state.gap
    while pages_left:
        pages_left -= 1
        read = await reader.gap(state.gap, floor, position)
        if isinstance(read, BadPage):
            yield read
            return
        for bad in read.bad:
            yield bad
        newest = newest_of(newest, read.points, key=points_key)
        below = read.below if read.below is not None else below
        closed = read.next is None or _below(read.points, floor, points_key)
        cursor = state.after_page(newest, None if closed else below, floor, pending=False)
        yield Page(read.posts, cursor.dump(), reader.scope, read.url, read.rate_limit)
        if closed:
            return
        position = read.next


def _same(value: Any) -> Any:
    return value


def _lower(a: T | None, b: T | None, key: Callable[[T], Any]) -> T | None:
    return None if a is None or b is None else min(a, b, key=key)


def _below(points: list[T], bound: T | None, key: Callable[[T], Any]) -> bool:
    return bound is not None and passes((key(p) for p in points), key(bound))
