"""Turning imported rows into Posts, a whole chunk at a time, with a reason for every bad row.

Every format is first brought to one shape, `_fields`: per Post field, the JSON type of the value
as the file gave it (`t_<field>`: string, integer, decimal, boolean, object, array; NULL when
absent) and its text (`v_<field>`). JSON Lines are parsed once per line (DuckDB's JSON reader);
CSV and Parquet columns are already typed. Then each field is checked against the Post contract
with set-based SQL; a row with any problem is rejected with all its reasons, and every other row
becomes a Post. No Python code runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from claimwatch.records import Rejection, RowChunk
from warehouse.schema import POST_KINDS, REQUIRED_POST_FIELDS

_STRINGS = ("url", "author_handle", "author_name", "lang", "text", "title", "kind")
_IDS = ("source", "source_id", "author_id", "parent_uid", "root_uid")  # numbers allowed
_COUNTS = ("author_followers", "likes", "reposts", "replies", "quotes")
_TIMES = ("created_at", "collected_at")
FIELDS = (*_IDS, *_STRINGS, *_COUNTS, *_TIMES, "raw")
_SOURCE_NAME = "^[a-z0-9][a-z0-9_.-]*$"


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = 1 << 20


def validate_chunk(
    chunk: RowChunk, collected_at: datetime, limits: Limits
) -> tuple[pa.Table, list[Rejection]]:
    """Posts from the chunk's rows, and the rejected rows with their reasons."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.register("_rows", chunk.rows)
        con.execute(_fields_from_json() if chunk.is_json else _fields_from_columns(chunk.rows))
        con.execute(_checked_sql(limits), [collected_at])
        rejected = con.execute(
            "SELECT line, array_to_string(problems, '; '), left(raw, 200) FROM _checked"
            " WHERE len(problems) > 0 ORDER BY line"
        ).fetchall()
        posts = con.execute(_POSTS_SQL).to_arrow_table()
    finally:
        con.close()
    return posts, [Rejection(int(line), reason, _short(text)) for line, reason, text in rejected]


