"""Ad-hoc SQL in a process of its own, for the dashboard's SQL page.

Within one process claimwatch opens the file one connection at a time (warehouse/access.py), so a
query that runs for minutes on the SQL page would make every other page of every session wait for
it. Here the query runs in a child process with its own read-only connection and its time limit;
the pages' process never waits on it, and a query that will not stop is killed. The result comes
back as an Arrow IPC stream on the child's stdout; a failure as one JSON line.

Run as `python -m warehouse.adhoc_process`, the module is that child: the request is JSON on stdin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from warehouse import Warehouse, WarehouseError
from warehouse.adhoc import (
    QueryResult,
    QueryTimeoutError,
    RefusedQueryError,
    check_read_only,
    run_query,
)

# Beyond the query's own limit and the wait for the file: time for the child to start (imports
# take about a second, more on a busy machine) before it is killed.
_START_ALLOWANCE = 30.0
_FAILED = 3  # the child's exit status when it reports a failure on stdout
_TRUNCATED = b"claimwatch.truncated"


class QueryFailedError(RuntimeError):
    """The query's process ended without a result or a reason (killed, out of memory)."""


def run_query_apart(
    warehouse: Warehouse, query: str, *, max_rows: int | None = None, timeout: float | None = None
) -> QueryResult:
    """`run_query` in a child process: the same refusals, limits and errors."""
    check_read_only(query)  # refused at once, without starting a process
    request = {
        "path": str(warehouse.path),
        "read_timeout": warehouse.read_timeout,
        "query": query,
        "max_rows": max_rows,
        "timeout": timeout,
    }
    hard_limit = timeout + warehouse.read_timeout + _START_ALLOWANCE if timeout else None
    try:
        child = subprocess.run(
            [sys.executable, "-m", "warehouse.adhoc_process"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=hard_limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise QueryTimeoutError(
            f"the query ran past the {timeout:g} s limit and its process was stopped"
        ) from None
    if child.returncode == 0:
        return _result(child.stdout)
    if child.returncode == _FAILED:
        raise _failure(json.loads(child.stdout))
    said = child.stderr.decode(errors="replace").strip().splitlines()
    raise QueryFailedError(
        f"the query's process ended with status {child.returncode}"
        + (f": {said[-1]}" if said else "")
    )


def _result(stream: bytes) -> QueryResult:
    table = pa.ipc.open_stream(stream).read_all()
    truncated = (table.schema.metadata or {}).get(_TRUNCATED) == b"1"
    return QueryResult(table.replace_schema_metadata(None), truncated=truncated)


def _failure(report: dict[str, str]) -> Exception:
    kinds: dict[str, type[Exception]] = {
        "refused": RefusedQueryError,
        "timeout": QueryTimeoutError,
        "warehouse": WarehouseError,
        "duckdb": duckdb.Error,
    }
    return kinds.get(report["kind"], QueryFailedError)(report["message"])


def _answer(request: dict[str, Any]) -> int:
    """The child's work: run the request, write the result or the failure to stdout."""
    warehouse = Warehouse(Path(request["path"]), read_timeout=request["read_timeout"])
    try:
        result = run_query(
            warehouse, request["query"], max_rows=request["max_rows"], timeout=request["timeout"]
        )
    except (RefusedQueryError, QueryTimeoutError, WarehouseError, duckdb.Error) as error:
        kind = (
            "refused"
            if isinstance(error, RefusedQueryError)
            else "timeout"
            if isinstance(error, QueryTimeoutError)
            else "warehouse"
            if isinstance(error, WarehouseError)
            else "duckdb"
        )
        sys.stdout.write(json.dumps({"kind": kind, "message": str(error)}))
        return _FAILED
    table = result.table.replace_schema_metadata({_TRUNCATED: b"1" if result.truncated else b"0"})
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(_answer(json.loads(sys.stdin.buffer.read())))
