"""The resumable cursor of a newest-first search that a pass may read only part of.

Shared by `collectors.reddit`, `collectors.bluesky`, `collectors.hackernews` and `collectors.x`,
whose module docstrings say what is their own: the order (a time or an id), the field names, how
the API is asked for the top and for the gap. A stream's cursor is a small JSON object, saved per
(source, topic, scope):

- `newest`: the high-water mark, the highest point of the stream's order (a time or an id) among
  the posts the stream has read;
- while a pass has left posts unread, a pending *gap*: where it starts (Reddit's `after`, a
  listing position; Bluesky's and X's `until`, an upper bound) and its `floor` (null: down to the
  end of what the API serves); Hacker News writes both ends as one interval, `"gap": [lo, hi]`.

A pass reads from the top down to the mark (less an overlap), then, with pages left, through the
pending gap (`collectors.pager` is that loop, for the sources that page by a next-page
position). Every page's cursor is the state *as if the pass stopped right after that page*
(`Cursor.after_page`): the mark moved to the newest post seen so far, and as the gap what lies
unread below the page, merged with the older pending gap (which lies below it: the lower floor is
kept) so that one gap covers both; a page with nothing unread below it leaves the pending gap as
it was. So a pass cut short by `max_pages` is finished by the next passes, and a crash after any
committed page re-reads, never skips (the warehouse dedups on `post_uid`). The first page of a
never-seen stream with no posts has cursor None.

Loading (`Cursor.load`) is lenient: no text is a fresh start, a bare value (a number, an id, a
timestamp: the source's `CursorFormat.bare` says which) is a `newest` alone, and anything
unreadable is logged and starts the stream afresh (re-reading is safe, skipping is not). A floor
without a gap is dropped. Each source subclasses `Cursor` with its `CursorFormat`, which fixes the
JSON field names and encodings, so the cursors it saved before this module existed load unchanged.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeGuard, TypeVar

__all__ = [
    "DIGITS",
    "INTEGER",
    "SECONDS",
    "Codec",
    "Cursor",
    "CursorFormat",
    "bare_json",
    "is_number",
    "lower",
    "newest_of",
    "oldest_of",
    "passes",
]

log = logging.getLogger(__name__)


class Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=Ordered)  # a point of the stream's order: a time or an id
G = TypeVar("G")  # where a gap starts: a bound, an API position, or the whole interval
V = TypeVar("V")


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite JSON number (a bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same(value: V) -> V:
    return value


# --- the JSON format -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Codec(Generic[V]):
    """One value's JSON form. `parse` reads a non-null JSON value (raising ValueError when it is
    unreadable; returning None when it means "absent"); `dump` writes it."""

    parse: Callable[[Any], V | None]
    dump: Callable[[V], Any] = _same


def _seconds(value: Any) -> float:
    if not is_number(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _integer(value: Any) -> int:
    if not is_number(value):
        raise ValueError(f"{value!r} is not a number")
    return int(value)


def _digits(value: Any) -> str:
    if not (isinstance(value, str) and value.isdigit()):
        raise ValueError(f"{value!r} is not a numeric id")
    return value


SECONDS: Codec[float] = Codec(_seconds)  # epoch seconds as a JSON number
INTEGER: Codec[int] = Codec(_integer)  # an integer (epoch seconds, an id) as a JSON number
DIGITS: Codec[str] = Codec(_digits)  # a numeric id (a snowflake) as a JSON string of digits


def bare_json(parse: Callable[[Any], V | None]) -> Callable[[str], V | None]:
    """A `CursorFormat.bare`: the text as one non-null JSON value `parse` accepts, else None."""

    def bare(text: str) -> V | None:
        try:
            value = json.loads(text)
            return None if value is None else parse(value)
        except ValueError:  # json.JSONDecodeError is a ValueError
            return None

    return bare


@dataclass(frozen=True)
class CursorFormat(Generic[T, G]):
    """How a source writes its cursor: `{"newest": <mark>, <gap_key>: <gap>, <floor_key>: <mark>}`,
    the gap and floor only while a gap is pending; no `floor_key` when the gap value holds its own
    floor. `bare` reads a cursor saved as a plain value (a `newest` alone); None: it is not one."""

    source: str  # for the log
    mark: Codec[T]  # `newest` and `floor`
    gap: Codec[G]
    gap_key: str
    bare: Callable[[str], T | None]
    floor_key: str | None = "floor"


# --- the cursor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor(Generic[T, G]):
    """A stream's resume state; see the module docstring. `gap` set means a gap is pending, and
    `floor` (None: down to the end) goes with it. Subclasses set `FORMAT`."""

    newest: T | None = None
    gap: G | None = None
    floor: T | None = None

    FORMAT: ClassVar[CursorFormat[Any, Any]]

    def dump(self) -> str | None:
        if self.newest is None and self.gap is None:
            return None
        fmt = self.FORMAT
        state: dict[str, Any] = {"newest": _dump(fmt.mark, self.newest)}
        if self.gap is not None:
            state[fmt.gap_key] = fmt.gap.dump(self.gap)
            if fmt.floor_key is not None:
                state[fmt.floor_key] = _dump(fmt.mark, self.floor)
        return json.dumps(state, separators=(",", ":"))

    @classmethod
    def load(cls, text: str | None) -> Self:
        """The saved state; a bare value is a `newest`; anything unreadable starts afresh."""
        if not text:
            return cls()
        fmt = cls.FORMAT
        bare = fmt.bare(text)
        if bare is not None:
            return cls(newest=bare)
        try:
            state = json.loads(text)
            if not isinstance(state, dict):
                raise ValueError("not an object")
            newest = _parse(fmt.mark, state, "newest")
            gap = _parse(fmt.gap, state, fmt.gap_key)
            floor = None if fmt.floor_key is None else _parse(fmt.mark, state, fmt.floor_key)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            log.warning(
                "%s: unreadable cursor %r (%s); reading the stream afresh", fmt.source, text, exc
            )
            return cls()
        return cls(newest, gap, floor if gap is not None else None)

    def after_page(
        self,
        newest: T | None,
        below: G | None = None,
        floor: T | None = None,
        *,
        pending: bool = True,
    ) -> Self:
        """The cursor to save after a page, as if the pass stopped right there: the mark `newest`,
        and the gap `below` the page down to `floor` (`below` None: nothing is unread below it).
        With `pending`, this state's gap, which lies below the page, is still to be read: it is
        kept alone, or merged into the new gap (the lower floor). Without (a page of that gap
        itself, or the end of what the API serves) it is dropped."""
        keep = pending and self.gap is not None
        if below is None:
            return type(self)(newest, self.gap, self.floor) if keep else type(self)(newest)
        return type(self)(newest, below, lower(floor, self.floor) if keep else floor)


def _dump(codec: Codec[V], value: V | None) -> Any:
    return None if value is None else codec.dump(value)


def _parse(codec: Codec[V], state: dict[str, Any], key: str) -> V | None:
    value = state.get(key)
    if value is None:
        return None
    try:
        return codec.parse(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


# --- the order -----------------------------------------------------------------------------------


def lower(a: T | None, b: T | None) -> T | None:
    """The lower of two floors, None meaning "no floor" (down to the end)."""
    return None if a is None or b is None else min(a, b)


def passes(seen: Iterable[T], bound: T | None) -> bool:
    """Whether any of `seen` lies below `bound` (never, when there is no bound)."""
    return bound is not None and any(t < bound for t in seen)


def newest_of(newest: V | None, seen: Iterable[V], key: Callable[[V], Any] = _same) -> V | None:
    """The highest of a mark and the points just seen (by `key`, e.g. `int` for ids as strings)."""
    return max([*([] if newest is None else [newest]), *seen], key=key, default=None)


def oldest_of(oldest: V | None, seen: Iterable[V], key: Callable[[V], Any] = _same) -> V | None:
    """The lowest of a bound and the points just seen (by `key`)."""
    return min([*([] if oldest is None else [oldest]), *seen], key=key, default=None)
