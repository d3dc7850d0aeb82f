"""Turning imported rows into Posts, a whole chunk at a time, with a reason for every bad row.

Every format is first brought to one shape, `_fields`: per Post field, the JSON type of the value
as the file gave it (`t_<field>`: string, number, boolean, object, array; NULL when
absent) and its text (`v_<field>`). JSON Lines are parsed once per line (DuckDB's JSON reader);
CSV and Parquet columns are already typed. Then each field is checked against the Post contract
with set-based SQL; a row with any problem is rejected with all its reasons, and every other row
becomes a Post. No Python code runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from claimwatch.records import Rejection, RowChunk
from config import DEFAULT_TIMEZONE
from config import Warehouse as WarehouseSettings
from warehouse.schema import POST_KINDS, REQUIRED_POST_FIELDS

_STRINGS = ("url", "author_handle", "author_name", "lang", "text", "title", "kind")
_IDS = ("source", "source_id", "author_id", "parent_uid", "root_uid")  # numbers allowed
_COUNTS = ("author_followers", "likes", "reposts", "replies", "quotes")
_TIMES = ("created_at", "collected_at")
FIELDS = (*_IDS, *_STRINGS, *_COUNTS, *_TIMES, "raw")
_SOURCE_NAME = "^[a-z0-9][a-z0-9_.-]*$"


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = WarehouseSettings().max_text_bytes  # the config's default
    # a date without a time ("2026-01-30": a post known only by its day) is read as noon on that
    # day in this zone (`[schedule] timezone`), the middle of the day the source gives, not as
    # midnight UTC (the evening before in the Americas)
    date_zone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        ZoneInfo(self.date_zone)  # a zone name, never SQL: it is spliced into the query


def validate_chunk(
    chunk: RowChunk, collected_at: datetime, limits: Limits
) -> tuple[pa.Table, list[Rejection]]:
    """Posts from the chunk's rows, and the rejected rows with their reasons."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        # batches of 64k rows let DuckDB scan the chunk on every core
        rows = pa.Table.from_batches(chunk.rows.to_batches(max_chunksize=65_536))
        con.register("_rows", rows)
        checked = con.execute(
            _checked_sql(_fields(rows, chunk.is_json, "_rows"), limits),
            {"collected_at": collected_at},
        ).to_arrow_table()
        bad = checked.column("_bad")
        posts = checked.filter(pc.invert(bad)).drop_columns(["_line", "_bad"])
        rejections = _reasons(con, rows, checked.filter(bad).column("_line"), chunk.is_json, limits)
    finally:
        con.close()
    return posts, rejections


def _reasons(
    con: duckdb.DuckDBPyConnection,
    rows: pa.Table,
    lines: pa.ChunkedArray,
    is_json: bool,
    limits: Limits,
) -> list[Rejection]:
    if len(lines) == 0:
        return []
    con.register(
        "_bad_rows", rows.filter(pc.is_in(rows.column("line"), value_set=lines.combine_chunks()))
    )
    found = con.execute(_reasons_sql(_fields(rows, is_json, "_bad_rows"), limits)).fetchall()
    return [Rejection(int(line), reason, _short(text)) for line, reason, text in found]


def _fields(rows: pa.Table, is_json: bool, source: str) -> str:
    return _fields_from_json(source) if is_json else _fields_from_columns(rows, source)


