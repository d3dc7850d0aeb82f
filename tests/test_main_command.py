"""The README's main command, as a newcomer runs it, on a machine with no route to the internet.

It must set up, start the scheduler and the dashboard, show every source failing with its reason,
keep serving the dashboard, not spin, and stop cleanly on Ctrl-C. "No route" is made sure of
whatever machine runs the test: every HTTP client is sent to a proxy on a closed local port.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
import tomli_w
from test_scheduler import rows, wait_for

from config import load_config

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    """The README's fenced command blocks, in order: the main command first, then the tests'."""
    return re.findall(r"^```\n(.+?)\n```", README.read_text(encoding="utf-8"), re.M | re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
    except httpx.HTTPError:
        return False


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert readme_commands()[1] == ci


@pytest.mark.slow
def test_the_main_command_offline_serves_the_dashboard_and_stops_cleanly(tmp_path: Path) -> None:
    main = readme_commands()[0]
    assert "claimwatch run" in main
    db = tmp_path / "claimwatch.duckdb"
    port = free_port()
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {
        **os.environ,
        "CLAIMWATCH_DB": str(db),
        "CLAIMWATCH_DASHBOARD_PORT": str(port),
        **{name: nowhere for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
        "NO_PROXY": "127.0.0.1,localhost",
        "COLUMNS": "200",
    }
    # the shipped config, but with the digests written in the test's folder, not in data/
    config = tmp_path / "claimwatch.toml"
    shipped = tomllib.loads((ROOT / "config/claimwatch.toml").read_text(encoding="utf-8"))
    shipped["digest"]["output_dir"] = str(tmp_path / "digests")
    config.write_text(tomli_w.dumps(shipped), encoding="utf-8")
    env["CLAIMWATCH_CONFIG"] = str(config)
    # a newcomer's shell: not inside the test run's virtual environment (`uv run pytest` puts it
    # first on PATH, and it has no pip)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(
        d for d in env["PATH"].split(os.pathsep) if not d.startswith(sys.prefix)
    )
    log = tmp_path / "main-command.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["bash", "-c", main],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        wait_for(
            lambda: answers(port) or process.poll() is not None,
            240,
            f"the dashboard on port {port}",
        )
        assert process.poll() is None, log.read_text()
        enabled = [
            name
            for name, source in load_config(ROOT / "config/claimwatch.toml").sources.by_id().items()
            if source.enabled
        ]
        failing = (
            "SELECT count(*) FROM scheduler_jobs WHERE kind = 'collect' AND failures > 0"
            " AND last_status = 'failed' AND last_error IS NOT NULL"
        )
        wait_for(lambda: rows(db, failing)[0][0] == len(enabled), 120, "every source failing")
        time.sleep(3)  # backing off, not spinning: no source tries again within seconds
        jobs = rows(
            db,
            "SELECT source, failures, interval_s, last_error FROM scheduler_jobs"
            " WHERE kind = 'collect' ORDER BY source",
        )
        assert [j[0] for j in jobs] == sorted(enabled)
        for source, failures, interval, error in jobs:
            assert failures == 1, (source, failures)
            assert interval >= 2 * 15 * 60, (source, interval)
            assert "connect" in error.lower() or "proxy" in error.lower(), (source, error)
        assert answers(port)  # the dashboard goes on serving
        said = log.read_text()
        for source in enabled:
            assert re.search(rf"{source}/ice-canada failed \(1 in a row\)", said), said
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        assert process.wait(60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not answers(port)
    assert rows(db, "SELECT count(*) FROM heartbeats WHERE stopped_at IS NOT NULL") == [(1,)]
    assert rows(db, "SELECT count(*) FROM posts")[0][0] > 0  # the seed story, imported
    assert "stopped cleanly" in log.read_text()
