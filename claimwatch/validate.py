"""Turning imported records into Posts, a whole chunk at a time, with a reason for every bad row.

Each record is parsed once (DuckDB's JSON reader, vectorised); each field is checked against the
Post contract with set-based SQL; a row with any problem is rejected with all its reasons joined,
and every other row becomes a Post. No Python code runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from claimwatch.records import Rejection
from warehouse.schema import POST_KINDS, REQUIRED_POST_FIELDS

_STRINGS = ("url", "author_handle", "author_name", "lang", "text", "title")
_IDS = ("source", "source_id", "author_id", "parent_uid", "root_uid")  # numbers allowed
_COUNTS = ("author_followers", "likes", "reposts", "replies", "quotes")
_TIMES = ("created_at", "collected_at")
_FIELDS = (*_IDS, "kind", *_STRINGS, *_COUNTS, *_TIMES, "raw")
_NUMBER_TYPES = "'BIGINT', 'UBIGINT', 'DOUBLE'"
_SOURCE_NAME = "^[a-z0-9][a-z0-9_.-]*$"


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = 1 << 20


def validate_chunk(
    records: pa.Table, collected_at: datetime, limits: Limits
) -> tuple[pa.Table, list[Rejection]]:
    """Posts from `records` (line, record), and the rejected rows with their reasons."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.register("_records", records)
        con.execute(_PARSE)
        con.execute(_checked_sql(limits), [collected_at])
        rejected = con.execute(
            "SELECT line, array_to_string(problems, '; '), left(record, 200) FROM _checked"
            " WHERE len(problems) > 0 ORDER BY line"
        ).fetchall()
        posts = con.execute(_POSTS_SQL).to_arrow_table()
    finally:
        con.close()
    return posts, [Rejection(int(line), reason, _short(text)) for line, reason, text in rejected]


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


_PATHS = "[" + ", ".join(f"'$.{f}'" for f in _FIELDS) + "]"
_PARSE = f"""
    CREATE TEMP TABLE _parsed AS
    SELECT line, record, j, json_type(j) AS shape,
           json_type(j, {_PATHS}) AS types, json_extract_string(j, {_PATHS}) AS vals
    FROM (SELECT line, record, try(record::JSON) AS j FROM _records)"""


def _type(field: str) -> str:
    return f"types[{_FIELDS.index(field) + 1}]"


def _val(field: str) -> str:
    """The field's text, with an empty or all-blank string read as absent."""
    return f"nullif(trim(vals[{_FIELDS.index(field) + 1}]), '')"


def _described(field: str) -> str:
    """The JSON type of a field in a user's words."""
    return (
        f"CASE {_type(field)} WHEN 'VARCHAR' THEN 'a string' WHEN 'DOUBLE' THEN 'a decimal number'"
        f" WHEN 'BOOLEAN' THEN 'true/false' WHEN 'OBJECT' THEN 'an object'"
        f" WHEN 'ARRAY' THEN 'a list' ELSE 'an integer' END"
    )


def _present(field: str) -> str:
    return f"coalesce({_type(field)} NOT IN ('NULL'), false) AND {_val(field)} IS NOT NULL"


def _quoted(field: str) -> str:
    """SQL splice showing the field's value, quoted and cut short, inside a reason."""
    return f"''' || left({_val(field)}, 40) || '''"


def _got(field: str) -> str:
    return f"' || {_described(field)} || '"


