"""Read-only ad-hoc SQL over the documented views (`claimwatch sql`, the dashboard's SQL page).

Three walls, each enough alone: every statement is classified before anything runs and only queries
pass; the file is opened read-only; and the session may not touch any other file (no ATTACH, COPY,
read_csv, extensions) nor change those settings. The classifying itself runs in a sandbox too:
DuckDB expands some PRAGMAs while splitting statements (`import_database` reads the folder's
`schema.sql`), so splitting on an open connection would read files before any wall stood.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from warehouse import Warehouse
from warehouse.views import VIEWS

# Rows per batch of a streamed result: a few megabytes for rows of a post's size.
STREAM_BATCH_ROWS = 10_000

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}

# No file, no extension, and no way to turn that back on: what the parser may do while splitting.
_PARSER_SANDBOX: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


class RefusedQueryError(ValueError):
    """The query would change something, or is not a query at all."""


class QueryTimeoutError(RuntimeError):
    pass


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    truncated: bool  # more rows existed than max_rows


@dataclass
class QueryStream:
    """A result read batch by batch while the file is held; `truncated` is known once read."""

    reader: pa.RecordBatchReader
    max_rows: int | None
    truncated: bool = False

    @property
    def schema(self) -> pa.Schema:
        return self.reader.schema

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The result's batches, up to `max_rows` rows in all (no empty batch)."""
        left = self.max_rows
        batches = self._read()
        for batch in batches:
            if left is not None and batch.num_rows >= left:
                self.truncated = batch.num_rows > left or any(b.num_rows for b in batches)
                if left:
                    yield batch.slice(0, left)
                return
            if batch.num_rows:
                yield batch
            if left is not None:
                left -= batch.num_rows

    def _read(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self.reader
        except OSError as error:
            # DuckDB's interrupt (the time limit) comes through Arrow's C stream as an OSError
            if "INTERRUPT" not in str(error):
                raise
            raise duckdb.InterruptException(str(error)) from None


def check_read_only(query: str) -> None:
    """Raise RefusedQueryError unless every statement in `query` only reads."""
    statements = _split(query)
    if not statements:
        raise RefusedQueryError("the query is empty")
    for number, statement in enumerate(statements, start=1):
        if statement.type not in _ALLOWED:
            kind = statement.type.name
            where = f" (statement {number})" if len(statements) > 1 else ""
            raise RefusedQueryError(
                f"claimwatch sql is read-only: a {kind} statement{where} is refused and nothing"
                f" was run. Query the views ({', '.join(VIEWS)}) with SELECT."
            )


def _split(query: str) -> list[duckdb.Statement]:
    """The statements of `query`, split by an empty in-memory database that cannot touch files."""
    parser = duckdb.connect(":memory:", config=_PARSER_SANDBOX)
    try:
        return parser.extract_statements(query)
    except duckdb.PermissionException:
        # DuckDB's message names the file it wanted; whether it exists is not ours to tell.
        raise RefusedQueryError(
            "claimwatch sql reads only the warehouse: the query would open another file, so it is"
            " refused and nothing was run"
        ) from None
    except duckdb.Error as error:
        raise RefusedQueryError(f"the query does not parse: {error}") from None
    finally:
        parser.close()


def run_query(
    warehouse: Warehouse, query: str, *, max_rows: int | None = None, timeout: float | None = None
) -> QueryResult:
    """The result of `query` in memory, up to `max_rows` rows."""
    batch_rows = min(max_rows + 1, 100_000) if max_rows is not None else 100_000
    with streaming_query(
        warehouse, query, max_rows=max_rows, timeout=timeout, batch_rows=batch_rows
    ) as stream:
        table = pa.Table.from_batches(list(stream.batches()), schema=stream.schema)
    return QueryResult(table, truncated=stream.truncated)


@contextmanager
def streaming_query(
    warehouse: Warehouse,
    query: str,
    *,
    max_rows: int | None = None,
    timeout: float | None = None,
    batch_rows: int = STREAM_BATCH_ROWS,
) -> Iterator[QueryStream]:
    """The result of `query` as a stream of batches, for output larger than memory.

    The file stays held read-only, and the time limit runs, until the block ends.
    """
    check_read_only(query)
    with warehouse.reading(sandboxed=True) as con, _deadline(con, timeout):
        try:
            reader = con.execute(query).to_arrow_reader(batch_size=batch_rows)
            yield QueryStream(reader, max_rows)
        except duckdb.InterruptException:
            raise QueryTimeoutError(
                f"the query ran past the {timeout:g} s limit and was stopped"
            ) from None


@contextmanager
def _deadline(con: duckdb.DuckDBPyConnection, timeout: float | None) -> Iterator[None]:
    """Interrupt the connection's query once `timeout` has passed.

    It interrupts again every 50 ms until the query ends: an interrupt that lands before DuckDB
    has started the query (a busy machine) would otherwise be lost.
    """
    if not timeout:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        if not done.wait(timeout):
            while not done.is_set():
                con.interrupt()
                done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
