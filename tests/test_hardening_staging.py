"""Staged batches that are damaged, and a file held read-only by an analyst (issue 14, items 1, 10).

A damaged staged batch is moved aside with its reason and the rest are applied; an analyst's
read-only connection is named as such, one import waits for it once, and what it staged is
reported as staged.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CliResult, make_posts

from claimwatch.importer import import_file
from warehouse import Batch, CursorUpdate, Warehouse, WarehouseBusyError, staging

Cli = Callable[..., CliResult]
CONFIG = Path(__file__).parent.parent / "config" / "claimwatch.toml"
ROW = {
    "source": "x",
    "source_id": "one",
    "created_at": "2026-01-28T10:00:00Z",
    "text": "There are 5 ICE stations in Canada",
}
_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import duckdb
    db, mode, stop = sys.argv[1:]
    con = duckdb.connect(db, read_only=mode == "read-only")
    print("holding", flush=True)
    while not Path(stop).exists():
        time.sleep(0.05)
    con.close()
""")


@dataclass
class Holder:
    process: subprocess.Popen[str]
    stop_file: Path

    def leave(self) -> None:
        self.stop_file.touch()
        self.process.communicate(timeout=60)
        assert self.process.returncode == 0


Hold = Callable[[str], Holder]


@pytest.fixture
def hold(db_path: Path, tmp_path: Path) -> Iterator[Hold]:
    """Start a process that holds the warehouse (as an analyst's shell would) until told to go."""
    holders: list[Holder] = []

    def start(mode: str) -> Holder:
        stop = tmp_path / f"stop-{len(holders)}"
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(db_path), mode, str(stop)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        holders.append(Holder(process, stop))
        return holders[-1]

    yield start
    for holder in holders:
        if holder.process.poll() is None:
            holder.leave()


def stored(warehouse: Warehouse) -> tuple[int, int]:
    with warehouse.reading() as con:
        row = con.execute("SELECT count(*), count(DISTINCT post_uid) FROM posts").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def rejected_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".rejected")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))


def config_with(tmp_path: Path, lock_timeout: str) -> Path:
    config = tmp_path / "claimwatch.toml"
    text = CONFIG.read_text()
    assert 'lock_timeout = "10s"' in text
    config.write_text(text.replace('lock_timeout = "10s"', f'lock_timeout = "{lock_timeout}"'))
    return config


# -- item 1: a damaged staged batch ---------------------------------------------------------------


