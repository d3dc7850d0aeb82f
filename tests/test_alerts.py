"""Alerts over the seeded story: a new variant, a spike and an authority correction each raise one
alert, once, recorded in the `alerts` view and delivered (a local webhook) once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from digest_story import (
    FIVE,
    P,
    WebhookServer,
    posts_table,
    story_config,
    utc,
    with_webhook,
)

from claims.job import analyze_warehouse
from config import Config
from digest.alerts import check_alerts
from warehouse import Batch, Warehouse

OFFICES = "ice-offices-canada"
ARMED = "ice-armed-operations-canada"


@pytest.fixture
def story(digest_warehouse: Warehouse, tmp_path: Path) -> tuple[Warehouse, Config]:
    return digest_warehouse, story_config(tmp_path)


def alerts_view(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    with warehouse.reading() as con:
        return con.execute(
            "SELECT alert_id, kind, claim_id, variant, post_uid, observed_at, raised_at, link"
            " FROM alerts ORDER BY observed_at, alert_id"
        ).fetchall()


def add_posts(warehouse: Warehouse, config: Config, posts: list[P]) -> None:
    warehouse.write(Batch(posts=posts_table(posts)))
    analyze_warehouse(warehouse, config)


def test_a_new_variant_and_an_authority_correction_each_raise_one_alert_once(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    now = utc(30, 22)  # 17:00 in Toronto on 2026-01-30: lookback 1 day back to 01-29 22:00 UTC
    raised = check_alerts(config, warehouse, now)
    assert [(a.kind, a.claim_id, a.variant, a.post_uid) for a in raised] == [
        ("new_variant", OFFICES, "3", "x:d1-3a"),
        ("authority_correction", ARMED, None, "x:embassy"),
    ]  # "4" and "5" were first seen before the lookback; the Daily Hive is no authority
    new_variant, embassy = raised
    assert new_variant.message.startswith(
        'New variant "3" of the claim "How many ICE/HSI offices ("stations") there are in '
        'Canada", first seen 2026-01-30 09:00 America/Toronto: @d1 on x: "Wow, 3 ICE stations'
    )
    assert new_variant.link == "http://127.0.0.1:8501/posts?claim=ice-offices-canada&variant=3"
    assert embassy.message.startswith(
        "Authority correction: U.S. Embassy Ottawa (@usembassyottawa on x) corrected the claim "
        '"ICE agents in Canada are armed or make arrests" at 2026-01-30 10:00 America/Toronto'
    )
    assert "https://x.com/usembassyottawa/status/2017000000000000000" in embassy.message
    assert embassy.link == "http://127.0.0.1:8501/claim?claim=ice-armed-operations-canada"
    assert alerts_view(warehouse) == [
        ("new_variant:ice-offices-canada:3", "new_variant", OFFICES, "3", "x:d1-3a",
         utc(30, 14), now, new_variant.link),
        ("authority_correction:ice-armed-operations-canada:x:embassy", "authority_correction",
         ARMED, None, "x:embassy", utc(30, 15), now, embassy.link),
    ]  # fmt: skip
    assert check_alerts(config, warehouse, now + timedelta(minutes=15)) == []
    assert len(alerts_view(warehouse)) == 2


def test_events_outside_the_lookback_or_after_now_raise_nothing(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    assert check_alerts(config, warehouse, utc(30, 13)) == []  # before "3" and the embassy
    assert check_alerts(config, warehouse, utc(31, 16)) == []  # both more than a day old
    assert alerts_view(warehouse) == []


def spike_posts(count: int, start: datetime, tag: str) -> list[P]:
    return [
        P(f"spike-{tag}-{i}", "x", f"s{tag}{i}", start + timedelta(minutes=4 * i),
          FIVE.format(f"{tag}{i}"), 10)
        for i in range(count)
    ]  # fmt: skip


def test_a_variant_far_above_its_baseline_for_an_hour_raises_one_spike_alert(
    story: tuple[Warehouse, Config],
) -> None:
    warehouse, config = story
    add_posts(
        warehouse,
        config,
        spike_posts(
            12,
            utc(30, 22) + timedelta(minutes=5),
            "a",
        ),
    )
    now = utc(30, 23)
    with warehouse.reading() as con:
        ((last_hour, baseline),) = con.execute(
            "SELECT count(*) FILTER (WHERE created_at >= ?), count(*) FILTER (WHERE created_at < ?)"
            " FROM claim_mentions WHERE claim_id = ? AND variant = '5'"
            " AND created_at >= ? AND created_at < ?",
            [utc(30, 22), utc(30, 22), OFFICES, utc(29, 22), now],
        ).fetchall()
    assert (last_hour, baseline) == (12, 9)  # 9 posts of "5" in the 24 hours before: 0.375/h
    raised = [a for a in check_alerts(config, warehouse, now) if a.kind == "spike"]
    assert [(a.alert_id, a.variant, a.observed_at) for a in raised] == [
        ("spike:ice-offices-canada:5:2026-01-30T22", "5", utc(30, 22))
    ]
    assert raised[0].message == (
        'Spike: variant "5" of the claim "How many ICE/HSI offices ("stations") there are in '
        'Canada" had 12 posts in the hour to 2026-01-30 18:00 America/Toronto, 32.0 times its '
        "hourly average of 0.38 over the 1d before (rule: at least 10 posts and 3 times the "
        "baseline)"
    )
    # another burst an hour and a half later: far above again, but within the cooldown (6h)
    add_posts(warehouse, config, spike_posts(12, utc(30, 23.5), "b"))
    later = utc(31, 0) + timedelta(minutes=25)
    assert [a for a in check_alerts(config, warehouse, later) if a.kind == "spike"] == []
    assert [row[0] for row in alerts_view(warehouse) if row[1] == "spike"] == [
        "spike:ice-offices-canada:5:2026-01-30T22"
    ]
    # which is what held it: without a cooldown, that burst is a second spike
    eager = config.model_copy(
        update={"alerts": config.alerts.model_copy(update={"spike_cooldown": timedelta(0)})}
    )
    assert [a.alert_id for a in check_alerts(eager, warehouse, later) if a.kind == "spike"] == [
        "spike:ice-offices-canada:5:2026-01-30T23"
    ]


def test_a_busy_hour_within_the_baseline_is_no_spike(story: tuple[Warehouse, Config]) -> None:
    warehouse, config = story
    # 10 posts an hour for a day, then 12 in the last hour: busy, but not 3 times the baseline
    steady = [
        P(f"steady-{h}-{i}", "x", f"st{h}-{i}", utc(29, 23 + h) + timedelta(minutes=5 * i),
          FIVE.format(f"st{h}-{i}"))
        for h in range(23) for i in range(10)
    ]  # fmt: skip
    add_posts(warehouse, config, steady + spike_posts(12, utc(30, 22) + timedelta(minutes=5), "c"))
    assert [a for a in check_alerts(config, warehouse, utc(30, 23)) if a.kind == "spike"] == []


def test_each_alert_is_delivered_once_to_the_webhook(story: tuple[Warehouse, Config]) -> None:
    warehouse, config = story
    with WebhookServer() as hook:
        config = with_webhook(config, hook.url)
        raised = check_alerts(config, warehouse, utc(30, 22))
        assert [a.deliveries for a in raised] == [[("webhook", "delivered", None)]] * 2
        check_alerts(
            config,
            warehouse,
            utc(30, 22) + timedelta(minutes=30),
        )
    assert [body["text"][:40] for body in hook.bodies] == [
        'New variant "3" of the claim "How many I',
        "Authority correction: U.S. Embassy Ottaw",
    ]
    assert hook.bodies[0]["text"].endswith(
        "\nhttp://127.0.0.1:8501/posts?claim=ice-offices-canada&variant=3"
    )
    with warehouse.reading() as con:
        assert con.execute(
            "SELECT item_kind, item_id, channel, status, attempts FROM deliveries ORDER BY item_id"
        ).fetchall() == [
            ("alert", "authority_correction:ice-armed-operations-canada:x:embassy", "webhook",
             "delivered", 1),
            ("alert", "new_variant:ice-offices-canada:3", "webhook", "delivered", 1),
        ]  # fmt: skip


def test_alerts_can_be_turned_off(story: tuple[Warehouse, Config]) -> None:
    warehouse, config = story
    off = config.model_copy(update={"alerts": config.alerts.model_copy(update={"enabled": False})})
    assert check_alerts(off, warehouse, utc(30, 22)) == []
    assert alerts_view(warehouse) == []