def _short(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


# Bringing each format to `_fields` -----------------------------------------------------------


def _struct(kind: str) -> str:
    return "{" + ", ".join(f'"{f}": "{kind}"' for f in FIELDS) + "}"


# A value's JSON type is the code of its first character: cheap integer comparisons, no parsing.
STRING, OBJECT, ARRAY, TRUE, FALSE, NUMBER = 34, 123, 91, 116, 102, 48  # " { [ t f 0
_NOT_SCALAR = f"({OBJECT}, {ARRAY}, {TRUE}, {FALSE})"


def _fields_from_json(source: str) -> str:
    """Two parses per line: the JSON text of each field (for its type), and its value as text."""
    per_field = ", ".join(f"ord(j.{f}) AS t_{f}, v.{f} AS v_{f}" for f in FIELDS)
    first = "ord(ltrim(record))"
    return f"""
        SELECT line, record AS row_json, {per_field},
               CASE WHEN j IS NULL THEN 'not a JSON object: cannot parse the line as JSON'
                    WHEN ord(ltrim(record)) <> {OBJECT}
                        THEN 'not a JSON object: the line holds ' || {_described(first)}
               END AS shape_problem
        FROM (SELECT line, record,
                     try(json_transform(record, '{_struct("JSON")}')) AS j,
                     try(json_transform(record, '{_struct("VARCHAR")}')) AS v
              FROM {source})"""


def _column_type(kind: pa.DataType) -> int:
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return NUMBER
    if pa.types.is_boolean(kind):
        return TRUE
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return OBJECT
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return ARRAY
    return STRING  # strings, and dates and times, which are read from their ISO text


def _fields_from_columns(rows: pa.Table, source: str) -> str:
    schema = {field.name: field.type for field in rows.schema if field.name != "line"}
    per_field = []
    for f in FIELDS:
        if f not in schema:
            per_field.append(f"NULL::INTEGER AS t_{f}, NULL::VARCHAR AS v_{f}")
            continue
        kind = _column_type(schema[f])
        text = f'to_json("{f}")::VARCHAR' if kind in (OBJECT, ARRAY) else f'"{f}"::VARCHAR'
        per_field.append(
            f"""CASE WHEN "{f}" IS NOT NULL THEN {kind} END AS t_{f}, {text} AS v_{f}"""
        )
    originals = ", ".join(f'"{name}" := "{name}"' for name in schema)
    return f"""
        SELECT line, to_json(struct_pack({originals}))::VARCHAR AS row_json, {", ".join(per_field)},
               NULL::VARCHAR AS shape_problem
        FROM {source}"""


# Checking `_fields` --------------------------------------------------------------------------


def _typed_columns(zone: str) -> str:
    """Each value read once: `s_` its trimmed text (blank as absent), `ts_` its time, `n_` its
    number."""
    columns = ["line", "row_json", "shape_problem", "t_raw", "v_raw", "t_text", "v_text"]
    for f in FIELDS:
        if f not in ("raw", "text"):
            columns += [f"t_{f}", f"nullif(trim(v_{f}), '') AS s_{f}"]
    columns += [f"{_time(f'trim(v_{f})', zone)} AS ts_{f}" for f in _TIMES]
    columns += [f"try_cast(nullif(trim(v_{f}), '') AS DOUBLE) AS n_{f}" for f in _COUNTS]
    return ", ".join(columns)


def _time(value: str, zone: str) -> str:
    """SQL reading `value` as a time: ISO 8601, or a bare date as noon in `zone` (`Limits`)."""
    noon = f"timezone('{zone}', try_cast({value} || ' 12:00:00' AS TIMESTAMP))"
    return (
        f"CASE WHEN regexp_full_match({value}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN {noon}"
        f" ELSE try_cast(nullif({value}, '') AS TIMESTAMPTZ) END"
    )


def _quoted(field: str) -> str:
    """SQL splice showing the field's value, quoted and cut short, inside a reason."""
    return f"''' || left(s_{field}, 40) || '''"


def _described(code: str) -> str:
    """SQL naming the JSON type with this first-character code in a user's words."""
    return (
        f"CASE {code} WHEN {STRING} THEN 'a string' WHEN {OBJECT} THEN 'an object'"
        f" WHEN {ARRAY} THEN 'a list' WHEN {TRUE} THEN 'true/false' WHEN {FALSE} THEN 'true/false'"
        f" ELSE 'a number' END"
    )


def _got(field: str) -> str:
    """SQL splice naming the field's JSON type in a user's words, inside a reason."""
    return f"' || {_described(f't_{field}')} || '"


def _problems(limits: Limits) -> list[tuple[str, str]]:
    """(condition that makes a row bad, the reason given)."""
    checks = [
        ("t_text IS NULL", "text: missing"),  # text may be empty, but must be there
        *((f"s_{f} IS NULL", f"{f}: missing") for f in REQUIRED_POST_FIELDS if f != "text"),
    ]
    for field in _IDS:
        checks.append(
            (
                f"t_{field} IN {_NOT_SCALAR}",
                f"{field}: expected a string or a number, got {_got(field)}",
            )
        )
    for field in _STRINGS:
        checks.append((f"t_{field} <> {STRING}", f"{field}: expected a string, got {_got(field)}"))
    for field in _TIMES:
        checks.append(
            (
                f"t_{field} <> {STRING}",
                f"{field}: expected an ISO 8601 date-time string, got {_got(field)}",
            )
        )
        checks.append(
            (
                f"t_{field} = {STRING} AND ts_{field} IS NULL AND s_{field} IS NOT NULL",
                f"{field}: cannot read {_quoted(field)} as an ISO 8601 date-time",
            )
        )
    for field in _COUNTS:
        number = f"n_{field}"
        checks.append(
            (
                f"t_{field} IN {_NOT_SCALAR} OR (s_{field} IS NOT NULL"
                f" AND ({number} IS NULL OR {number} < 0 OR {number} <> floor({number})"
                f" OR {number} > 9e18))",
                f"{field}: expected a whole number >= 0, got {_quoted(field)}",
            )
        )
    checks.append(
        (
            f"NOT regexp_full_match(lower(s_source), '{_SOURCE_NAME}')",
            f"source: {_quoted('source')} is not a source name"
            " (letters, digits, dot, dash, underscore)",
        )
    )
    kinds = ", ".join(f"'{k}'" for k in POST_KINDS)
    checks.append(
        (
            f"lower(s_kind) NOT IN ({kinds})",
            f"kind: {_quoted('kind')} is not one of {', '.join(POST_KINDS)}",
        )
    )
    checks.append(
        (
            f"strlen(v_text) > {limits.max_text_bytes}",
            f"text: ' || format('{{:,}}', strlen(v_text)) || ' bytes, over the limit of"
            f" {limits.max_text_bytes:,} (warehouse.max_text_bytes)",
        )
    )
    return checks


def _checked_sql(fields: str, limits: Limits) -> str:
    """Every row as a Post, with `_bad` telling whether any check failed (and `_line`).

    One pass, nothing materialised: bad rows are split off in Arrow, and their reasons spelled out
    by `_reasons_sql` over those rows alone.
    """
    bad = " OR ".join(f"coalesce({condition}, false)" for condition, _ in _problems(limits))
    return f"""
        SELECT {_POST_VALUES}, line AS _line, shape_problem IS NOT NULL OR {bad} AS _bad
        FROM (SELECT {_typed_columns(limits.date_zone)} FROM ({fields}))"""


def _reasons_sql(fields: str, limits: Limits) -> str:
    """Every reason of every row of `fields` (run over the bad rows only)."""
    reasons = ", ".join(
        f"CASE WHEN coalesce({condition}, false) THEN '{reason}' END"
        for condition, reason in _problems(limits)
    )
    return f"""
        SELECT line, coalesce(shape_problem,
                              array_to_string(list_filter([{reasons}], p -> p IS NOT NULL), '; ')),
               left(row_json, 200)
        FROM (SELECT {_typed_columns(limits.date_zone)} FROM ({fields})) ORDER BY line"""


def _uid(field: str) -> str:
    """A parent given as a bare id belongs to the same source: "123" becomes "x:123"."""
    value = f"s_{field}"
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN contains({value}, ':') THEN {value}"
        f" ELSE lower(s_source) || ':' || {value} END"
    )


