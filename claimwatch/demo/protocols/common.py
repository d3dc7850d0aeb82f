"""What several of the demo's protocols share: the reply a route returns, the rate budget it
spends, ISO times and the page-size parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Spend = Callable[[], tuple[int, int, float]]  # one more request: (limit, remaining, s to reset)


@dataclass
class Reply:
    """A route's answer: its body (JSON-able, or bytes sent as they are), status and headers, and
    what the request log notes of it: the API (None: nothing) and the posts (or articles) served."""

    body: object
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    api: str | None = None
    served: int = 0


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_limit(query: dict[str, str], *, default: int, cap: int, name: str = "limit") -> int:
    try:
        return max(1, min(int(query.get(name, default)), cap))
    except ValueError:
        return default
