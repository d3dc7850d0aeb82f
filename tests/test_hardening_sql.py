"""Hardening of `claimwatch sql` and the SQL page (issue 14): the guard never touches the file
system, results stream, and a slow ad-hoc query never holds up the other readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from conftest import CliResult, make_posts

from warehouse import Batch, Warehouse, WarehouseError
from warehouse.adhoc import QueryTimeoutError, RefusedQueryError, check_read_only, streaming_query
from warehouse.adhoc_process import run_query_apart

Cli = Callable[..., CliResult]

_TOKEN = "LEAKEDFIRSTTOKEN"


@pytest.fixture
def loaded(warehouse: Warehouse) -> Warehouse:
    warehouse.write(Batch(posts=make_posts(3)))
    return warehouse


def _exported_database(root: Path) -> Path:
    """A folder shaped like `EXPORT DATABASE`'s, its files naming a token only they hold."""
    root.mkdir()
    (root / "schema.sql").write_text(f"{_TOKEN} TABLE t (a INTEGER);\n")
    (root / "load.sql").write_text(f"{_TOKEN} INTO t VALUES (1);\n")
    return root


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA import_database('{dir}')",
        "SELECT 1; PRAGMA import_database('{dir}')",
        "CALL import_database('{dir}')",
    ],
)
def test_the_guard_never_reads_the_files_a_query_names(
    cli: Cli, loaded: Warehouse, tmp_path: Path, query: str
) -> None:
    exported = _exported_database(tmp_path / "exported")
    result = cli("sql", query.format(dir=exported))
    assert result.code == 2
    assert _TOKEN not in result.out + result.err
    assert "Traceback" not in result.err
    assert "refused" in result.err
    # The refusal is the same whether or not the folder exists: nothing was looked at.
    missing = cli("sql", query.format(dir=tmp_path / "missing"))
    assert missing.err.replace("missing", "exported") == result.err


def test_the_guard_classifies_without_a_warehouse_or_a_file(tmp_path: Path) -> None:
    exported = _exported_database(tmp_path / "exported")
    with pytest.raises(RefusedQueryError) as refused:
        check_read_only(f"PRAGMA import_database('{exported}')")
    assert _TOKEN not in str(refused.value)
    check_read_only("SELECT 1; EXPLAIN SELECT 2")  # queries still pass


def _run_sql_to_file(db: Path, out: Path, *args: str) -> tuple[int, int]:
    """`claimwatch sql ARGS` in its own process, stdout to `out`: exit status and peak RSS (KiB)."""
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "claimwatch.cli", "--db", str(db), "sql", *args],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_large_result_streams_out_whole_in_bounded_memory(
    loaded: Warehouse, tmp_path: Path, fmt: str
) -> None:
    width = 1_000
    peaks: dict[int, int] = {}
    for rows in (50_000, 250_000):  # about 50 MB and 250 MB of output
        query = f"SELECT i, repeat('x', {width}) AS t FROM range({rows}) r(i)"
        out = tmp_path / f"{rows}.{fmt}"
        code, peaks[rows] = _run_sql_to_file(loaded.path, out, query, "--format", fmt)
        assert code == 0
        assert out.stat().st_size > rows * width
        last = f"{rows - 1},{'x' * width}\n" if fmt == "csv" else f'"t":"{"x" * width}"}}]\n'
        assert _tail(out, len(last)) == last.encode()
    # Holding the result (or its text) grows with it, by at least the 200 MB more; a stream
    # holds a batch or two whatever the size.
    grown = (peaks[250_000] - peaks[50_000]) * 1024
    assert grown < 100_000_000, f"peak RSS {peaks} KiB"


def _tail(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-size, os.SEEK_END)
        return handle.read()


def test_a_streamed_result_keeps_its_row_limit_across_batches(cli: Cli, loaded: Warehouse) -> None:
    query = "SELECT i FROM range(25000) r(i)"
    result = cli("sql", query, "--format", "csv", "--max-rows", "12345")
    assert result.out.splitlines() == ["i", *map(str, range(12345))]
    assert "stopped at 12,345 rows" in result.err
    exact = cli("sql", query, "--format", "json", "--max-rows", "25000")
    assert json.loads(exact.out) == [{"i": i} for i in range(25000)]
    assert "stopped" not in exact.err


