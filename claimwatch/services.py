"""The dashboard as a child process of `claimwatch run` (and of `claimwatch demo`).

Streamlit runs its own server and event loop, so it gets its own process: the scheduler's threads
and the dashboard's reruns never share an interpreter, and either can be stopped on its own. The
child is stopped with the parent, whatever way the parent ends.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard.launch import streamlit_command, wait_until_serving

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_S = 60.0


@contextmanager
def dashboard_beside(
    db: Path,
    config: Path,
    address: str,
    port: int,
    log_path: Path,
    stop: threading.Event | None = None,
) -> Iterator[subprocess.Popen[bytes] | None]:
    """Start the dashboard on `address:port` for `db`; yield the process (None if it could not
    start, which is said, never fatal: the scheduler goes on without it). Waiting for it to
    answer ends early if it exits (a port already taken) or `stop` is set (Ctrl-C meanwhile)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CLAIMWATCH_DB": str(db), "CLAIMWATCH_CONFIG": str(config)}
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            streamlit_command(db, config, address, port),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        if _started(process, address, port, stop or threading.Event()):
            log.info("dashboard: http://%s:%d (its log: %s)", address, port, log_path)
            yield process  # (the caller says where it is: a plain line, not a warning)
        else:
            log.error("the dashboard did not start on %s:%d; see %s", address, port, log_path)
            yield None
    finally:
        _stop(process)


def _started(
    process: subprocess.Popen[bytes], address: str, port: int, stop: threading.Event
) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while process.poll() is None and not stop.is_set() and time.monotonic() < deadline:
        if wait_until_serving(address, port, 0.5):
            return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
