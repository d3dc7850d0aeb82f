"""`claimwatch import FILE`: posts from JSON Lines, CSV or Parquet into the warehouse.

The file is read in chunks; each chunk is validated as a whole and its good rows are written as one
batch, so a bad row costs only itself. Every rejected row is reported with its line and reason, kept
in the warehouse's quarantine, and the import is recorded as a run in `collector_runs`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from claimwatch.records import ImportFileError, Rejection, read_chunks
from claimwatch.validate import Limits, validate_chunk
from warehouse import Batch, LoadStats, QuarantineRow, RunRecord, Warehouse

IMPORT_SOURCE = "import"
_REASONS_IN_RUN = 5


@dataclass
class ImportReport:
    path: Path
    fmt: str
    run_id: str
    rows: int = 0
    stats: LoadStats = field(default_factory=LoadStats)
    rejections: list[Rejection] = field(default_factory=list)
    staged_batches: int = 0
    # posts of this import's batches still staged (the warehouse was held), by batch id
    staged: dict[str, int] = field(default_factory=dict)
    broken: str | None = None  # why the file could not be read to its end

    @property
    def loaded(self) -> int:
        return self.rows - len(self.rejections)

    @property
    def staged_posts(self) -> int:
        return sum(self.staged.values())

    @property
    def already_stored(self) -> int:
        """Good rows that were stored before: neither new nor waiting in a staged batch."""
        return self.loaded - self.stats.new - self.staged_posts

    @property
    def status(self) -> str:
        if self.broken:
            return "failed"
        if not self.rejections:
            return "ok"
        return "partial" if self.loaded else "failed"


Progress = Callable[[int], None]  # called with the bytes of the file read so far


def import_file(
    path: Path,
    warehouse: Warehouse,
    fmt: str,
    *,
    limits: Limits | None = None,
    chunk_rows: int = 250_000,
    progress: Progress | None = None,
) -> ImportReport:
    limits = limits or Limits()
    started = datetime.now(UTC)
    report = ImportReport(path, fmt, run_id=f"import-{uuid.uuid4().hex[:12]}")
    try:
        _import_chunks(path, warehouse, fmt, limits, chunk_rows, progress, report, started)
    except ImportFileError as error:  # the file broke part way: what was read is kept, and said
        report.broken = str(error)
        _write(warehouse, Batch(runs=[_run(report, started, finished=True)]), report)
        raise
    _write(warehouse, Batch(runs=[_run(report, started, finished=True)]), report)
    if report.rows == 0:
        raise ImportFileError(
            f"{path}: no rows to import (the file is empty, or holds only blank lines or a header)"
        )
    return report


def _import_chunks(
    path: Path,
    warehouse: Warehouse,
    fmt: str,
    limits: Limits,
    chunk_rows: int,
    progress: Progress | None,
    report: ImportReport,
    started: datetime,
) -> None:
    for chunk in read_chunks(path, fmt, chunk_rows):
        posts: pa.Table | None = None
        rejected: list[Rejection] = []
        if chunk.rows.num_rows:  # (none: blank lines only, or rows that could not be read)
            posts, rejected = validate_chunk(chunk, started, limits)
        rejections = sorted(chunk.rejections + rejected, key=lambda r: r.line)
        report.rows += chunk.rows.num_rows + len(chunk.rejections)
        report.rejections.extend(rejections)
        batch = Batch(
            posts=posts if posts is not None and posts.num_rows else None,
            runs=[_run(report, started, finished=False)],
            quarantine=[_quarantined(report, r) for r in rejections],
            run_id=report.run_id,
        )
        _write(warehouse, batch, report)
        if progress and chunk.bytes_read:
            progress(chunk.bytes_read)


def _write(warehouse: Warehouse, batch: Batch, report: ImportReport) -> None:
    result = warehouse.write(batch)
    report.stats = report.stats + result.stats
    if result.status == "staged":
        report.staged_batches += 1
        report.staged[batch.batch_id] = batch.posts.num_rows if batch.posts is not None else 0
    for batch_id, stats in result.merged.items():  # ours, staged earlier, merged first
        if report.staged.pop(batch_id, None) is not None:
            report.stats = report.stats + stats


def _run(report: ImportReport, started: datetime, *, finished: bool) -> RunRecord:
    return RunRecord(
        run_id=report.run_id,
        source=IMPORT_SOURCE,
        topic=None,
        started_at=started,
        finished_at=datetime.now(UTC) if finished else None,
        status=report.status if finished else "running",
        fetched=report.rows,
        new=report.stats.new,
        error=_run_error(report),
        rate_limit=None,
    )


def _run_error(report: ImportReport) -> str | None:
    """Why the file broke off, then the first rejected rows' reasons."""
    reasons = [f"line {r.line}: {r.reason}" for r in report.rejections[:_REASONS_IN_RUN]]
    more = len(report.rejections) - len(reasons)
    rejected = (
        f"{len(report.rejections)} row(s) rejected: "
        + "; ".join(reasons)
        + (f"; and {more} more" if more > 0 else "")
        if reasons
        else None
    )
    return "; ".join(part for part in (report.broken, rejected) if part) or None


def _quarantined(report: ImportReport, rejection: Rejection) -> QuarantineRow:
    return QuarantineRow(
        source=IMPORT_SOURCE,
        error=rejection.reason,
        payload=rejection.excerpt,
        location=f"{report.path}:{rejection.line}",
        run_id=report.run_id,
    )
