"""What the digest and the alerts keep in the warehouse: digests written, alerts raised, every
delivery attempt. Reads go through the documented views (`digests`, `alerts`, `deliveries`);
writes go to the tables under them (`store.digests`, `store.alerts`, `store.deliveries`), each in
its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from warehouse import Warehouse


@dataclass(frozen=True)
class DigestRecord:
    day: date
    markdown_path: str
    html_path: str
    written_at: datetime
    rewrites: int


def digest_written(warehouse: Warehouse, day: date) -> DigestRecord | None:
    """The digest of `day` as recorded, or None if none was written (or no warehouse exists)."""
    if not warehouse.path.exists():
        return None
    with warehouse.reading() as con:
        row = con.execute(
            "SELECT day, markdown_path, html_path, written_at, rewrites FROM digests WHERE day = ?",
            [day],
        ).fetchone()
    return DigestRecord(*row) if row else None


def save_digest(
    warehouse: Warehouse,
    day: date,
    timezone: str,
    markdown_path: Path,
    html_path: Path,
    sha256: str,
    at: datetime,
) -> None:
    with warehouse.writing() as con:
        con.execute(
            """
            INSERT INTO store.digests
                (day, timezone, markdown_path, html_path, content_sha256, written_at, rewrites)
            VALUES (?, ?, ?, ?, ?, ?, 0)
            ON CONFLICT (day) DO UPDATE SET
                timezone = excluded.timezone, markdown_path = excluded.markdown_path,
                html_path = excluded.html_path, content_sha256 = excluded.content_sha256,
                written_at = excluded.written_at, rewrites = store.digests.rewrites + 1""",
            [day, timezone, str(markdown_path), str(html_path), sha256, at],
        )


def delivered_channels(warehouse: Warehouse, item_kind: str, item_id: str) -> set[str]:
    """The channels that already delivered an item: they never get it again."""
    if not warehouse.path.exists():
        return set()
    with warehouse.reading() as con:
        rows = con.execute(
            "SELECT channel FROM deliveries"
            " WHERE item_kind = ? AND item_id = ? AND status = 'delivered'",
            [item_kind, item_id],
        ).fetchall()
    return {channel for (channel,) in rows}


def record_attempt(
    warehouse: Warehouse,
    item_kind: str,
    item_id: str,
    channel: str,
    *,
    delivered: bool,
    error: str | None,
    at: datetime,
) -> None:
    """One delivery attempt: counted, with its outcome; a delivered row stays delivered."""
    with warehouse.writing() as con:
        con.execute(
            """
            INSERT INTO store.deliveries AS d
                (item_kind, item_id, channel, status, attempts, error, last_attempt_at,
                 delivered_at)
            VALUES ($kind, $id, $channel, $status, 1, $error, $at,
                    CASE WHEN $delivered THEN $at END)
            ON CONFLICT (item_kind, item_id, channel) DO UPDATE SET
                status = excluded.status, attempts = d.attempts + 1, error = excluded.error,
                last_attempt_at = excluded.last_attempt_at,
                delivered_at = excluded.delivered_at""",
            {
                "kind": item_kind,
                "id": item_id,
                "channel": channel,
                "status": "delivered" if delivered else "failed",
                "error": None if delivered else error,
                "at": at,
                "delivered": delivered,
            },
        )


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    kind: str
    claim_id: str
    variant: str | None
    post_uid: str | None
    observed_at: datetime
    raised_at: datetime
    message: str
    link: str


def insert_new_alerts(warehouse: Warehouse, alerts: Iterable[AlertRow]) -> list[str]:
    """Store the alerts not stored yet; return the ids of those that were new (in one write, so
    two checks running at once cannot both raise the same alert)."""
    candidates = list(alerts)
    if not candidates:
        return []
    with warehouse.writing() as con:
        ids = [a.alert_id for a in candidates]
        known = {
            alert_id
            for (alert_id,) in con.execute(
                "SELECT alert_id FROM store.alerts WHERE list_contains(?, alert_id)", [ids]
            ).fetchall()
        }
        new = [a for a in candidates if a.alert_id not in known]
        if new:
            con.executemany(
                "INSERT INTO store.alerts (alert_id, kind, claim_id, variant, post_uid,"
                " observed_at, raised_at, message, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        a.alert_id,
                        a.kind,
                        a.claim_id,
                        a.variant,
                        a.post_uid,
                        a.observed_at,
                        a.raised_at,
                        a.message,
                        a.link,
                    ]
                    for a in new
                ],
            )
    return [a.alert_id for a in new]
