"""Opening the DuckDB file for a moment, from any process, without lock errors reaching users.

DuckDB lets one process hold a file read-write, or any number hold it read-only, never both. So
nobody in claimwatch holds the file for long: a writer opens it, applies a batch and closes it; a
reader opens it read-only for one query and closes it. Whoever finds the file taken waits, with
growing pauses, up to a deadline. docs/read-while-writing.md explains the whole design.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb

from warehouse.migrations import LATEST_VERSION, check_not_too_new, migrate, schema_version

# One connection at a time within a process: DuckDB refuses a read-only connection to a file the
# same process holds read-write, and two writing threads would conflict inside one transaction.
_IN_PROCESS = threading.RLock()

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# DuckDB adds this when a write lock was refused but a read lock would be granted: the holder
# has the file open read-only (local_file_system.cpp)
_READ_ONLY_HOLDER = "you would be able to open this database in read-only mode"

HolderMode = Literal["read-only", "read-write"]


class WarehouseError(RuntimeError):
    """A problem with the warehouse file that a user can act on; the message says how."""


class WarehouseBusyError(WarehouseError):
    """Another process held the file for longer than we were willing to wait."""

    def __init__(
        self,
        path: Path,
        waited: float,
        holder: str | None,
        mode: str,
        holder_mode: HolderMode | None = None,
    ) -> None:
        super().__init__(
            f"the warehouse {path} was held{f' by {holder}' if holder else ''} for the"
            f" {waited:.1f} s we waited to open it {mode}. {_advice(holder, holder_mode)}"
        )
        self.holder = holder
        self.holder_mode = holder_mode
        self.waited = waited


def _advice(holder: str | None, holder_mode: HolderMode | None) -> str:
    who = holder or "another program"
    if holder_mode == "read-only":
        return (
            f"{who} has it open read-only: readers still get in, but nothing can be written"
            " until it closes its connection; a notebook or DuckDB shell should open, query and"
            " close (or use `claimwatch sql`)."
        )
    if holder_mode == "read-write":
        return (
            f"{who} has it open read-write, which keeps out readers and writers alike: close it,"
            " or open it read-only (`duckdb -readonly`) so that claimwatch can still read it."
        )
    return (
        "claimwatch holds the file only for moments; if another program keeps it open (a DuckDB"
        " shell, a notebook), close it, or open it read-only (`duckdb -readonly`) so that"
        " claimwatch can still read it."
    )


def is_lock_conflict(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "Could not set lock on file" in str(error)


def lock_holder(error: BaseException) -> str | None:
    match = _LOCK_HOLDER.search(str(error))
    if not match:
        return None
    return f"{Path(match['program']).name} (PID {match['pid']})"


def holder_mode(error: BaseException, wanted: str) -> HolderMode | None:
    """How the holder has the file open, from DuckDB's refusal of `wanted` ("to read"/"to write").

    A read lock is refused only by a writer; a write lock by either, and DuckDB says which.
    """
    if not is_lock_conflict(error):
        return None
    if wanted == "to read" or _READ_ONLY_HOLDER not in str(error):
        return "read-write"
    return "read-only"


def _connect_when_free(
    connect: Callable[[], duckdb.DuckDBPyConnection],
    path: Path,
    timeout: float,
    mode: str,
    on_wait: Callable[[str | None], None] | None,
) -> duckdb.DuckDBPyConnection:
    start = time.monotonic()
    pause = 0.005
    told = False
    while True:
        try:
            return connect()
        except duckdb.IOException as error:
            if not is_lock_conflict(error):
                raise
            waited = time.monotonic() - start
            if waited >= timeout:
                raise WarehouseBusyError(
                    path, waited, lock_holder(error), mode, holder_mode(error, mode)
                ) from None
            if on_wait and not told and waited > 0.5:
                on_wait(lock_holder(error))
                told = True
            time.sleep(min(pause, max(timeout - waited, 0.001)))
            pause = min(pause * 2, 0.25)


def _session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


@contextmanager
def writing(
    path: Path, timeout: float, on_wait: Callable[[str | None], None] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The file opened read-write (created and migrated if needed), closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _IN_PROCESS:
        con = _connect_when_free(
            lambda: duckdb.connect(str(path)), path, timeout, "to write", on_wait
        )
        try:
            _session(con)
            migrate(con, where=str(path))
            yield con
        finally:
            con.close()


@contextmanager
def reading(
    path: Path,
    timeout: float,
    on_wait: Callable[[str | None], None] | None = None,
    sandboxed: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The file opened read-only, closed on exit.

    `sandboxed` forbids the session from touching anything but this file (no reading or writing
    other files, no ATTACH, no extension loading) and from changing that setting back. A database
    from an older claimwatch is first upgraded, which takes the write lock for a moment.
    """
    if not path.exists():
        raise WarehouseError(
            f"there is no warehouse at {path} yet: `claimwatch import FILE` or `claimwatch collect`"
            " creates it (or pass --db / set CLAIMWATCH_DB to use another file)"
        )
    with _IN_PROCESS:
        con = _open_read_only(path, timeout, on_wait, sandboxed)
        try:
            version = schema_version(con)
            check_not_too_new(version, str(path))
            if version < LATEST_VERSION:
                con.close()
                with writing(path, timeout, on_wait):
                    pass
                con = _open_read_only(path, timeout, on_wait, sandboxed)
            if sandboxed:
                con.execute("SET lock_configuration = true")
            yield con
        finally:
            con.close()


def _open_read_only(
    path: Path, timeout: float, on_wait: Callable[[str | None], None] | None, sandboxed: bool
) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = (
        {"enable_external_access": False} if sandboxed else {}
    )
    con = _connect_when_free(
        lambda: duckdb.connect(str(path), read_only=True, config=config),
        path,
        timeout,
        "to read",
        on_wait,
    )
    return _session(con)
