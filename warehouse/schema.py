"""The Post contract (DESIGN.md), in one place: column names, DuckDB types and Arrow types.

Everything that reads or writes posts (the importer, the collectors, the loader, the `posts` view)
takes its columns from here, so the contract cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

POST_KINDS = ("post", "reply", "repost", "quote", "article", "comment", "factcheck")
ENGAGEMENT = ("likes", "reposts", "replies", "quotes")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    arrow_type: pa.DataType


_TS = pa.timestamp("us", tz="UTC")

POST_COLUMNS: tuple[Column, ...] = (
    Column("post_uid", "VARCHAR", pa.string()),
    Column("source", "VARCHAR", pa.string()),
    Column("source_id", "VARCHAR", pa.string()),
    Column("url", "VARCHAR", pa.string()),
    Column("kind", "VARCHAR", pa.string()),
    Column("author_id", "VARCHAR", pa.string()),
    Column("author_handle", "VARCHAR", pa.string()),
    Column("author_name", "VARCHAR", pa.string()),
    Column("author_followers", "BIGINT", pa.int64()),
    Column("created_at", "TIMESTAMPTZ", _TS),
    Column("collected_at", "TIMESTAMPTZ", _TS),
    Column("lang", "VARCHAR", pa.string()),
    Column("text", "VARCHAR", pa.string()),
    Column("title", "VARCHAR", pa.string()),
    Column("parent_uid", "VARCHAR", pa.string()),
    Column("root_uid", "VARCHAR", pa.string()),
    Column("likes", "BIGINT", pa.int64()),
    Column("reposts", "BIGINT", pa.int64()),
    Column("replies", "BIGINT", pa.int64()),
    Column("quotes", "BIGINT", pa.int64()),
    Column("raw", "JSON", pa.string()),
    Column("content_hash", "VARCHAR", pa.string()),
)

POST_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in POST_COLUMNS)
REQUIRED_POST_FIELDS = ("source", "source_id", "created_at", "text")

POST_ARROW_SCHEMA = pa.schema([pa.field(c.name, c.arrow_type) for c in POST_COLUMNS])


def conform_posts(table: pa.Table) -> pa.Table:
    """Return `table` with exactly the Post columns, in order, missing optional ones as nulls."""
    missing = [f for f in REQUIRED_POST_FIELDS if f not in table.column_names]
    if missing:
        raise ValueError(f"a batch of posts lacks the required column(s): {', '.join(missing)}")
    columns = []
    for column in POST_COLUMNS:
        if column.name in table.column_names:
            columns.append(table.column(column.name).cast(column.arrow_type))
        else:
            columns.append(pa.nulls(table.num_rows, column.arrow_type))
    return pa.Table.from_arrays(columns, schema=POST_ARROW_SCHEMA)
