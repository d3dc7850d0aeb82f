"""A short account of the warehouse, for `claimwatch db status` and the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from warehouse import staging
from warehouse.migrations import LATEST_VERSION, schema_version

if TYPE_CHECKING:
    from warehouse.store import Warehouse


def warehouse_status(warehouse: Warehouse) -> dict[str, str]:
    status = {"file": str(warehouse.path)}
    status["staged batches"] = _staged(warehouse)
    rejected = warehouse.rejected()
    if rejected:
        status["rejected batches"] = _rejected(rejected, staging.rejected_dir(warehouse.path))
    if not warehouse.path.exists():
        status["state"] = "not created yet"
        return status
    status["size"] = f"{warehouse.path.stat().st_size / 1e6:,.1f} MB"
    with warehouse.reading() as con:
        status["schema version"] = f"{schema_version(con)} (this claimwatch: {LATEST_VERSION})"
        row = con.execute("""
            SELECT (SELECT count(*) FROM posts), (SELECT count(DISTINCT source) FROM posts),
                   (SELECT min(created_at)::VARCHAR || ' .. ' || max(created_at)::VARCHAR
                      FROM posts),
                   (SELECT count(*) FROM claim_mentions), (SELECT count(*) FROM corrections),
                   (SELECT count(*) FROM collector_runs),
                   (SELECT count(*) FROM store.quarantine),
                   (SELECT count(*) FROM store.analysis_state),
                   (SELECT count(*) FROM store.posts
                    WHERE seq > (SELECT min(analyzed_through) FROM store.analysis_state))
            """).fetchone()
    assert row is not None
    status["posts"] = f"{row[0]:,} from {row[1]:,} source(s)"
    status["created"] = row[2] or "-"
    status["claim mentions"] = f"{row[3]:,}"
    status["corrections"] = f"{row[4]:,}"
    status["runs"] = f"{row[5]:,}"
    status["quarantined"] = f"{row[6]:,} page(s) or row(s) that could not be read"
    status["analysis"] = (
        f"{row[7]:,} claim(s); {row[8]:,} post(s) waiting for `claimwatch analyze`"
        if row[7]
        else "not run yet (`claimwatch analyze`)"
    )
    return status


def _staged(warehouse: Warehouse) -> str:
    staged = warehouse.staged()
    if not staged:
        return "none"
    damaged = sum(_is_damaged(path) for path in staged)
    said = f"{len(staged)} waiting to merge"
    if damaged:
        said += f", {damaged} of them damaged (set aside to rejected batches on the next write)"
    return said


def _is_damaged(path: Path) -> bool:
    try:
        return staging.damage(path) is not None
    except FileNotFoundError:
        return False  # merged since it was listed


def _rejected(rejected: list[staging.RejectedBatch], folder: Path) -> str:
    return (
        f"{len(rejected)} set aside in {folder}, not applied (each file's reason beside it);"
        f" the latest: {rejected[-1].reason}"
    )
