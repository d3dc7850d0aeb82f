"""Read while writing, proved with real processes (docs/read-while-writing.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_posts

from warehouse import Batch, Warehouse, WarehouseBusyError

WORKERS = str(Path(__file__).parent / "workers.py")


def start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKERS, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def report(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, object]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def wait_for_line(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert json.loads(process.stdout.readline())


def count(warehouse: Warehouse) -> tuple[int, int]:
    with warehouse.reading() as con:
        row = con.execute("SELECT count(*), count(DISTINCT post_uid) FROM posts").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_readers_never_see_a_lock_error_while_a_writer_commits(
    db_path: Path, tmp_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1, start=10**6)))  # the file exists before readers
    stop = tmp_path / "stop"
    readers = [start("reader", db_path, stop) for _ in range(2)]
    writer = report(start("writer", db_path, 60, 2000))
    stop.touch()
    seen = [report(r) for r in readers]
    assert writer["committed"] + writer["staged"] == 60  # type: ignore[operator]
    for reader in seen:
        counts = reader["counts"]
        assert reader["errors"] == []
        assert isinstance(counts, list) and len(counts) > 5
        assert counts == sorted(counts)  # nobody ever saw posts disappear
    assert count(warehouse) == (120_001, 120_001)
    assert warehouse.staged() == []


def test_a_writer_stages_its_batch_while_an_analyst_reads_and_merges_it_later(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(10)))
    analyst = start("analyst", db_path, 3, "read-only")
    wait_for_line(analyst)
    impatient = Warehouse(db_path, lock_timeout=0.3)
    staged = impatient.write(Batch(posts=make_posts(10, start=10)))
    assert staged.status == "staged" and len(impatient.staged()) == 1
    assert count(warehouse) == (10, 10)  # readers still read beside the analyst
    report(analyst)
    later = warehouse.write(Batch(posts=make_posts(10, start=5)))
    assert (later.status, later.merged_batches, later.stats.new) == ("committed", 1, 0)
    assert count(warehouse) == (20, 20)
    assert warehouse.staged() == []


def test_a_file_held_read_write_by_someone_else_gives_a_clear_message(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    analyst = start("analyst", db_path, 3, "read-write")
    wait_for_line(analyst)
    patient = Warehouse(db_path, lock_timeout=0.3, read_timeout=0.5)
    holder = rf"held by python\S* \(PID {analyst.pid}\)"
    with pytest.raises(WarehouseBusyError, match=holder), patient.reading():
        pass
    assert patient.write(Batch(posts=make_posts(1, start=1))).status == "staged"
    report(analyst)
    assert warehouse.flush()[0] == 1
    assert count(warehouse) == (2, 2)


def test_a_writer_killed_mid_batch_leaves_all_or_nothing_and_a_rerun_completes(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1, start=10**7)))
    victim = start("killed", db_path, 300_000)
    wait_for_line(victim)
    time.sleep(0.3)
    assert victim.poll() is None, "the writer finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)  # reaps it and closes its pipes
    stored, distinct = count(warehouse)
    assert stored == distinct and stored in (1, 300_001)
    warehouse.write(Batch(posts=make_posts(300_000)))
    assert count(warehouse) == (300_001, 300_001)


def test_a_staged_file_cut_short_by_a_crash_is_ignored(db_path: Path, warehouse: Warehouse) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    folder = db_path.with_name(db_path.name + ".staging")
    folder.mkdir()
    (folder / "00000000000000000001-dead.partial").write_bytes(b"PAR1 cut short")
    assert warehouse.flush()[0] == 0
    assert list(folder.iterdir()) == []
    assert count(warehouse) == (1, 1)


def test_two_writers_at_once_store_every_post_exactly_once(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1, start=10**6)))
    # overlapping ranges: 0..29,999 and 15,000..44,999
    writers = [start("writer", db_path, 30, 1000, first) for first in (0, 15_000)]
    reports = [report(w) for w in writers]
    assert all(r["committed"] + r["staged"] == 30 for r in reports)  # type: ignore[operator]
    assert warehouse.flush()[0] == 0  # each writer merged what it staged before it exited
    assert count(warehouse) == (45_001, 45_001)


def test_a_batch_being_staged_by_a_live_writer_is_left_alone(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    folder = db_path.with_name(db_path.name + ".staging")
    folder.mkdir()
    dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_pid.wait()
    alive = folder / f"00000000000000000002-live.{os.getpid()}.partial"
    dead = folder / f"00000000000000000003-dead.{dead_pid.pid}.partial"
    for path in (alive, dead):
        path.write_bytes(b"PAR1 being written")
    warehouse.flush()
    assert sorted(folder.iterdir()) == [alive]
