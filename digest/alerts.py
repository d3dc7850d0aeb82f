"""Alerts between digests: raised by the scheduler after each analysis, each event once.

Three kinds, each about a claim of the config, over events of the last `[alerts] lookback` (so a
first check over an old warehouse does not alert its whole history) up to `now`:

- `new_variant`: a variant of a claim seen for the first time (its first post, from
  `variant_summary.first_seen`). Id `new_variant:<claim>:<variant>`.
- `spike`: a variant's posts in the hour before `now` are at least `spike_min_posts` and at least
  `spike_factor` times its hourly average over the `spike_baseline` before that hour. Id
  `spike:<claim>:<variant>:<hour>` (the UTC hour the measured hour starts in); no second spike
  alert for the same claim and variant within `spike_cooldown`.
- `authority_correction`: a correction by one of the claim's `corrections.authorities`
  (`corrections.kind = 'authority'`). Id `authority_correction:<claim>:<post_uid>`.

An alert's id is built from its event, and alerts are stored with the ids already stored left
out, in one write: the same event never alerts twice. A new alert is then delivered like the
digest (`digest.deliver`), every attempt recorded in `deliveries` (item kind `alert`).
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from config import Config, format_duration
from digest import deliver, links, records
from warehouse import Warehouse

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str  # new_variant, spike, authority_correction
    claim_id: str
    variant: str | None
    post_uid: str | None
    observed_at: datetime  # when it happened in the data
    raised_at: datetime
    message: str
    link: str
    deliveries: list[deliver.Outcome] = field(default_factory=list)


def check_alerts(config: Config, warehouse: Warehouse, now: datetime) -> list[Alert]:
    """Raise (record and deliver) every alert due at `now` that was not raised before."""
    if not config.alerts.enabled or not config.claims or not warehouse.path.exists():
        return []
    candidates = find_alerts(config, warehouse, now)
    new_ids = set(records.insert_new_alerts(warehouse, (_row(a) for a in candidates)))
    raised = []
    for alert in candidates:
        if alert.alert_id not in new_ids:
            continue
        log.warning("alert: %s", alert.message)
        outcomes = deliver.deliver(
            config, warehouse, "alert", alert.alert_id, alert_message(alert), now
        )
        raised.append(_with(alert, outcomes))
    return raised


def find_alerts(config: Config, warehouse: Warehouse, now: datetime) -> list[Alert]:
    """Every alert the data supports at `now`, raised before or not."""
    settings = config.alerts
    claims = list(config.claims)
    window_start = now - HOUR
    params: dict[str, Any] = {"claims": claims, "since": now - settings.lookback, "now": now}
    with warehouse.reading() as con:
        new_variants = _rows(con, _NEW_VARIANTS_SQL, params)
        corrections = _rows(con, _AUTHORITY_SQL, params)
        spikes = _rows(
            con,
            _SPIKES_SQL,
            {
                "claims": claims,
                "now": now,
                "window_start": window_start,
                "baseline_start": window_start - settings.spike_baseline,
                "baseline_hours": settings.spike_baseline / HOUR,
                "factor": settings.spike_factor,
                "min_posts": settings.spike_min_posts,
                "cooled": window_start - settings.spike_cooldown,
            },
        )
    base, zone = config.dashboard.link_base, config.digest.zone
    alerts = [_new_variant(config, r, now, base, zone) for r in new_variants]
    alerts += [_spike(config, r, now, base, zone) for r in spikes]
    alerts += [_authority(config, r, now, base, zone) for r in corrections]
    return alerts


def _rows(con: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    used = {name: value for name, value in params.items() if f"${name}" in sql}
    cursor = con.execute(sql, used)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# Each variant first seen in the lookback, with its first post (the earliest, then smallest uid).
_NEW_VARIANTS_SQL = """
    SELECT s.claim_id, s.variant, s.first_seen, m.post_uid, p.source, p.author_handle,
           p.author_name, p.url, coalesce(p.title || ': ', '') || coalesce(p.text, '') AS text
    FROM variant_summary s
    JOIN claim_mentions m
      ON m.claim_id = s.claim_id AND m.variant = s.variant AND m.created_at = s.first_seen
    JOIN posts p ON p.post_uid = m.post_uid
    WHERE s.variant IS NOT NULL AND list_contains($claims, s.claim_id)
      AND s.first_seen >= $since AND s.first_seen <= $now
    QUALIFY row_number() OVER (PARTITION BY s.claim_id, s.variant ORDER BY m.post_uid) = 1
    ORDER BY s.first_seen, s.claim_id, s.variant"""

_AUTHORITY_SQL = """
    SELECT c.claim_id, c.variant, c.post_uid, c.created_at, c.source, c.author_handle,
           p.author_name, c.url, coalesce(p.title || ': ', '') || coalesce(p.text, '') AS text
    FROM corrections c JOIN posts p USING (post_uid)
    WHERE c.kind = 'authority' AND list_contains($claims, c.claim_id)
      AND c.created_at >= $since AND c.created_at <= $now
    ORDER BY c.created_at, c.claim_id, c.post_uid"""

# The rule is in the module docstring; a spike alert younger than the cooldown holds the next.
_SPIKES_SQL = """
    WITH counts AS (
        SELECT claim_id, variant,
               count(DISTINCT post_uid) FILTER (WHERE created_at >= $window_start) AS last_hour,
               count(DISTINCT post_uid) FILTER (WHERE created_at < $window_start) AS baseline
        FROM claim_mentions
        WHERE variant IS NOT NULL AND list_contains($claims, claim_id)
          AND created_at >= $baseline_start AND created_at < $now
        GROUP BY ALL),
    rated AS (
        SELECT *, baseline / $baseline_hours AS baseline_rate FROM counts)
    SELECT r.* FROM rated r
    WHERE r.last_hour >= $min_posts AND r.last_hour >= $factor * r.baseline_rate
      AND NOT EXISTS (
          SELECT 1 FROM alerts a
          WHERE a.kind = 'spike' AND a.claim_id = r.claim_id AND a.variant = r.variant
            AND a.observed_at > $cooled)
    ORDER BY r.claim_id, r.variant"""


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1].rstrip() + "…"


def _who(handle: str | None, name: str | None, source: str) -> str:
    if name and handle:
        return f"{name} (@{handle} on {source})"
    return f"{name or ('@' + handle if handle else 'someone')} on {source}"


def _local(moment: datetime, zone: Any) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def _new_variant(config: Config, r: dict[str, Any], now: datetime, base: str, zone: Any) -> Alert:
    claim = config.claims[r["claim_id"]]
    url = f" {r['url']}" if r["url"] else ""
    author = _who(r["author_handle"], r["author_name"], r["source"])
    message = (
        f'New variant "{r["variant"]}" of the claim "{claim.title}", first seen '
        f'{_local(r["first_seen"], zone)}: {author}: "{_excerpt(r["text"])}"{url}'
    )
    return Alert(
        alert_id=f"new_variant:{r['claim_id']}:{r['variant']}",
        kind="new_variant",
        claim_id=r["claim_id"],
        variant=r["variant"],
        post_uid=r["post_uid"],
        observed_at=r["first_seen"],
        raised_at=now,
        message=message,
        link=links.posts_link(base, r["claim_id"], r["variant"]),
    )


def _spike(config: Config, r: dict[str, Any], now: datetime, base: str, zone: Any) -> Alert:
    settings = config.alerts
    claim = config.claims[r["claim_id"]]
    window_start = now - HOUR
    baseline = format_duration(settings.spike_baseline)
    times = (
        f"{r['last_hour'] / r['baseline_rate']:.1f} times its hourly average of "
        f"{r['baseline_rate']:.2f}"
        if r["baseline_rate"]
        else "where it had no post"
    )
    message = (
        f'Spike: variant "{r["variant"]}" of the claim "{claim.title}" had {r["last_hour"]} posts '
        f"in the hour to {_local(now, zone)}, {times} over the {baseline} before "
        f"(rule: at least {settings.spike_min_posts} posts and {settings.spike_factor:g} times the "
        "baseline)"
    )
    return Alert(
        alert_id=f"spike:{r['claim_id']}:{r['variant']}:{_utc_hour(window_start)}",
        kind="spike",
        claim_id=r["claim_id"],
        variant=r["variant"],
        post_uid=None,
        observed_at=window_start,
        raised_at=now,
        message=message,
        link=links.posts_link(base, r["claim_id"], r["variant"]),
    )


def _utc_hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _authority(config: Config, r: dict[str, Any], now: datetime, base: str, zone: Any) -> Alert:
    claim = config.claims[r["claim_id"]]
    name = r["author_name"] or next(
        (
            a.name
            for a in claim.corrections.authorities
            if a.handle.lower() == (r["author_handle"] or "").lower()
        ),
        None,
    )
    url = f" {r['url']}" if r["url"] else ""
    message = (
        f"Authority correction: {_who(r['author_handle'], name, r['source'])} corrected the claim "
        f'"{claim.title}" at {_local(r["created_at"], zone)}: "{_excerpt(r["text"])}"{url}'
    )
    return Alert(
        alert_id=f"authority_correction:{r['claim_id']}:{r['post_uid']}",
        kind="authority_correction",
        claim_id=r["claim_id"],
        variant=r["variant"],
        post_uid=r["post_uid"],
        observed_at=r["created_at"],
        raised_at=now,
        message=message,
        link=links.claim_link(base, r["claim_id"]),
    )


def alert_message(alert: Alert) -> deliver.Message:
    """The alert for mail and webhook: its words and the dashboard link."""
    subject = {
        "new_variant": "new variant",
        "spike": "spike",
        "authority_correction": "authority correction",
    }[alert.kind]
    variant = (
        f' "{alert.variant}"' if alert.variant and alert.kind != "authority_correction" else ""
    )
    return deliver.Message(
        subject=f"claimwatch alert: {subject}{variant} ({alert.claim_id})",
        text=f"{alert.message}\n\nOn the dashboard: {alert.link}\n",
        html=(
            f"<!DOCTYPE html><html><body><p>{html.escape(alert.message)}</p>"
            f'<p><a href="{html.escape(alert.link)}">On the dashboard</a></p></body></html>\n'
        ),
        # Slack and Mattermost both read &amp; &lt; &gt; as the characters
        webhook_text=f"{html.escape(alert.message, quote=False)}\n{alert.link}",
    )


def _row(alert: Alert) -> records.AlertRow:
    return records.AlertRow(
        alert.alert_id,
        alert.kind,
        alert.claim_id,
        alert.variant,
        alert.post_uid,
        alert.observed_at,
        alert.raised_at,
        alert.message,
        alert.link,
    )


def _with(alert: Alert, outcomes: list[deliver.Outcome]) -> Alert:
    return replace(alert, deliveries=outcomes)