def test_a_truncated_staged_batch_is_moved_aside_and_the_rest_are_applied(
    db_path: Path, warehouse: Warehouse, hold: Hold, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    analyst = hold("read-only")
    impatient = Warehouse(db_path, lock_timeout=0.3)
    damaged = impatient.write(Batch(posts=make_posts(2, start=1))).staged_path
    kept = impatient.write(Batch(posts=make_posts(3, start=3))).staged_path
    assert damaged is not None and kept is not None
    truncate(damaged)
    analyst.leave()
    with caplog.at_level(logging.WARNING):
        result = warehouse.write(Batch(posts=make_posts(1, start=6)))
    assert (result.status, result.merged_batches, result.stats.new) == ("committed", 1, 1)
    assert stored(warehouse) == (5, 5)  # the first post, the 3 kept and the new one
    assert warehouse.staged() == []
    moved = rejected_dir(db_path) / damaged.name
    assert moved.exists() and not damaged.exists()
    reason = json.loads(moved.with_name(moved.name + ".reason.json").read_text())
    assert "damaged" in reason["reason"] and reason["staged_as"] == str(damaged)
    assert f"set aside the staged batch {damaged.name}" in caplog.text


def test_a_staged_batch_with_one_byte_changed_fails_its_checksum(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    path = staging.stage(db_path, Batch(posts=make_posts(500, start=1)))
    flip_a_byte(path)
    assert warehouse.write(Batch(posts=make_posts(1, start=1000))).status == "committed"
    assert stored(warehouse) == (2, 2)
    reason = json.loads((rejected_dir(db_path) / (path.name + ".reason.json")).read_text())
    assert "checksum" in reason["reason"]


def test_the_analysis_and_flush_go_on_past_a_damaged_batch(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    truncate(staging.stage(db_path, Batch(posts=make_posts(2, start=1))))
    staging.stage(db_path, Batch(posts=make_posts(2, start=3)))
    with warehouse.writing() as con:  # what `claimwatch analyze` writes with
        assert con.execute("SELECT count(*) FROM store.posts").fetchone() == (3,)
    truncate(staging.stage(db_path, Batch(posts=make_posts(2, start=5))))
    assert warehouse.flush()[0] == 0
    assert len(list(rejected_dir(db_path).glob("*.parquet"))) == 2
    assert warehouse.staged() == []


def test_a_staged_batch_the_warehouse_refuses_is_set_aside_too(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    refused = Batch(posts=make_posts(2, start=1), cursors=[CursorUpdate("x", None, "c")])  # type: ignore[arg-type]
    path = staging.stage(db_path, refused)
    staging.stage(db_path, Batch(posts=make_posts(2, start=3)))
    assert warehouse.flush()[0] == 1
    assert stored(warehouse) == (3, 3)  # the refused batch's posts are not half-applied
    reason = json.loads((rejected_dir(db_path) / (path.name + ".reason.json")).read_text())
    assert reason["reason"].startswith("refused by the warehouse: Constraint Error")


def test_a_batch_staged_by_an_older_claimwatch_still_merges(
    db_path: Path, warehouse: Warehouse
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    path = staging.stage(db_path, Batch(posts=make_posts(2, start=1)))
    legacy = path.with_name(path.name.split(".")[0] + ".parquet")  # no checksum in its name
    path.rename(legacy)
    assert warehouse.flush()[0] == 1
    assert stored(warehouse) == (3, 3)
    truncate(staging.stage(db_path, Batch(posts=make_posts(2, start=3))))
    older = next(staging.staging_dir(db_path).glob("*.parquet"))
    older.rename(older.with_name(older.name.split(".")[0] + ".parquet"))
    assert warehouse.flush()[0] == 0
    assert [p.name for p in rejected_dir(db_path).glob("*.parquet")] == [
        older.name.split(".")[0] + ".parquet"
    ]


def test_db_status_and_flush_show_a_damaged_batch_without_a_traceback(
    cli: Cli, db_path: Path, warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    truncate(staging.stage(db_path, Batch(posts=make_posts(2, start=1))))
    staging.stage(db_path, Batch(posts=make_posts(2, start=3)))
    before = cli("db", "status")
    assert before.code == 0
    assert "2 waiting to merge, 1 of them damaged" in before.out
    flushed = cli("db", "flush")
    assert flushed.code == 0 and "Traceback" not in flushed.err
    assert "merged 1 staged batch(es): 2 new posts" in flushed.out
    assert "set aside the staged batch" in caplog.text  # the log, on stderr when run
    after = cli("db", "status")
    assert "staged batches" in after.out and "1 set aside" in after.out
    assert "rejected" in after.out and "damaged" in after.out
    assert cli("import", str(jsonl(db_path.parent / "more.jsonl"))).code == 0


def jsonl(path: Path) -> Path:
    path.write_text(json.dumps(ROW) + "\n")
    return path


# -- item 10: an analyst's read-only connection ---------------------------------------------------


def test_the_advice_matches_a_read_only_holder(
    db_path: Path, warehouse: Warehouse, hold: Hold, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    analyst = hold("read-only")
    with caplog.at_level(logging.WARNING):
        assert Warehouse(db_path, lock_timeout=0.3).write(Batch()).status == "staged"
    assert f"(PID {analyst.process.pid}) has it open read-only" in caplog.text
    assert "open it read-only" not in caplog.text  # it already is
    assert stored(warehouse) == (1, 1)  # and readers still get in


def test_the_advice_matches_a_read_write_holder(
    db_path: Path, warehouse: Warehouse, hold: Hold
) -> None:
    warehouse.write(Batch(posts=make_posts(1)))
    analyst = hold("read-write")
    patient = Warehouse(db_path, lock_timeout=0.3, read_timeout=0.3)
    with pytest.raises(WarehouseBusyError) as reading, patient.reading():
        pass
    assert reading.value.holder_mode == "read-write"
    assert f"(PID {analyst.process.pid}) has it open read-write" in str(reading.value)
    assert "open it read-only (`duckdb -readonly`)" in str(reading.value)


def test_one_import_beside_a_read_only_analyst_waits_once(
    db_path: Path, tmp_path: Path, hold: Hold, caplog: pytest.LogCaptureFixture
) -> None:
    Warehouse(db_path).write(Batch(posts=make_posts(1)))
    hold("read-only")
    held = Warehouse(db_path, lock_timeout=3)
    with caplog.at_level(logging.INFO, logger="warehouse"):
        report = import_file(jsonl(tmp_path / "one.jsonl"), held, "jsonl")
    waits = [float(w) for w in re.findall(r"(?:for the|waited) (\d+\.\d) s", caplog.text)]
    assert report.staged_batches == 2  # the row's batch and the run's end
    assert len(waits) == 2 and waits[0] >= 3.0 and waits[1] < 3.0, waits  # then only briefly
    assert (report.stats.new, report.staged_posts, report.already_stored) == (0, 1, 0)


def test_an_import_counts_its_staged_batch_as_new_once_a_later_chunk_merges_it(
    db_path: Path, tmp_path: Path, hold: Hold
) -> None:
    Warehouse(db_path).write(Batch(posts=make_posts(1)))
    analyst = hold("read-only")
    rows = [json.dumps({**ROW, "source_id": f"r{i}"}) for i in range(3)]
    (tmp_path / "three.jsonl").write_text("\n".join(rows) + "\n")

    def leave_after_the_first_chunk(_: int) -> None:
        if analyst.process.poll() is None:
            analyst.leave()

    report = import_file(
        tmp_path / "three.jsonl",
        Warehouse(db_path, lock_timeout=0.5),
        "jsonl",
        chunk_rows=1,
        progress=leave_after_the_first_chunk,
    )
    assert report.staged_batches >= 1 and report.staged == {}  # merged by a later write
    assert (report.stats.new, report.staged_posts, report.already_stored) == (3, 0, 0)


def test_the_import_command_reports_staged_posts_as_staged(
    cli: Cli, db_path: Path, tmp_path: Path, hold: Hold
) -> None:
    Warehouse(db_path).write(Batch(posts=make_posts(1)))
    analyst = hold("read-only")
    config = config_with(tmp_path, "1s")
    result = cli("--config", str(config), "import", str(jsonl(tmp_path / "one.jsonl")))
    assert result.code == 0, result.err
    rows = [line.split("│") for line in result.out.splitlines() if line.count("│") == 3]
    shown = {cells[1].strip(): cells[2].strip() for cells in rows}
    assert (shown["new posts"], shown["already stored"]) == ("0", "0")
    assert shown["staged"].startswith("1 post(s) in 2 batch(es)")
    analyst.leave()
    assert "merged 2 staged batch(es): 1 new posts" in cli("db", "flush").out
