"""The SQL page's data (`dashboard/screens/sql.py`): the documented views' columns and types for
its schema list (the query in the box runs through `warehouse.adhoc`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from dashboard.data.shared import frame


def view_columns(con: duckdb.DuckDBPyConnection, views: Sequence[str]) -> pl.DataFrame:
    """The documented views' columns and types, for the SQL page's schema list."""
    return frame(
        con,
        """
        SELECT table_name AS view, column_name AS column, data_type AS type
        FROM duckdb_columns()
        WHERE schema_name = 'main' AND list_contains($views, table_name)
        ORDER BY view, column_index""",
        {"views": list(views)},
    )
