"""Reading import files into numbered rows, in chunks, without losing a line.

Every chunk has a `line` column: what a person finds in the file (the line of a JSON Lines file,
the row of a CSV counting the header as row 1, the row of a Parquet file counting from 1). A JSON
Lines chunk holds each line's text in `record`; CSV and Parquet chunks hold the file's own columns.
Rows that cannot even be read (bytes that are not UTF-8, a CSV row with the wrong number of fields)
are returned as rejections with their line, so validation (`claimwatch.validate`) sees only text.
"""

from __future__ import annotations

import csv
import io
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_BLOCK_BYTES = 64 << 20
_GZIP_PIECE = 8 << 20  # decompressed at a time (a gzip of zeros expands a thousandfold)
_MAX_LINE = 64 << 20  # a JSON Lines line or a CSV row; longer ones are rejected by number
_CSV_MAX_LINE = _MAX_LINE


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not a row: the message says why)."""


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    excerpt: str


@dataclass
class RowChunk:
    rows: pa.Table  # `line` (int64), then `record` (is_json) or the file's own columns
    is_json: bool
    rejections: list[Rejection]
    bytes_read: int  # progress through the file, for the progress bar


def detect_format(path: Path, given: str | None) -> str:
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if given:
        if given not in FORMATS:
            raise ImportFileError(f"unknown format {given!r}; expected one of {', '.join(FORMATS)}")
        return given
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) > 1 else path.suffix.lower()
    fmt = _SUFFIXES.get(suffix)
    if fmt is None or (fmt == "parquet" and suffix != path.suffix.lower()):
        raise ImportFileError(
            f"{path}: cannot tell the format from the extension {path.suffix!r};"
            f" pass --format {'|'.join(FORMATS)}"
        )
    return fmt


def read_chunks(path: Path, fmt: str, chunk_rows: int) -> Iterator[RowChunk]:
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if fmt == "jsonl":
        yield from _jsonl_chunks(path, chunk_rows)
    elif fmt == "csv":
        yield from _csv_chunks(path, chunk_rows)
    else:
        yield from _parquet_chunks(path, chunk_rows)


def excerpt(raw: bytes | str, limit: int = 80) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# JSON Lines ----------------------------------------------------------------------------------


def _jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[RowChunk]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        reader = _JsonLines(path, gzipped)
        blocks = _gunzipped(raw, path) if gzipped else iter(lambda: raw.read(_BLOCK_BYTES), b"")
        try:
            first = next(blocks, b"")
            _refuse_json_array(first, path)
            yield from reader.chunks(itertools.chain([first], blocks), raw, chunk_rows)
        except _BrokenStreamError as error:
            raise ImportFileError(reader.broken(error.reason)) from None


class _BrokenStreamError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _gunzipped(raw: io.BufferedIOBase, path: Path) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file (of every member), at most a block at a time, up to
    where it breaks off: a truncated or damaged file yields all it holds before the break."""
    stream, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
    while piece := raw.read(4 << 20):
        while piece:
            try:  # at most a block out per call: a gzip of zeros must not expand in one go
                yield stream.decompress(piece, _GZIP_PIECE)
            except zlib.error as error:
                raise _BrokenStreamError(f"damaged ({error})") from None
            fed, piece = True, stream.unconsumed_tail
            if stream.eof:  # a member ended: the next one, if any, starts afresh
                piece = stream.unused_data
                stream, fed = zlib.decompressobj(16 + zlib.MAX_WBITS), False
    if fed and not stream.eof:
        raise _BrokenStreamError("truncated (it ends before the end of its gzip stream)")


@dataclass
class _JsonLines:
    """Reads a JSON Lines stream block by block. A line longer than _MAX_LINE is rejected by its
    number and skipped without being held: memory stays bounded by the block size."""

    path: Path
    gzipped: bool
    first_line: int = 1
    carry: bytes = b""  # the start of a line the last block did not finish
    pending: list[bytes] = field(default_factory=list)  # blocks of that line, not yet joined
    pending_bytes: int = 0
    skipping: bool = False  # inside a line too long to keep, until its newline

    def chunks(
        self, blocks: Iterator[bytes], raw: io.BufferedIOBase, chunk_rows: int
    ) -> Iterator[RowChunk]:
        while True:
            block = next(blocks, b"")
            end = not block
            if self.skipping:
                newline = block.find(b"\n")
                if newline < 0 and not end:
                    continue  # still inside the long line
                self.skipping = False
                yield self._too_long()
                block = block[newline + 1 :] if newline >= 0 else b""
            if not end and b"\n" not in block:  # a line's middle: held in pieces, joined once
                self.pending.append(block)
                self.pending_bytes += len(block)
                if len(self.carry) + self.pending_bytes > _MAX_LINE:
                    self._drop_line()  # a line too long: never held whole
                continue
            data = b"".join([self.carry, *self.pending, block])
            self.pending, self.pending_bytes = [], 0
            if end:
                self.carry = b""
            else:
                cut = data.rfind(b"\n") + 1
                data, self.carry = data[:cut], data[cut:]
            if data:
                if self.first_line == 1 and data.startswith(b"\xef\xbb\xbf"):
                    data = b"   " + data[3:]  # a byte-order mark: blank it, keep offsets
                lines = _split_lines(data, self.first_line)
                self.first_line += lines.count
                yield from lines.chunks(chunk_rows, raw.tell())  # compressed bytes for a .gz
            if len(self.carry) > _MAX_LINE:  # no newline in sight: drop what is held of it
                self._drop_line()
            if end:
                return

    def _drop_line(self) -> None:
        self.carry, self.pending, self.pending_bytes, self.skipping = b"", [], 0, True

    def _too_long(self) -> RowChunk:
        line = self.first_line
        self.first_line += 1
        reason = f"line longer than {_MAX_LINE >> 20} MB: skipped"
        empty = pa.table(
            {"line": pa.array([], pa.int64()), "record": pa.array([], pa.large_string())}
        )
        return RowChunk(empty, True, [Rejection(line, reason, "")], 0)

    def broken(self, reason: str) -> str:
        what = "gzip file" if self.gzipped else "file"
        return (
            f"{self.path}: {what} {reason}, after line {self.first_line - 1};"
            " the rows before it were imported"
        )


