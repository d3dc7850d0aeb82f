"""Starting the dashboard: the Streamlit command line, and waiting until it answers.

`claimwatch dashboard` runs the command in the foreground (`serve_in_foreground`); `claimwatch
run` (the scheduler) starts it as a child process and waits on `/_stcore/health` before saying
where it is served.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import httpx

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(db: Path, config: Path, address: str, port: int) -> list[str]:
    """The argv that serves the dashboard for `db` and `config` on `address:port`: headless, no
    browser opened, no usage statistics sent, no file watcher (the scheduler's writes to the
    data folder must not trigger reruns, and nothing is edited in production).

    The app reads the paths from the environment variables CLAIMWATCH_DB and CLAIMWATCH_CONFIG;
    they are also passed after `--`, where the app looks first, so the argv alone is enough.
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",  # no "Deploy" button for analysts
        "--",
        "--db",
        str(db),
        "--config",
        str(config),
    ]


def wait_until_serving(address: str, port: int, timeout: float) -> bool:
    """Poll the server's health endpoint until it answers "ok" or `timeout` seconds pass."""
    host = "127.0.0.1" if address in ("0.0.0.0", "") else address
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    url = f"http://{host}:{port}/_stcore/health"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)


def serve_in_foreground(command: list[str], env: Mapping[str, str]) -> int:
    """Run the server `command` until it ends or this process gets SIGINT or SIGTERM, which
    stop it too; its exit status (0 when stopped by a signal).

    The handlers are installed explicitly: a shell starts a background job (`claimwatch
    dashboard &`) with SIGINT ignored, and Python then never raises KeyboardInterrupt. The wait
    is in short slices because a signal delivered to another thread does not interrupt a
    blocking wait of the main thread, and a handler runs only when the main thread runs.
    """
    server = subprocess.Popen(command, env=dict(env))
    stopped: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        server.terminate()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = server.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0 if stopped or code in (-signal.SIGTERM, -signal.SIGINT) else code
