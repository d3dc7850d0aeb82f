"""The single-writer lease of `claimwatch run`: one scheduler collects into a warehouse at a time.

The lease is a small JSON file beside the warehouse (`<db>.lease`) naming its holder: the
scheduler's process id, its PID and host, its mode, when it started and when it last renewed the
lease (each heartbeat). `take_lease` writes it, or refuses with `LeaseHeldError`, which says who
holds it, while that holder is live. A lease is stale, and taken over (said in the log), when its
holder is gone (same host, no such process) or has not renewed it for `stale_after` (a holder on
another host, or a hung one). The holder gives it up as it stops (the file is emptied); a holder
that finds its lease taken over must stop.

Every read and write of the file is under an exclusive `flock` on it, so two schedulers starting
at once cannot both take it. The lease does not guard writes (the warehouse does that, file
locks and staging): it keeps a second scheduler from collecting the same sources beside the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warehouse.access import WarehouseError

log = logging.getLogger(__name__)

Now = Callable[[], datetime]


@dataclass(frozen=True)
class Holder:
    """Who holds a lease (the JSON of the lease file)."""

    process_id: str
    pid: int
    host: str
    mode: str
    started_at: datetime
    renewed_at: datetime

    def describe(self, now: datetime) -> str:
        ago = timedelta(seconds=round((now - self.renewed_at).total_seconds()))
        return (
            f"{self.mode} scheduler {self.process_id} (pid {self.pid} on host {self.host},"
            f" started {self.started_at:%Y-%m-%d %H:%M:%S} UTC, lease renewed {ago} ago)"
        )


class LeaseHeldError(WarehouseError):
    """Another live scheduler holds the warehouse's lease."""

    def __init__(self, warehouse: Path, holder: Holder, stale_after: timedelta, now: datetime):
        self.holder = holder
        super().__init__(
            f"another scheduler already runs on {warehouse}: {holder.describe(now)}. Stop it"
            f" first (Ctrl-C or SIGTERM to pid {holder.pid}); a lease not renewed for"
            f" {stale_after} is taken over."
        )


def lease_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lease")


def holder_here(process_id: str, mode: str, started_at: datetime, now: datetime) -> Holder:
    """This process as a lease holder."""
    return Holder(process_id, os.getpid(), socket.gethostname(), mode, started_at, now)


def take_lease(
    warehouse: Path, me: Holder, stale_after: timedelta, now: Now = lambda: datetime.now(UTC)
) -> None:
    """Hold the lease of `warehouse` as `me`, taking over a stale one; `LeaseHeldError` if a
    live holder has it."""
    with _locked(warehouse) as file:
        current = _read(file, warehouse)
        if current is not None and current.process_id != me.process_id:
            why = stale_because(current, stale_after, now())
            if why is None:
                raise LeaseHeldError(warehouse, current, stale_after, now())
            log.warning(
                "taking over the lease of %s from the %s: %s",
                warehouse,
                current.describe(now()),
                why,
            )
        _write(file, me)


def renew_lease(warehouse: Path, me: Holder, now: Now = lambda: datetime.now(UTC)) -> Holder | None:
    """Renew `me`'s lease; None when done, else who took it over (then `me` must stop)."""
    with _locked(warehouse) as file:
        current = _read(file, warehouse)
        if current is not None and current.process_id != me.process_id:
            return current
        _write(file, Holder(**{**asdict(me), "renewed_at": now()}))
        return None


def give_up_lease(warehouse: Path, me: Holder) -> None:
    """Empty the lease file if `me` still holds it."""
    if not lease_path(warehouse).exists():
        return
    with _locked(warehouse) as file:
        current = _read(file, warehouse)
        if current is not None and current.process_id == me.process_id:
            file.truncate(0)


def stale_because(holder: Holder, stale_after: timedelta, now: datetime) -> str | None:
    """Why `holder`'s lease is stale, or None while it is live."""
    if holder.host == socket.gethostname() and not _process_alive(holder.pid):
        return f"its process {holder.pid} is gone"
    if now - holder.renewed_at > stale_after:
        return f"not renewed since {holder.renewed_at:%Y-%m-%d %H:%M:%S} UTC"
    return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    with contextlib.suppress(OSError, IndexError):
        # a process killed but not yet reaped by its parent is a zombie: gone all the same
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


@contextlib.contextmanager
def _locked(warehouse: Path) -> Iterator[io.FileIO]:
    path = lease_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b", buffering=0) as file:  # noqa: PTH123 (the file object is locked)
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield file
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _read(file: io.FileIO, warehouse: Path) -> Holder | None:
    file.seek(0)
    text = file.read().decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        data["renewed_at"] = datetime.fromisoformat(data["renewed_at"])
        return Holder(**data)
    except (ValueError, TypeError, KeyError) as error:
        log.warning(
            "the lease file %s cannot be read (%s): taking it", lease_path(warehouse), error
        )
        return None


def _write(file: io.FileIO, holder: Holder) -> None:
    data = {**asdict(holder)}
    data["started_at"] = holder.started_at.isoformat()
    data["renewed_at"] = holder.renewed_at.isoformat()
    file.seek(0)
    file.truncate(0)
    file.write(json.dumps(data).encode())
    os.fsync(file.fileno())