def _refuse_json_array(first_block: bytes, path: Path) -> None:
    head = first_block[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        raise ImportFileError(
            f"{path} holds a JSON array; import takes JSON Lines, one object per line"
            f" (convert it with: jq -c '.[]' {path} > posts.jsonl)"
        )


@dataclass
class _Lines:
    data: bytes
    starts: np.ndarray  # byte offset where each line starts
    ends: np.ndarray  # byte offset just past each line's content (newline and CR excluded)
    first_line: int

    @property
    def count(self) -> int:
        return len(self.starts)

    def chunks(self, chunk_rows: int, bytes_read: int) -> Iterator[RowChunk]:
        for lo in range(0, self.count, chunk_rows):
            hi = min(lo + chunk_rows, self.count)
            yield self._chunk(lo, hi, bytes_read if hi == self.count else 0)

    def _chunk(self, lo: int, hi: int, bytes_read: int) -> RowChunk:
        starts, ends = self.starts[lo:hi], self.ends[lo:hi]
        numbers = np.arange(self.first_line + lo, self.first_line + hi, dtype=np.int64)
        # blank lines (empty or only whitespace) are skipped, not rejected
        keep = (ends > starts) & ~_only_whitespace(self.data, starts, ends)
        bad = _invalid_utf8(self.data, starts, ends, keep)
        rejections = [
            Rejection(
                int(numbers[i]), "not valid UTF-8 text", excerpt(self.data[starts[i] : ends[i]])
            )
            for i in np.flatnonzero(bad)
        ]
        keep &= ~bad
        lines = self.as_arrow().slice(lo, hi - lo).filter(pa.array(keep))
        table = pa.table({"line": pa.array(numbers[keep]), "record": lines})
        return RowChunk(table, True, rejections, bytes_read)

    def as_arrow(self) -> pa.Array:
        """Every line, newline included, as Arrow strings over the block's own bytes (no copy)."""
        offsets = np.append(self.starts, len(self.data)).astype(np.int64)
        return pa.Array.from_buffers(
            pa.large_string(), self.count, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)]
        )


def _split_lines(data: bytes, first_line: int) -> _Lines:
    view = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(view == 10)
    ends = newlines if len(data) and data[-1:] == b"\n" else np.append(newlines, len(data))
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    has_cr = (ends > starts) & (view[np.maximum(ends - 1, 0)] == 13)
    return _Lines(data, starts, ends - has_cr, first_line)


