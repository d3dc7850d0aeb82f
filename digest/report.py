"""The numbers of the daily digest (placeholder until the digest lands; signatures are final)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from claimwatch.config import Config
from warehouse import Warehouse


@dataclass(frozen=True)
class DigestResult:
    day: date
    markdown_path: Path
    html_path: Path
    rewritten: bool
    deliveries: list[tuple[str, str, str | None]] = field(default_factory=list)


def due_day(config: Config, warehouse: Warehouse, now: datetime) -> date | None:
    return None


def write_digest(
    config: Config,
    warehouse: Warehouse,
    day: date,
    *,
    now: datetime | None = None,
    deliver: bool = True,
    force: bool = False,
) -> DigestResult:
    raise NotImplementedError("the digest is being written")
