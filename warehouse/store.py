"""`Warehouse`: write a batch now or stage it; read for a moment; say how things stand."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from warehouse import access, staging
from warehouse.load import Batch, LoadStats, apply_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteResult:
    status: Literal["committed", "staged"]
    stats: LoadStats  # what this batch did; all zero while it is only staged
    merged_batches: int = 0  # earlier staged batches applied first
    staged_path: Path | None = None


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

    def write(self, batch: Batch) -> WriteResult:
        """Apply `batch`, after any batches staged earlier; stage it if the file stays taken."""
        try:
            with access.writing(self.path, self.lock_timeout, self.on_wait) as con:
                merged, _ = self._apply_staged(con)
                stats = apply_batch(con, batch)
            return WriteResult("committed", stats, merged_batches=merged)
        except access.WarehouseBusyError as busy:
            staged = staging.stage(self.path, batch)
            log.warning("%s; staged the batch as %s, to be merged on the next write", busy, staged)
            return WriteResult("staged", LoadStats(), staged_path=staged)

    def flush(self) -> tuple[int, LoadStats]:
        """Apply every staged batch now; return how many and what they did."""
        if not staging.staged_batches(self.path):
            return 0, LoadStats()
        with access.writing(self.path, self.lock_timeout, self.on_wait) as con:
            return self._apply_staged(con)

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

    def staged(self) -> list[Path]:
        return staging.staged_batches(self.path)

    def _apply_staged(self, con: duckdb.DuckDBPyConnection) -> tuple[int, LoadStats]:
        total = LoadStats()
        files = staging.staged_batches(self.path)
        for path in files:
            total = total + apply_batch(con, staging.read_staged(path))
            path.unlink()
        if files:
            log.info("merged %d staged batch(es): %d new posts", len(files), total.new)
        return len(files), total
