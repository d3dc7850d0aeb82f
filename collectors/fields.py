"""Reading fields out of an API's JSON, the same way in every collector.

APIs send a field as the wrong type now and then (a count as a string, a null where text was
expected); these read a value or give None, never raise.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def text_or_none(value: object) -> str | None:
    """The value if it is a string (possibly empty), else None."""
    return value if isinstance(value, str) else None


def nonempty_text(value: object) -> str | None:
    """The value if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def count(value: object) -> int | None:
    """A count: an integer, a whole float or a string of digits; anything else is None.

    Negative values are kept: a Reddit score can be below zero.
    """
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def as_utc(when: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def utc_time(value: object) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (no offset: UTC); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def iso_z(when: datetime) -> str:
    """UTC to the second with a `Z`, the form Google's APIs take (`2026-01-30T12:00:00Z`)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