def test_an_empty_streamed_result_is_its_header_or_an_empty_list(
    cli: Cli, loaded: Warehouse
) -> None:
    query = "SELECT post_uid, likes FROM posts WHERE false"
    assert cli("sql", query, "--format", "csv").out == "post_uid,likes\n"
    assert cli("sql", query, "--format", "json").out == "[]\n"


def test_a_streamed_query_past_its_time_limit_is_stopped(cli: Cli, loaded: Warehouse) -> None:
    slow = "SELECT count(*) AS n FROM range(10000000000) a"
    result = cli("sql", slow, "--format", "csv", "--timeout", "0.2")
    assert result.code == 2
    assert "0.2 s limit" in result.err


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as failure:
            failures.append(failure)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def _until(condition: Callable[[], bool], deadline: float = 30.0) -> None:
    stop = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < stop, "the condition never held"
        time.sleep(0.02)


def test_a_slow_sql_page_query_never_holds_up_the_other_pages(loaded: Warehouse) -> None:
    slow = "SELECT max(hash(range)) FROM range(100000000000)"  # minutes of real work
    limit = 20.0
    started = time.monotonic()
    query, failures = _in_thread(lambda: run_query_apart(loaded, slow, max_rows=10, timeout=limit))
    # Give it a moment to be running for sure; the check below holds however long that takes.
    _until(lambda: time.monotonic() - started > 1.5 or not query.is_alive())
    assert query.is_alive()
    with loaded.reading() as con:  # what every other page does
        row = con.execute("SELECT count(*) FROM posts").fetchone()
    assert row == (3,)
    assert query.is_alive(), "the page waited for the slow query to end"
    query.join(limit + 60)
    assert len(failures) == 1
    assert isinstance(failures[0], QueryTimeoutError)
    assert f"{limit:g} s limit" in str(failures[0])


def test_the_sql_pages_own_process_gives_the_same_results_and_errors(
    loaded: Warehouse, tmp_path: Path
) -> None:
    result = run_query_apart(loaded, "SELECT post_uid FROM posts ORDER BY post_uid", max_rows=2)
    assert result.table.column("post_uid").to_pylist() == ["x:0", "x:1"]
    assert result.truncated
    assert not run_query_apart(loaded, "SELECT 1 AS one", max_rows=2).truncated
    with pytest.raises(RefusedQueryError, match="read-only: a DROP"):
        run_query_apart(loaded, "DROP VIEW posts")
    exported = _exported_database(tmp_path / "exported")
    with pytest.raises(RefusedQueryError, match="would open another file") as refused:
        run_query_apart(loaded, f"PRAGMA import_database('{exported}')")
    assert _TOKEN not in str(refused.value)
    with pytest.raises(duckdb.Error, match="nowhere"):
        run_query_apart(loaded, "SELECT * FROM nowhere")
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(duckdb.Error, match="disabled"):
        run_query_apart(loaded, f"SELECT * FROM read_csv('{secret}')")
    with pytest.raises(WarehouseError, match="there is no warehouse"):
        run_query_apart(Warehouse(tmp_path / "none.duckdb"), "SELECT 1")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_that_cannot_be_written_whole_is_an_error_not_a_traceback(
    loaded: Warehouse,
) -> None:
    query = "SELECT i FROM range(1000000) r(i)"
    command = [sys.executable, "-m", "claimwatch.cli", "--db", str(loaded.path), "sql", query]
    with Path("/dev/full").open("wb") as full:
        result = subprocess.run(
            [*command, "--format", "csv"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 2
    assert "the result could not be written whole" in result.stderr
    assert "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stream_stopped_by_its_time_limit_while_rows_flow_says_so(loaded: Warehouse) -> None:
    endless = "SELECT i, repeat('x', 100) AS t FROM range(10000000000) r(i)"
    rows = 0
    with (
        pytest.raises(QueryTimeoutError, match=r"2 s limit"),
        streaming_query(loaded, endless, timeout=2.0, batch_rows=1_000) as stream,
    ):
        for batch in stream.batches():
            rows += batch.num_rows
    assert rows > 0  # it stopped while the rows were flowing, not before
