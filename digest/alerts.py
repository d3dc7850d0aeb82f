"""Alerts between digests (placeholder until the alerts land; the signature is final)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from claimwatch.config import Config
from warehouse import Warehouse


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str
    claim_id: str
    message: str


def check_alerts(config: Config, warehouse: Warehouse, now: datetime) -> list[Alert]:
    return []