def _problems(limits: Limits) -> list[tuple[str, str]]:
    """(condition that makes a row bad, the reason given), checked only for JSON objects."""
    checks = [
        (f"coalesce({_type('text')}, 'NULL') = 'NULL'", "text: missing"),  # may be empty
        *((f"NOT ({_present(f)})", f"{f}: missing") for f in REQUIRED_POST_FIELDS if f != "text"),
    ]
    for field in _IDS:
        checks.append(
            (
                f"{_type(field)} NOT IN ('NULL', 'VARCHAR', 'BIGINT', 'UBIGINT')",
                f"{field}: expected a string or an integer, got {_got(field)}",
            )
        )
    for field in (*_STRINGS, "kind"):
        checks.append(
            (
                f"{_type(field)} NOT IN ('NULL', 'VARCHAR')",
                f"{field}: expected a string, got {_got(field)}",
            )
        )
    for field in _TIMES:
        checks.append(
            (
                f"{_type(field)} NOT IN ('NULL', 'VARCHAR')",
                f"{field}: expected an ISO 8601 date-time string, got {_got(field)}",
            )
        )
        checks.append(
            (
                f"{_type(field)} = 'VARCHAR' AND try_cast({_val(field)} AS TIMESTAMPTZ) IS NULL"
                f" AND {_val(field)} IS NOT NULL",
                f"{field}: cannot read {_quoted(field)} as an ISO 8601 date-time",
            )
        )
    for field in _COUNTS:
        number = f"try_cast({_val(field)} AS DOUBLE)"
        checks.append(
            (
                f"{_type(field)} NOT IN ('NULL', 'VARCHAR', {_NUMBER_TYPES})"
                f" OR ({_val(field)} IS NOT NULL AND ({number} IS NULL OR {number} < 0"
                f" OR {number} <> floor({number}) OR {number} > 9e18))",
                f"{field}: expected a whole number >= 0, got {_quoted(field)}",
            )
        )
    source = f"lower({_val('source')})"
    checks.append(
        (
            f"{_present('source')} AND NOT regexp_full_match({source}, '{_SOURCE_NAME}')",
            f"source: {_quoted('source')} is not a source name"
            " (letters, digits, dot, dash, underscore)",
        )
    )
    kinds = ", ".join(f"'{k}'" for k in POST_KINDS)
    checks.append(
        (
            f"{_val('kind')} IS NOT NULL AND lower({_val('kind')}) NOT IN ({kinds})",
            f"kind: {_quoted('kind')} is not one of {', '.join(POST_KINDS)}",
        )
    )
    size = f"strlen(coalesce(vals[{_FIELDS.index('text') + 1}], ''))"
    checks.append(
        (
            f"{size} > {limits.max_text_bytes}",
            f"text: ' || format('{{:,}}', {size}) || ' bytes, over the limit of"
            f" {limits.max_text_bytes:,} (warehouse.max_text_bytes)",
        )
    )
    return checks


def _checked_sql(limits: Limits) -> str:
    problems = ", ".join(
        f"CASE WHEN coalesce({condition}, false) THEN '{reason}' END"
        for condition, reason in _problems(limits)
    )
    return f"""
        CREATE TEMP TABLE _checked AS
        SELECT *, ?::TIMESTAMPTZ AS _collected_at,
               CASE WHEN j IS NULL THEN ['not a JSON object: cannot parse the line as JSON']
                    WHEN shape <> 'OBJECT'
                        THEN ['not a JSON object: the line holds a JSON ' || lower(shape)]
                    ELSE list_filter([{problems}], p -> p IS NOT NULL) END AS problems
        FROM _parsed"""


def _uid(field: str) -> str:
    """A parent given as a bare id belongs to the same source: "123" becomes "x:123"."""
    value = _val(field)
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN contains({value}, ':') THEN {value}"
        f" ELSE lower({_val('source')}) || ':' || {value} END"
    )


_POSTS_SQL = f"""
    SELECT lower({_val("source")}) AS source,
           {_val("source_id")} AS source_id,
           {_val("url")} AS url,
           coalesce(lower({_val("kind")}), 'post') AS kind,
           {_val("author_id")} AS author_id,
           {_val("author_handle")} AS author_handle,
           {_val("author_name")} AS author_name,
           {_val("author_followers")}::DOUBLE::BIGINT AS author_followers,
           {_val("created_at")}::TIMESTAMPTZ AS created_at,
           coalesce({_val("collected_at")}::TIMESTAMPTZ, _collected_at) AS collected_at,
           lower({_val("lang")}) AS lang,
           replace(coalesce(vals[{_FIELDS.index("text") + 1}], ''), chr(0), '') AS text,
           {_val("title")} AS title,
           {_uid("parent_uid")} AS parent_uid,
           {_uid("root_uid")} AS root_uid,
           {_val("likes")}::DOUBLE::BIGINT AS likes,
           {_val("reposts")}::DOUBLE::BIGINT AS reposts,
           {_val("replies")}::DOUBLE::BIGINT AS replies,
           {_val("quotes")}::DOUBLE::BIGINT AS quotes,
           CASE WHEN {_type("raw")} IN ('OBJECT', 'ARRAY') THEN (j -> '$.raw')::VARCHAR
                WHEN {_type("raw")} = 'VARCHAR' AND json_valid({_val("raw")}) THEN {_val("raw")}
                WHEN {_type("raw")} = 'VARCHAR' THEN to_json({_val("raw")})::VARCHAR
                ELSE record END AS raw
    FROM _checked WHERE len(problems) = 0 ORDER BY line"""
