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
