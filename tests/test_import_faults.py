"""Bad import files (issue 14, items 5, 7 and 8): each ends with a clear error, never a
traceback; every good row before and after a bad part is stored once; the run is recorded."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CliResult

from claimwatch.importer import import_file
from warehouse import Warehouse

Cli = Callable[..., CliResult]


def post(i: int) -> dict[str, object]:
    return {
        "source": "x",
        "source_id": str(i),
        "created_at": "2026-01-28T10:00:00Z",
        "text": f"post {i} about 5 #ICE stations Canada",
    }


def lines(*rows: object) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def stored(db_path: Path, query: str) -> list[tuple[object, ...]]:
    if not db_path.exists():
        return []
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(query).fetchall()


def ids(db_path: Path) -> list[str]:
    rows = stored(db_path, "SELECT source_id FROM posts ORDER BY source_id::INT")
    return [str(row[0]) for row in rows]


def no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err


def runs(db_path: Path) -> list[tuple[object, ...]]:
    return stored(db_path, "SELECT status FROM collector_runs WHERE source = 'import'")


# --- item 7: files that give a traceback ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("blank.jsonl", b"\n   \n\t\n", "no rows"),
        ("empty.csv", b"", "no rows"),
        ("header.csv", b"source,source_id,created_at,text\n", "no rows"),
    ],
)
def test_a_file_with_no_rows_says_so(
    cli: Cli, tmp_path: Path, db_path: Path, name: str, content: bytes, said: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("import", str(path))
    no_traceback(result)
    assert said in (result.err + result.out)
    assert ids(db_path) == []


def test_json_read_as_csv_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(lines(post(1), post(2)))
    result = cli("import", "--format", "csv", str(path))
    no_traceback(result)
    assert result.code == 2
    assert "csv" in result.err.lower()


def test_a_truncated_gzip_stores_what_it_could_read_and_says_where_it_broke(
    cli: Cli, tmp_path: Path, db_path: Path
) -> None:
    whole = gzip.compress(lines(*(post(i) for i in range(1, 2001))))
    path = tmp_path / "posts.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    result = cli("import", str(path))
    no_traceback(result)
    assert result.code != 0
    assert "gzip" in result.err.lower() and "truncated" in result.err.lower()
    kept = ids(db_path)
    assert kept == [str(i) for i in range(1, len(kept) + 1)]  # a prefix, each once
    assert runs(db_path) == [("failed",)]


def test_a_corrupt_gzip_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage-that-is-not-deflate" * 10)
    result = cli("import", str(path))
    no_traceback(result)
    assert result.code != 0 and "gzip" in result.err.lower()


def test_a_parquet_file_with_a_corrupt_page_stores_the_good_row_groups(
    cli: Cli, tmp_path: Path, db_path: Path
) -> None:
    path = tmp_path / "posts.parquet"
    table = pa.Table.from_pylist([post(i) for i in range(1, 301)])
    pq.write_table(table, path, row_group_size=100, compression="none")
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(3)  # the text of rows 101..200
    start = column.data_page_offset
    data[start + 20 : start + 200] = b"\xff" * 180
    path.write_bytes(bytes(data))
    result = cli("import", str(path))
    no_traceback(result)
    assert result.code == 1
    assert "line 101: Parquet row group 2 (rows 101-200) cannot be read" in result.err
    assert ids(db_path) == [str(i) for i in [*range(1, 101), *range(201, 301)]]
    assert runs(db_path) == [("partial",)]


def test_a_blank_chunk_in_the_middle_does_not_stop_the_import(
    warehouse: Warehouse, tmp_path: Path, db_path: Path
) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(lines(*(post(i) for i in range(1, 4))) + b"\n" * 50 + lines(post(4), post(5)))
    report = import_file(path, warehouse, "jsonl", chunk_rows=10)  # chunks 2..5 are blank
    assert (report.status, report.stats.new) == ("ok", 5)
    assert ids(db_path) == ["1", "2", "3", "4", "5"]
    assert runs(db_path) == [("ok",)]


# --- item 5: bounded memory -----------------------------------------------------------------------


def test_a_line_too_long_is_rejected_by_number_and_the_rest_load(
    cli: Cli, tmp_path: Path, db_path: Path
) -> None:
    path = tmp_path / "posts.jsonl"
    huge = b'{"text": "' + b"x" * (150 << 20) + b'"}'  # over 64 MB: never held whole
    path.write_bytes(lines(post(1), huge, post(3)))
    result = cli("import", str(path))
    no_traceback(result)
    assert "line 2" in result.err and "longer than" in result.err
    assert ids(db_path) == ["1", "3"]


# --- item 8: CSV edge cases -----------------------------------------------------------------------


def csv_file(path: Path, rows: list[str], newline: str = "\n") -> Path:
    path.write_bytes(newline.join(["source,source_id,created_at,text", *rows, ""]).encode())
    return path


def test_one_bad_csv_row_rejects_only_itself(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    rows = [f"x,{i},2026-01-28T10:00:00Z,post {i}" for i in range(1, 8)]
    rows[3] = "x,4,2026-01-28T10:00:00Z,post 4,one field too many"
    result = cli("import", str(csv_file(tmp_path / "posts.csv", rows)))
    no_traceback(result)
    assert "line 5:" in result.err  # the header is line 1
    assert ids(db_path) == ["1", "2", "3", "5", "6", "7"]


def test_an_unterminated_quote_in_a_crlf_file_rejects_its_row_not_the_file(
    cli: Cli, tmp_path: Path, db_path: Path
) -> None:
    rows = [f"x,{i},2026-01-28T10:00:00Z,post {i}" for i in range(1, 6)]
    rows[2] = 'x,3,2026-01-28T10:00:00Z,"post 3 never closed'
    result = cli("import", str(csv_file(tmp_path / "posts.csv", rows, newline="\r\n")))
    no_traceback(result)
    assert result.code != 2, result.err  # not a refusal of the whole file
    assert {"1", "2"} <= set(ids(db_path))


def test_a_gzip_of_zeros_is_refused_line_by_line_in_bounded_memory(
    tmp_path: Path, db_path: Path
) -> None:
    """500 MB of zeros, one line without a newline, compressed to half a megabyte: read by a
    child process whose peak memory is measured, it is rejected as too long, held never whole."""
    path = tmp_path / "zeros.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        block = b"0" * (16 << 20)
        for _ in range(32):
            out.write(block)
    script = (
        "from pathlib import Path;"
        "from claimwatch.importer import import_file; from warehouse import Warehouse;"
        f"r = import_file(Path({str(path)!r}), Warehouse(Path({str(db_path)!r})), 'jsonl');"
        "print(r.rejections[0].line, r.rejections[0].reason);"
        # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec
        "print([int(l.split()[1]) // 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True
    )
    said, peak_mb = done.stdout.strip().splitlines()
    assert said == "1 line longer than 64 MB: skipped"
    assert int(peak_mb) < 600, f"peak {peak_mb} MB for a 500 MB line"
