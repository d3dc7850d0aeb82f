"""What the digest and the alerts keep in the warehouse: digests written, alerts raised, every
delivery attempt. Reads go through the documented views (`digests`, `alerts`, `deliveries`), but
for each digest version's figures and the posts they were computed from (the revision check's
own state, in `store.digest_versions`); writes go to the tables under them (`store.digests`,
`store.digest_versions`, `store.alerts`, `store.deliveries`), each in its own short transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from warehouse import Warehouse


@dataclass(frozen=True)
class DigestVersion:
    """One version of a day's digest: 1 as first written, then each revision."""

    day: date
    version: int
    markdown_path: str
    html_path: str
    written_at: datetime
    changes: str | None  # what changed from the version before; None for the first
    figures: dict[str, int] | None  # None for a digest written before versions were kept
    posts_through: int  # the posts (by insertion order) its figures were computed from


def latest_version(warehouse: Warehouse, day: date) -> DigestVersion | None:
    """The latest version of the digest of `day`, or None if none was written."""
    versions = digest_versions(warehouse, day)
    return versions[-1] if versions else None


def digest_versions(warehouse: Warehouse, day: date) -> list[DigestVersion]:
    """Every version of the digest of `day`, oldest first."""
    if not warehouse.path.exists():
        return []
    with warehouse.reading() as con:
        # the figures and what they were computed from are the revision check's, not the view's
        rows = con.execute(
            "SELECT day, version, markdown_path, html_path, written_at, changes, figures,"
            " coalesce(posts_through, 0) FROM store.digest_versions WHERE day = ?"
            " ORDER BY version",
            [day],
        ).fetchall()
    return [
        DigestVersion(
            day=day,
            version=int(version),
            markdown_path=markdown,
            html_path=html,
            written_at=written_at,
            changes=changes,
            figures=json.loads(figures) if figures else None,
            posts_through=int(through),
        )
        for day, version, markdown, html, written_at, changes, figures, through in rows
    ]


def digested_through(warehouse: Warehouse) -> dict[date, int]:
    """Each digested day, with the posts (by insertion order) its latest version counted."""
    if not warehouse.path.exists():
        return {}
    with warehouse.reading() as con:
        rows = con.execute(
            "SELECT day, coalesce(max_by(posts_through, version), 0)"
            " FROM store.digest_versions GROUP BY day"
        ).fetchall()
    return {day: int(through) for day, through in rows}


@dataclass(frozen=True)
class Written:
    """A version of a digest as it is saved."""

    day: date
    version: int
    timezone: str
    markdown_path: Path
    html_path: Path
    sha256: str
    at: datetime
    changes: str | None
    figures: dict[str, int]
    posts_through: int


def save_digest(warehouse: Warehouse, written: Written) -> None:
    """Record a version of a digest (a new one, or the same one written again) and point the
    day's row of `digests` at it; writing the same version again counts in `rewrites`."""
    version_row = [
        written.day,
        written.version,
        written.timezone,
        str(written.markdown_path),
        str(written.html_path),
        written.sha256,
        written.at,
        written.changes,
        json.dumps(written.figures, sort_keys=True),
        written.posts_through,
    ]
    with warehouse.writing() as con:
        con.execute(
            """
            INSERT INTO store.digest_versions
                (day, version, timezone, markdown_path, html_path, content_sha256, written_at,
                 changes, figures, posts_through)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (day, version) DO UPDATE SET
                timezone = excluded.timezone, markdown_path = excluded.markdown_path,
                html_path = excluded.html_path, content_sha256 = excluded.content_sha256,
                written_at = excluded.written_at, figures = excluded.figures,
                posts_through = excluded.posts_through""",
            version_row,
        )
        con.execute(
            """
            INSERT INTO store.digests AS d
                (day, timezone, markdown_path, html_path, content_sha256, written_at, rewrites,
                 version, changes)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
            ON CONFLICT (day) DO UPDATE SET
                timezone = excluded.timezone, markdown_path = excluded.markdown_path,
                html_path = excluded.html_path, content_sha256 = excluded.content_sha256,
                written_at = excluded.written_at,
                rewrites = d.rewrites + CASE WHEN d.version = excluded.version THEN 1 ELSE 0 END,
                version = excluded.version, changes = excluded.changes""",
            [
                written.day,
                written.timezone,
                str(written.markdown_path),
                str(written.html_path),
                written.sha256,
                written.at,
                written.version,
                written.changes,
            ],
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
