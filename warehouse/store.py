"""`Warehouse`: write a batch now or stage it; read for a moment; say how things stand."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from warehouse import access, staging
from warehouse.load import Batch, LoadStats, QuarantineRow, apply_batch

log = logging.getLogger(__name__)

# Once a write had to stage, the holder keeps the file for long (an analyst, not another writer's
# moment): later writes try this briefly, not the whole lock_timeout, until one gets in.
_RETRY_WHILE_HELD = 1.0

# Errors that a staged batch's own data causes, as against the file or the machine (a lock, a full
# disk): such a batch can never be applied, so it is set aside rather than retried.
_REFUSED = (
    duckdb.ConstraintException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.TypeMismatchException,
)


@dataclass(frozen=True)
class WriteResult:
    status: Literal["committed", "staged"]
    stats: LoadStats  # what this batch did; all zero while it is only staged
    # earlier staged batches applied first (any process's), by batch id
    merged: dict[str, LoadStats] = field(default_factory=dict)
    staged_path: Path | None = None

    @property
    def merged_batches(self) -> int:
        return len(self.merged)


class Warehouse:
    """The DuckDB file at `path`, opened only for as long as each read or write takes."""

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = 10.0,
        read_timeout: float = 30.0,
        on_wait: Callable[[str | None], None] | None = None,
    ) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self.read_timeout = read_timeout
        self.on_wait = on_wait
        self._held = False  # the last write found the file held and staged its batch

    def write(self, batch: Batch) -> WriteResult:
        """Apply `batch`, after any batches staged earlier; stage it if the file stays taken."""
        patience = min(self.lock_timeout, _RETRY_WHILE_HELD) if self._held else self.lock_timeout
        try:
            with access.writing(self.path, patience, self.on_wait) as con:
                merged = self._apply_staged(con)
                stats = apply_batch(con, batch)
        except access.WarehouseBusyError as busy:
            staged = staging.stage(self.path, batch)
            self._said_staged(busy, staged)
            self._held = True
            return WriteResult("staged", LoadStats(), staged_path=staged)
        self._held = False
        return WriteResult("committed", stats, merged=merged)

    def flush(self) -> tuple[int, LoadStats]:
        """Apply every staged batch now; return how many and what they did."""
        if not staging.staged_batches(self.path):
            return 0, LoadStats()
        with access.writing(self.path, self.lock_timeout, self.on_wait) as con:
            merged = self._apply_staged(con)
        return len(merged), sum(merged.values(), LoadStats())

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection for jobs that compute in SQL (analysis, rollups)."""
        with access.writing(self.path, self.lock_timeout, self.on_wait) as con:
            self._apply_staged(con)
            yield con

    @contextmanager
    def reading(self, *, sandboxed: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with access.reading(self.path, self.read_timeout, self.on_wait, sandboxed) as con:
            yield con

    def _said_staged(self, busy: access.WarehouseBusyError, staged: Path) -> None:
        if self._held:  # the advice was given with the first staged batch
            log.warning(
                "the warehouse is still held by %s (waited %.1f s); staged the batch as %s too",
                busy.holder or "another process",
                busy.waited,
                staged.name,
            )
        else:
            log.warning("%s Staged the batch as %s, to be merged on the next write.", busy, staged)

    def staged(self) -> list[Path]:
        return staging.staged_batches(self.path)

    def rejected(self) -> list[staging.RejectedBatch]:
        return staging.rejected_batches(self.path)

    def _apply_staged(self, con: duckdb.DuckDBPyConnection) -> dict[str, LoadStats]:
        """Apply the staged batches in order; a damaged one is set aside and the rest go on."""
        merged: dict[str, LoadStats] = {}
        for path in staging.staged_batches(self.path):
            applied = self._apply_one(con, path)
            if applied is not None:
                merged[applied[0]] = applied[1]
        if merged:
            new = sum(s.new for s in merged.values())
            log.info("merged %d staged batch(es): %d new posts", len(merged), new)
        return merged

    def _apply_one(
        self, con: duckdb.DuckDBPyConnection, path: Path
    ) -> tuple[str, LoadStats] | None:
        """Apply one staged batch and delete it; None if it was set aside or is gone."""
        try:
            batch = staging.read_staged(path)
            stats = apply_batch(con, batch)
        except FileNotFoundError:
            return None  # merged or moved since it was listed
        except staging.DamagedBatchError as damaged:
            self._set_aside(con, path, damaged.reason)
            return None
        except _REFUSED as refused:  # rolled back whole; it would be refused every time
            self._set_aside(con, path, f"refused by the warehouse: {refused}")
            return None
        path.unlink()
        return batch.batch_id, stats

    def _set_aside(self, con: duckdb.DuckDBPyConnection, path: Path, reason: str) -> None:
        moved = staging.reject(self.path, path, reason)
        log.error(
            "set aside the staged batch %s, moved to %s: %s; the other staged batches are applied",
            path.name,
            moved.parent,
            reason,
        )
        quarantined = QuarantineRow(
            source="staging",
            error=f"staged batch set aside, {reason}",
            payload=None,
            location=str(moved),
        )
        apply_batch(con, Batch(quarantine=[quarantined]))