# Casts are TRY casts: this runs over bad rows too, which are then dropped.
_POST_VALUES = f"""
    lower(s_source) AS source, s_source_id AS source_id, s_url AS url,
    coalesce(lower(s_kind), 'post') AS kind, s_author_id AS author_id,
    s_author_handle AS author_handle, s_author_name AS author_name,
    try_cast(n_author_followers AS BIGINT) AS author_followers, ts_created_at AS created_at,
    coalesce(ts_collected_at, $collected_at::TIMESTAMPTZ) AS collected_at, lower(s_lang) AS lang,
    replace(v_text, chr(0), '') AS text, s_title AS title,
    {_uid("parent_uid")} AS parent_uid, {_uid("root_uid")} AS root_uid,
    try_cast(n_likes AS BIGINT) AS likes, try_cast(n_reposts AS BIGINT) AS reposts,
    try_cast(n_replies AS BIGINT) AS replies, try_cast(n_quotes AS BIGINT) AS quotes,
    CASE WHEN t_raw IN ({OBJECT}, {ARRAY}) THEN v_raw
         WHEN t_raw = {STRING} AND json_valid(v_raw) THEN v_raw
         WHEN t_raw = {STRING} THEN to_json(v_raw)::VARCHAR
         ELSE rtrim(row_json, chr(13) || chr(10)) END AS raw"""