def _short(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


# Bringing each format to `_fields` -----------------------------------------------------------

_STRUCT = "{" + ", ".join(f'"{f}": "JSON"' for f in FIELDS) + "}"


def _json_type(value: str) -> str:
    """The JSON type of a JSON text, read from its first character (no parsing needed)."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL ELSE CASE left({value}, 1)"
        f" WHEN '\"' THEN 'string' WHEN '{{' THEN 'object'"
        f" WHEN '[' THEN 'array' WHEN 't' THEN 'boolean' WHEN 'f' THEN 'boolean'"
        f" ELSE CASE WHEN regexp_matches({value}, '[.eE]') THEN 'decimal' ELSE 'integer' END"
        " END END"
    )


def _fields_from_json() -> str:
    per_field = ", ".join(
        f"{_json_type(f'f.{f}')} AS t_{f}, "
        + (f"f.{f}::VARCHAR AS v_{f}" if f == "raw" else f"f.{f}->>'$' AS v_{f}")
        for f in FIELDS
    )
    return f"""
        CREATE TEMP TABLE _fields AS
        SELECT line, record AS row_json, {per_field},
               CASE WHEN f IS NULL THEN 'not a JSON object: cannot parse the line as JSON'
                    WHEN left(ltrim(record), 1) <> '{{'
                        THEN 'not a JSON object: the line holds a JSON '
                             || {_json_type("ltrim(record)")}
               END AS shape_problem
        FROM (SELECT line, record, try(json_transform(record, '{_STRUCT}')) AS f
              FROM (SELECT line, rtrim(record, chr(13) || chr(10)) AS record FROM _rows))"""


def _column_type(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "decimal"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_struct(kind) or pa.types.is_map(kind):
        return "object"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return "array"
    return "string"  # strings, and dates and times, which are read from their ISO text


def _fields_from_columns(rows: pa.Table) -> str:
    schema = {field.name: field.type for field in rows.schema if field.name != "line"}
    per_field = []
    for f in FIELDS:
        if f not in schema:
            per_field.append(f"NULL::VARCHAR AS t_{f}, NULL::VARCHAR AS v_{f}")
            continue
        kind = _column_type(schema[f])
        text = f'to_json("{f}")::VARCHAR' if kind in ("object", "array") else f'"{f}"::VARCHAR'
        per_field.append(
            f"""CASE WHEN "{f}" IS NOT NULL THEN '{kind}' END AS t_{f}, {text} AS v_{f}"""
        )
    originals = ", ".join(f'"{name}" := "{name}"' for name in schema)
    return f"""
        CREATE TEMP TABLE _fields AS
        SELECT line, to_json(struct_pack({originals}))::VARCHAR AS row_json, {", ".join(per_field)},
               NULL::VARCHAR AS shape_problem
        FROM _rows"""


# Checking `_fields` --------------------------------------------------------------------------


def _val(field: str) -> str:
    """The field's text, with an empty or all-blank string read as absent."""
    return f"nullif(trim(v_{field}), '')"


def _quoted(field: str) -> str:
    """SQL splice showing the field's value, quoted and cut short, inside a reason."""
    return f"''' || left({_val(field)}, 40) || '''"


def _got(field: str) -> str:
    """SQL splice naming the field's JSON type in a user's words, inside a reason."""
    words = (
        f"CASE t_{field} WHEN 'string' THEN 'a string' WHEN 'integer' THEN 'an integer'"
        f" WHEN 'decimal' THEN 'a decimal number' WHEN 'boolean' THEN 'true/false'"
        f" WHEN 'object' THEN 'an object' ELSE 'a list' END"
    )
    return f"' || {words} || '"


def _problems(limits: Limits) -> list[tuple[str, str]]:
    """(condition that makes a row bad, the reason given)."""
    checks = [
        ("t_text IS NULL", "text: missing"),  # text may be empty, but must be there
        *((f"{_val(f)} IS NULL", f"{f}: missing") for f in REQUIRED_POST_FIELDS if f != "text"),
    ]
    for field in _IDS:
        checks.append(
            (
                f"t_{field} NOT IN ('string', 'integer')",
                f"{field}: expected a string or an integer, got {_got(field)}",
            )
        )
    for field in _STRINGS:
        checks.append((f"t_{field} <> 'string'", f"{field}: expected a string, got {_got(field)}"))
    for field in _TIMES:
        checks.append(
            (
                f"t_{field} <> 'string'",
                f"{field}: expected an ISO 8601 date-time string, got {_got(field)}",
            )
        )
        checks.append(
            (
                f"t_{field} = 'string' AND try_cast({_val(field)} AS TIMESTAMPTZ) IS NULL"
                f" AND {_val(field)} IS NOT NULL",
                f"{field}: cannot read {_quoted(field)} as an ISO 8601 date-time",
            )
        )
    for field in _COUNTS:
        number = f"try_cast({_val(field)} AS DOUBLE)"
        checks.append(
            (
                f"t_{field} NOT IN ('string', 'integer', 'decimal')"
                f" OR ({_val(field)} IS NOT NULL AND ({number} IS NULL OR {number} < 0"
                f" OR {number} <> floor({number}) OR {number} > 9e18))",
                f"{field}: expected a whole number >= 0, got {_quoted(field)}",
            )
        )
    checks.append(
        (
            f"NOT regexp_full_match(lower({_val('source')}), '{_SOURCE_NAME}')",
            f"source: {_quoted('source')} is not a source name"
            " (letters, digits, dot, dash, underscore)",
        )
    )
    kinds = ", ".join(f"'{k}'" for k in POST_KINDS)
    checks.append(
        (
            f"lower({_val('kind')}) NOT IN ({kinds})",
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


def _checked_sql(limits: Limits) -> str:
    problems = ", ".join(
        f"CASE WHEN coalesce({condition}, false) THEN '{reason}' END"
        for condition, reason in _problems(limits)
    )
    return f"""
        CREATE TEMP TABLE _checked AS
        SELECT *, ?::TIMESTAMPTZ AS _collected_at,
               CASE WHEN t_raw IN ('object', 'array') THEN v_raw
                    WHEN t_raw = 'string' AND json_valid(v_raw) THEN v_raw
                    WHEN t_raw = 'string' THEN to_json(v_raw)::VARCHAR
                    ELSE row_json END AS raw,
               CASE WHEN shape_problem IS NOT NULL THEN [shape_problem]
                    ELSE list_filter([{problems}], p -> p IS NOT NULL) END AS problems
        FROM _fields"""


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
           replace(coalesce(v_text, ''), chr(0), '') AS text,
           {_val("title")} AS title,
           {_uid("parent_uid")} AS parent_uid,
           {_uid("root_uid")} AS root_uid,
           {_val("likes")}::DOUBLE::BIGINT AS likes,
           {_val("reposts")}::DOUBLE::BIGINT AS reposts,
           {_val("replies")}::DOUBLE::BIGINT AS replies,
           {_val("quotes")}::DOUBLE::BIGINT AS quotes,
           raw
    FROM _checked WHERE len(problems) = 0 ORDER BY line"""
