"""Publishing the daily digest: when a day is due, writing its Markdown, HTML and chart, and
delivering it. It stands on `digest.report` (the data) and the renderers, which never import
it back.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from config import Config
from digest import chart, records, render
from digest import deliver as delivery
from digest.report import DayReport, build_report
from warehouse import Warehouse

log = logging.getLogger(__name__)

# --- when a digest is due, and writing it -------------------------------------------------------


@dataclass(frozen=True)
class DigestResult:
    day: date
    markdown_path: Path
    html_path: Path
    rewritten: bool  # files of an earlier digest of the day were replaced
    deliveries: list[tuple[str, str, str | None]] = field(default_factory=list)
    written: bool = True  # False: a digest already delivered was kept as it was (no force)
    chart_path: Path | None = None

    @property
    def failed(self) -> bool:
        return any(status == "failed" for _, status, _ in self.deliveries)


def due_day(config: Config, warehouse: Warehouse, now: datetime) -> date | None:
    """The local day whose digest is due at `now`: at or after `[digest] time` on day D, the
    digest of D-1, unless it was written already; otherwise None."""
    local = now.astimezone(config.digest.zone)
    if local.time() < config.digest.time:
        return None
    day = local.date() - timedelta(days=1)
    if records.digest_written(warehouse, day) is not None:
        return None
    return day


def digest_paths(config: Config, day: date) -> tuple[Path, Path, Path]:
    """The Markdown, HTML and chart (PNG) files of a day's digest."""
    stem = config.digest.output_dir / f"digest-{day.isoformat()}"
    return stem.with_suffix(".md"), stem.with_suffix(".html"), stem.with_suffix(".png")


def write_digest(
    config: Config,
    warehouse: Warehouse,
    day: date,
    *,
    now: datetime | None = None,
    deliver: bool = True,
    force: bool = False,
) -> DigestResult:
    """Write the digest of `day` and deliver it where configured.

    A digest already delivered (on any channel) is kept as sent unless `force`; with `force` its
    files are written again and the log says so. Either way no channel that delivered it gets it
    again; a channel that failed is tried again.
    """
    now = now or datetime.now(UTC)
    markdown_path, html_path, png_path = digest_paths(config, day)
    earlier = records.digest_written(warehouse, day)
    delivered = records.delivered_channels(warehouse, "digest", day.isoformat())
    write = force or not delivered
    if write:
        report = build_report(config, warehouse, day, now=now)
        _write_files(report, markdown_path, html_path, png_path)
        rewritten = earlier is not None
        if rewritten and delivered:
            log.warning(
                "rewrote the digest of %s, already delivered (%s): it is not sent again",
                day,
                ", ".join(sorted(delivered)),
            )
        elif rewritten:
            log.warning("rewrote the digest of %s (not delivered yet)", day)
        records.save_digest(
            warehouse,
            day,
            config.digest.zone.key,
            markdown_path,
            html_path,
            hashlib.sha256(markdown_path.read_bytes()).hexdigest(),
            now,
        )
        log.info("digest of %s written: %s, %s", day, markdown_path, html_path)
    else:
        rewritten = False
        log.warning(
            "the digest of %s was already delivered (%s); its files are kept as sent (--force "
            "writes them again)",
            day,
            ", ".join(sorted(delivered)),
        )
        if not markdown_path.exists() or not html_path.exists():
            raise FileNotFoundError(
                f"the digest of {day} was delivered, but its files are gone from "
                f"{markdown_path.parent}; --force writes them again"
            )
    outcomes: list[tuple[str, str, str | None]] = []
    if deliver:
        message = delivery.digest_message(markdown_path, html_path, png_path)
        outcomes = delivery.deliver(config, warehouse, "digest", day.isoformat(), message, now)
    return DigestResult(
        day=day,
        markdown_path=markdown_path,
        html_path=html_path,
        rewritten=rewritten,
        deliveries=outcomes,
        written=write,
        chart_path=png_path,
    )


def _write_files(report: DayReport, markdown: Path, html: Path, png: Path) -> None:
    markdown.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(chart.spread_chart(report))
    markdown.write_text(render.markdown(report, chart_src=png.name), encoding="utf-8")
    html.write_text(render.html(report, chart_src=png.name), encoding="utf-8")


def describe(result: DigestResult, *, delivery_wanted: bool = True) -> list[str]:
    """What `write_digest` did, in lines for a person (`claimwatch digest`)."""
    files = f"{result.markdown_path}, {result.html_path}"
    if not result.written:
        lines = [
            f"the digest of {result.day} was already delivered: kept as sent ({files}); "
            "--force writes it again (it is not sent again)"
        ]
    elif result.rewritten:
        lines = [f"the digest of {result.day} was written again: {files}"]
    else:
        lines = [f"the digest of {result.day} was written: {files}"]
    for channel, status, error in result.deliveries:
        lines.append(f"{channel}: {status}" + (f": {error}" if error else ""))
    if delivery_wanted and not result.deliveries:
        lines.append("no delivery configured ([digest.smtp], [digest.webhook])")
    return lines
