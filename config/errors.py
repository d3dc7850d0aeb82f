"""`ConfigError`, the one message for an unusable config file, one `Problem` a line; the helpers
that word what was expected and what was found.
"""

import dataclasses
import difflib
import json
from collections.abc import Iterable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Problem:
    key: str  # dotted key path; for a TOML syntax error, the line and column
    message: str


class ConfigError(Exception):
    """An unusable config file; `str()` is one message, one line per problem."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path}: {p.key}: {p.message}" if p.key else f"{path}: {p.message}" for p in problems
        ]
        super().__init__("\n".join(lines))


def _did_you_mean(found: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(found, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expected_one_of(found: str, allowed: Iterable[str]) -> str:
    names = sorted(allowed)
    return f"expected one of {', '.join(names)}{_did_you_mean(found, names)}"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return str(value)
