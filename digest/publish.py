"""Publishing the daily digest: when a day is due, writing its Markdown, HTML and chart, and
delivering it. It stands on `digest.report` (the data) and the renderers, which never import
it back.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from claims.engine import claim_versions
from config import Config
from digest import chart, records, render
from digest import deliver as delivery
from digest.report import DayReport, Revision, build_report, changed_figures, figures
from warehouse import Warehouse
from warehouse.analysis import analysed_through as analysis_covers
from warehouse.analysis import days_stored_after, snapshot

log = logging.getLogger(__name__)

# --- when a digest is due, and writing it -------------------------------------------------------


CATCH_UP_DAYS = 7  # days whose digest a scheduler writes late, at most, after time it missed


@dataclass(frozen=True)
class DigestResult:
    day: date
    markdown_path: Path
    html_path: Path
    rewritten: bool  # files of an earlier digest of the day were replaced
    deliveries: list[tuple[str, str, str | None]] = field(default_factory=list)
    written: bool = True  # False: a digest already delivered was kept as it was (no force)
    chart_path: Path | None = None
    version: int = 1  # 2 and up: a revision, written because the day's figures changed
    changes: str | None = None  # a revision's: what changed from the version before

    @property
    def failed(self) -> bool:
        return any(status == "failed" for _, status, _ in self.deliveries)


def due_days(config: Config, warehouse: Warehouse, now: datetime) -> list[date]:
    """The local days whose digest is due at `now`, oldest first: from `[digest] time` on day D,
    the digest of D-1 and of every day since the latest one written (when the scheduler's time
    ran past a digest's, it is written late rather than skipped; at most CATCH_UP_DAYS), unless
    written already. Before that time, none."""
    local = now.astimezone(config.digest.zone)
    if local.time() < config.digest.time:
        return []
    last = local.date() - timedelta(days=1)
    written = records.digested_through(warehouse)
    earlier = [day for day in written if day < last]
    first = max(earlier) + timedelta(days=1) if earlier else last
    first = max(first, last - timedelta(days=CATCH_UP_DAYS - 1))
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day not in written]


def digest_paths(config: Config, day: date, version: int = 1) -> tuple[Path, Path, Path]:
    """The Markdown, HTML and chart (PNG) files of a version of a day's digest: the first as
    `digest-YYYY-MM-DD.*`, a revision beside it as `digest-YYYY-MM-DD.rN.*`."""
    name = f"digest-{day.isoformat()}" + (f".r{version}" if version > 1 else "")
    folder = config.digest.output_dir
    return folder / f"{name}.md", folder / f"{name}.html", folder / f"{name}.png"


def delivery_id(day: date, version: int) -> str:
    """The item id a version of a digest is delivered as (`deliveries.item_id`)."""
    return day.isoformat() + (f" r{version}" if version > 1 else "")


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

    When a digest of the day was written already and the day's figures have changed since (posts
    of the day stored later), a revision is written beside it (`revise_digest`). Otherwise a
    digest already delivered (on any channel) is kept as sent unless `force`; with `force` its
    files are written again and the log says so. Either way no channel that delivered it gets it
    again; a channel that failed is tried again.
    """
    now = now or datetime.now(UTC)
    through = analysed_through(warehouse, config)
    report = build_report(config, warehouse, day, now=now)
    latest = records.latest_version(warehouse, day)
    if latest is not None and _changed(latest, report):
        return _revise(config, warehouse, report, latest, through, deliver)
    version = latest.version if latest is not None else 1
    markdown_path, html_path, png_path = digest_paths(config, day, version)
    delivered = records.delivered_channels(warehouse, "digest", delivery_id(day, version))
    write = force or not delivered
    if write:
        if latest is not None and latest.version > 1:  # the revision written again says so
            report = replace(report, revision=_revision_of(warehouse, day, latest))
        _write_files(report, markdown_path, html_path, png_path)
        rewritten = latest is not None
        if rewritten and delivered:
            log.warning(
                "rewrote the digest of %s, already delivered (%s): it is not sent again",
                day,
                ", ".join(sorted(delivered)),
            )
        elif rewritten:
            log.warning("rewrote the digest of %s (not delivered yet)", day)
        changes = latest.changes if latest is not None else None
        _save(config, warehouse, report, version, changes, through, markdown_path, html_path)
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
    outcomes = _deliver(config, warehouse, day, version, now, deliver)
    return DigestResult(
        day=day,
        markdown_path=markdown_path,
        html_path=html_path,
        rewritten=rewritten,
        deliveries=outcomes,
        written=write,
        chart_path=png_path,
        version=version,
        changes=latest.changes if latest is not None else None,
    )


def revise_digest(
    config: Config, warehouse: Warehouse, day: date, *, now: datetime, deliver: bool = True
) -> DigestResult | None:
    """A revision of the digest of `day` if its figures changed since its latest version was
    written (posts of the day, or of the day before, stored later); None if they did not, or if
    no digest of the day was written."""
    latest = records.latest_version(warehouse, day)
    if latest is None:
        return None
    through = analysed_through(warehouse, config)
    report = build_report(config, warehouse, day, now=now)
    if not _changed(latest, report):
        return None
    return _revise(config, warehouse, report, latest, through, deliver)


def days_to_revise(config: Config, warehouse: Warehouse, after: int) -> list[date]:
    """The digested days that posts stored after `after` (by insertion order) may have changed:
    the days they were published on, and the day after each (its "day before")."""
    digested = records.digested_through(warehouse)
    if not digested:
        return []
    zone = config.digest.zone.key
    with warehouse.reading() as con:
        touched = days_stored_after(con, after, snapshot(con).through, zone)
    days = touched | {day + timedelta(days=1) for day in touched}
    return sorted(day for day in days if day in digested)


def analysed_through(warehouse: Warehouse, config: Config) -> int:
    """The posts (by insertion order) every configured claim has been analysed through."""
    if not warehouse.path.exists():
        return 0
    with warehouse.reading() as con:
        return analysis_covers(con, claim_versions(config))


def _changed(latest: records.DigestVersion, report: DayReport) -> bool:
    return latest.figures is None or latest.figures != figures(report)


def _revise(
    config: Config,
    warehouse: Warehouse,
    report: DayReport,
    latest: records.DigestVersion,
    through: int,
    deliver: bool,
) -> DigestResult:
    version = latest.version + 1
    if latest.figures is None:
        changes = "posts of the day stored after it was written (its figures were not kept)"
    else:
        changes = changed_figures(latest.figures, figures(report))
    report = replace(report, revision=Revision(version, changes, latest.written_at))
    markdown_path, html_path, png_path = digest_paths(config, report.day, version)
    _write_files(report, markdown_path, html_path, png_path)
    _save(config, warehouse, report, version, changes, through, markdown_path, html_path)
    log.warning("digest of %s revised (revision %d): %s", report.day, version, changes)
    outcomes = _deliver(config, warehouse, report.day, version, report.generated_at, deliver)
    return DigestResult(
        day=report.day,
        markdown_path=markdown_path,
        html_path=html_path,
        rewritten=False,
        deliveries=outcomes,
        chart_path=png_path,
        version=version,
        changes=changes,
    )


def _revision_of(warehouse: Warehouse, day: date, latest: records.DigestVersion) -> Revision | None:
    versions = records.digest_versions(warehouse, day)
    before = [v for v in versions if v.version == latest.version - 1]
    if not before:
        return None
    return Revision(latest.version, latest.changes or "", before[0].written_at)


def _save(
    config: Config,
    warehouse: Warehouse,
    report: DayReport,
    version: int,
    changes: str | None,
    through: int,
    markdown_path: Path,
    html_path: Path,
) -> None:
    records.save_digest(
        warehouse,
        records.Written(
            day=report.day,
            version=version,
            timezone=config.digest.zone.key,
            markdown_path=markdown_path,
            html_path=html_path,
            sha256=hashlib.sha256(markdown_path.read_bytes()).hexdigest(),
            at=report.generated_at,
            changes=changes,
            figures=figures(report),
            posts_through=through,
        ),
    )


def _deliver(
    config: Config, warehouse: Warehouse, day: date, version: int, now: datetime, wanted: bool
) -> list[tuple[str, str, str | None]]:
    if not wanted:
        return []
    markdown_path, html_path, png_path = digest_paths(config, day, version)
    message = delivery.digest_message(markdown_path, html_path, png_path)
    return delivery.deliver(config, warehouse, "digest", delivery_id(day, version), message, now)


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
    elif result.version > 1 and not result.rewritten:
        lines = [
            f"the digest of {result.day} was revised (revision {result.version}): {files}",
            f"what changed: {result.changes}",
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
