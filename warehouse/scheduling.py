"""What the scheduler keeps in the warehouse: its jobs, their next runs and failures, and its
heartbeat (views `scheduler_jobs` and `heartbeats`, docs/views.md).

This state is advisory: the dashboard shows it, and a restarted scheduler reads back each job's
failures so that a failing source keeps backing off. Writes are small and frequent, so a write
that cannot get the file in time is skipped (the next beat writes the whole state again) rather
than staged.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from warehouse.access import WarehouseBusyError
from warehouse.store import Warehouse

log = logging.getLogger(__name__)


@dataclass
class JobRow:
    """One row of `scheduler_jobs`."""

    job_id: str
    kind: str
    source: str | None
    topic: str | None
    interval_s: float
    base_interval_s: float
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    failures: int = 0


_UPSERT_JOB = """
    INSERT OR REPLACE INTO store.scheduler_jobs
        (job_id, kind, source, topic, interval_s, base_interval_s, next_run_at, last_run_at,
         last_status, last_error, failures, process_id, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())"""


def save_jobs(warehouse: Warehouse, jobs: list[JobRow], process_id: str) -> bool:
    """Write the rows of `jobs`; False (and a log line) when the file stayed taken."""
    rows = [
        [
            j.job_id,
            j.kind,
            j.source,
            j.topic,
            j.interval_s,
            j.base_interval_s,
            j.next_run_at,
            j.last_run_at,
            j.last_status,
            j.last_error,
            j.failures,
            process_id,
        ]
        for j in jobs
    ]
    try:
        with warehouse.writing() as con:
            con.executemany(_UPSERT_JOB, rows)
    except WarehouseBusyError as busy:
        log.warning("scheduler state not saved this time: %s", busy)
        return False
    return True


def saved_failures(warehouse: Warehouse) -> dict[str, tuple[int, datetime | None]]:
    """Per job id, the failures in a row and the next run a previous scheduler had set."""
    if not warehouse.path.exists():
        return {}
    with warehouse.reading() as con:
        rows = con.execute("SELECT job_id, failures, next_run_at FROM scheduler_jobs").fetchall()
    return {str(job_id): (int(failures), next_run) for job_id, failures, next_run in rows}


def beat(
    warehouse: Warehouse,
    process_id: str,
    *,
    mode: str,
    started_at: datetime,
    clock_at: datetime,
    stopped: bool = False,
) -> bool:
    """Record that the scheduler `process_id` is alive (or, with `stopped`, that it stopped)."""
    try:
        with warehouse.writing() as con:
            con.execute(
                """INSERT OR REPLACE INTO store.heartbeats
                   VALUES (?, ?, ?, ?, ?, now(), ?, CASE WHEN ? THEN now() END)""",
                [
                    process_id,
                    os.getpid(),
                    socket.gethostname(),
                    mode,
                    started_at,
                    clock_at,
                    stopped,
                ],
            )
            if stopped:
                con.execute(
                    "UPDATE store.scheduler_jobs SET next_run_at = NULL, updated_at = now()"
                    " WHERE process_id = ?",
                    [process_id],
                )
    except WarehouseBusyError as busy:
        log.warning("heartbeat not recorded this time: %s", busy)
        return False
    return True


def earliest_new_post(warehouse: Warehouse, run_id: str) -> datetime | None:
    """When the earliest of the posts that the run `run_id` stored first was published (None if
    it stored none): a run that brought a post older than a day's end had not all of that day."""
    with warehouse.reading() as con:
        row = con.execute(
            "SELECT min(created_at) FROM store.posts WHERE first_run_id = ?", [run_id]
        ).fetchone()
    return row[0] if row else None