def _only_whitespace(data: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    short = np.flatnonzero((ends - starts) <= 8)  # only short lines can be whitespace worth a look
    result = np.zeros(len(starts), dtype=bool)
    for i in short:
        result[i] = not data[starts[i] : ends[i]].strip()
    return result


def _invalid_utf8(
    data: bytes, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    bad = np.zeros(len(starts), dtype=bool)
    try:
        data.decode("utf-8")
        return bad
    except UnicodeDecodeError:
        pass
    for i in np.flatnonzero(keep):  # only a file that has bad bytes pays for a look at each line
        try:
            data[starts[i] : ends[i]].decode("utf-8")
        except UnicodeDecodeError:
            bad[i] = True
    return bad


# CSV -----------------------------------------------------------------------------------------


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[RowChunk]:
    dialect = _csv_dialect(path)
    if dialect is None:
        return  # no header, no rows: the import says the file holds none
    delimiter, header = dialect
    columns = {name: "VARCHAR" for name in header}
    con = duckdb.connect()
    try:
        # The dialect is given, not sniffed: one row with a stray quote once made the sniffer
        # drop quoting for the whole file, and every other row was rejected.
        con.execute(
            """CREATE TABLE rows AS
               SELECT * FROM read_csv(?, header = true, auto_detect = false, columns = ?,
                   delim = ?, quote = '"', escape = '"', store_rejects = true,
                   max_line_size = ?, strict_mode = true)""",
            [str(path), columns, delimiter, _CSV_MAX_LINE],
        )
        rejected = con.execute(
            """SELECT line, string_agg(error_type, '|'), string_agg(error_message, '; ')
               FROM reject_errors GROUP BY line ORDER BY line"""
        ).fetchall()  # one rejection per row, whatever the number of errors found in it
        rejections = [
            Rejection(int(line), _csv_reason(kind.split("|")[0], msg), "")
            for line, kind, msg in rejected
        ]
        good = int(con.execute("SELECT count(*) FROM rows").fetchone()[0])  # type: ignore[index]
        rows_of = _csv_row_numbers(good, [r.line for r in rejections])
        size = path.stat().st_size
        for lo in range(0, max(good, 1), chunk_rows):
            chunk = con.execute(
                "SELECT * FROM rows WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
                [lo, lo + chunk_rows],
            ).to_arrow_table()
            numbers = pa.array(rows_of[lo : lo + chunk.num_rows])
            done = size if lo + chunk_rows >= good else int(size * (lo + chunk_rows) / good)
            yield RowChunk(
                chunk.add_column(0, "line", numbers), False, rejections if lo == 0 else [], done
            )
    except duckdb.Error as error:
        raise ImportFileError(f"{path}: not a CSV file that can be read: {error}") from None
    finally:
        con.close()


_CSV_DELIMITERS = ",;\t|"
_REQUIRED = ("source", "source_id", "created_at", "text")


def _csv_dialect(path: Path) -> tuple[str, list[str]] | None:
    """The delimiter (the standard library's csv.Sniffer over the first 64 KB, among , ; tab |)
    and the header's column names; None for a file with no header at all."""
    head = _text_head(path)
    if not head.strip():
        return None
    try:
        delimiter = csv.Sniffer().sniff(head, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader(io.StringIO(head), delimiter=delimiter), [])
    names = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        found = ", ".join(repr(name) for name in names[:8]) or "nothing"
        raise ImportFileError(
            f"{path}: the CSV header has no {', '.join(missing)} column(s); it names {found}."
            f" A CSV import needs a header row naming the Post fields ({', '.join(_REQUIRED)},"
            " and optional others; docs/collectors.md); a JSON Lines file takes --format jsonl"
        )
    if len(set(names)) < len(names):
        raise ImportFileError(f"{path}: the CSV header names a column twice: {names}")
    return delimiter, names


def _text_head(path: Path) -> str:
    """The first 64 KB of the file as text (decompressed for a .gz), cut at its last newline."""
    with path.open("rb") as raw:
        data = raw.read(64 << 10)
        if data.startswith(b"\x1f\x8b"):
            raw.seek(0)
            data = next(_gunzipped(raw, path), b"")[: 64 << 10]
    cut = data.rfind(b"\n")
    data = data if cut < 0 else data[: cut + 1]
    return data.decode("utf-8", errors="replace")


def _csv_row_numbers(good: int, rejected_rows: list[int]) -> np.ndarray:
    """Row numbers (header = 1) of the good rows, given the row numbers that were rejected."""
    total = good + len(rejected_rows)
    every = np.arange(2, total + 2, dtype=np.int64)
    return np.setdiff1d(every, np.asarray(rejected_rows, dtype=np.int64), assume_unique=True)


def _csv_reason(kind: str, message: str) -> str:
    if kind == "INVALID ENCODING" or kind == "INVALID UNICODE":
        return "not valid UTF-8 text"
    if kind == "LINE SIZE OVER MAXIMUM":
        return f"row longer than {_CSV_MAX_LINE >> 20} MB"
    return f"{kind.lower()}: {message}"


# Parquet -------------------------------------------------------------------------------------


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RowChunk]:
    """Row group by row group: a damaged one is rejected whole (by its first row, with the
    range it held), and the others still load."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ImportFileError(f"{path}: not a Parquet file that can be read: {error}") from None
    total = max(parquet.metadata.num_rows, 1)
    size = path.stat().st_size
    first = 1
    for group in range(parquet.metadata.num_row_groups):
        count = parquet.metadata.row_group(group).num_rows
        try:
            table = parquet.read_row_group(group)
        except (pa.ArrowException, OSError) as error:
            reason = (
                f"Parquet row group {group + 1} (rows {first}-{first + count - 1}) cannot be"
                f" read: {error}"
            )
            empty = parquet.schema_arrow.empty_table().add_column(
                0, "line", pa.array([], pa.int64())
            )
            first += count
            yield RowChunk(empty, False, [Rejection(first - count, reason, "")], 0)
            continue
        for batch in table.to_batches(max_chunksize=chunk_rows):
            numbers = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
            first += batch.num_rows
            rows = pa.Table.from_batches([batch]).add_column(0, "line", numbers)
            yield RowChunk(rows, False, [], int(size * (first - 1) / total))
