"""The day's spread chart: posts per hour of each variant (stacked bars), one panel per claim, with
the day's corrections as dashed rules. A Vega-Lite spec rendered to PNG by vl-convert, offline.
"""

from __future__ import annotations

from typing import Any

import vl_convert

from digest.report import DayReport

WIDTH = 640
PANEL_HEIGHT = 160
SCALE = 2  # pixels per point: sharp on high-density screens and in mail clients that scale


def spread_chart(report: DayReport) -> bytes:
    """The chart as PNG bytes."""
    return vl_convert.vegalite_to_png(spec(report), scale=SCALE)


def spec(report: DayReport) -> dict[str, Any]:
    rows = _rows(report)
    counts = [r for r in rows if r["row"] == "count"]
    if not counts:
        return _empty(report)
    x_title = f"hour of the day ({report.timezone})"
    x = {
        "field": "hour",
        "type": "quantitative",
        "title": x_title,
        "scale": {"domain": [0, report.hours]},
        "axis": {"tickMinStep": 1, "values": list(range(0, report.hours + 1, 3))},
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Posts per hour of each variant, {report.day.isoformat()}",
        "data": {"values": rows},
        "facet": {"row": {"field": "claim", "type": "nominal", "title": None,
                          "header": {"labelAngle": 0, "labelAlign": "left", "labelAnchor": "start",
                                     "labelOrient": "top", "labelFontWeight": "bold"}}},
        "spec": {
            "width": WIDTH,
            "height": PANEL_HEIGHT,
            "layer": [
                {
                    "transform": [{"filter": "datum.row === 'count'"}],
                    "mark": {"type": "bar", "stroke": "white", "strokeWidth": 0.5},
                    "encoding": {
                        "x": x | {"bin": {"binned": True, "step": 1}},
                        "x2": {"field": "hour_end"},
                        "y": {
                            "field": "posts",
                            "type": "quantitative",
                            "title": "posts",
                            "stack": "zero",
                            "axis": {"values": _count_ticks(counts), "format": "d"},
                        },
                        "color": {"field": "variant", "type": "nominal", "title": "variant"},
                        "order": {"field": "variant"},
                    },
                },
                {
                    "transform": [{"filter": "datum.row === 'correction'"}],
                    "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#cf222e"},
                    "encoding": {"x": x},
                },
            ],
        },
        "resolve": {"scale": {"y": "independent"}},
        "config": {"font": "sans-serif"},
    }  # fmt: skip


def _count_ticks(counts: list[dict[str, Any]]) -> list[int]:
    """Whole numbers only on the posts axis (at most about 6 ticks): Vega would put 0.5 between
    0 and 1; the panels' scales differ, and each shows the ticks inside its own."""
    totals: dict[tuple[str, int], int] = {}
    for row in counts:
        key = (row["claim"], row["hour"])
        totals[key] = totals.get(key, 0) + row["posts"]
    top = max(totals.values(), default=1) or 1
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def _rows(report: DayReport) -> list[dict[str, Any]]:
    titles = {c.claim_id: c.title for t in report.topics for c in t.claims}
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for hour in report.hourly:
        label = "(no value)" if hour.variant is None else hour.variant
        counts.setdefault((hour.claim_id, label), {})[hour.hour] = hour.posts
    rows: list[dict[str, Any]] = []
    for (claim_id, variant), by_hour in counts.items():
        rows += [
            {
                "row": "count",
                "claim": titles.get(claim_id, claim_id),
                "variant": variant,
                "hour": hour,
                "hour_end": hour + 1,
                "posts": by_hour.get(hour, 0),
            }
            for hour in range(report.hours)
        ]
    charted = {claim_id for claim_id, _ in counts}
    for topic in report.topics:
        for claim in topic.claims:
            if claim.claim_id not in charted:
                continue
            rows += [
                {
                    "row": "correction",
                    "claim": claim.title,
                    "hour": (c.created_at - report.start).total_seconds() / 3600,
                    "kind": c.kind,
                }
                for c in claim.corrections
            ]
    return rows


def _empty(report: DayReport) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Posts per hour of each variant, {report.day.isoformat()}",
        "width": WIDTH,
        "height": PANEL_HEIGHT,
        "data": {"values": [{"text": "No post mentioned a claim on this day."}]},
        "mark": {"type": "text", "fontSize": 14, "color": "#656d76"},
        "encoding": {"text": {"field": "text"}},
    }
