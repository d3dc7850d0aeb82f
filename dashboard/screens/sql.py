"""SQL: read-only queries over the documented views, with the schema beside the box, a row limit
and a time limit (warehouse/adhoc.py refuses anything that is not a query). Each query runs in a
process of its own (warehouse/adhoc_process.py), so the other pages never wait on it."""

from __future__ import annotations

import duckdb
import polars as pl
import streamlit as st

from dashboard import common
from warehouse import WarehouseError
from warehouse.adhoc import QueryTimeoutError, RefusedQueryError
from warehouse.adhoc_process import QueryFailedError, run_query_apart
from warehouse.views import VIEWS

EXAMPLE = (
    "SELECT claim_id, variant, posts, authors, is_leading, share_after_correction\n"
    "FROM variant_summary\nORDER BY claim_id, posts DESC"
)


def show_result(query: str, max_rows: int, timeout: float) -> None:
    """Run the query apart and show its rows (or why it failed) under the box, not below the
    list of views, where it would be off screen."""
    try:
        result = run_query_apart(common.warehouse(), query, max_rows=max_rows, timeout=timeout)
    except RefusedQueryError as refused:
        st.error(f"Refused: {refused}")
    except QueryTimeoutError as slow:
        st.error(str(slow))
    except (duckdb.Error, WarehouseError, QueryFailedError) as error:
        st.error("The query failed:")
        st.code(str(error), language=None, wrap_lines=True)  # it may quote data: shown as is
    else:
        table = pl.from_arrow(result.table)
        assert isinstance(table, pl.DataFrame)
        st.text(
            f"{table.height:,} rows"
            + (f" (stopped at the row limit, {max_rows:,})" if result.truncated else "")
        )
        st.dataframe(table, hide_index=True, width="stretch", key="sql_result")
        st.download_button(
            "Download CSV",
            table.write_csv(),
            file_name="claimwatch-query.csv",
            mime="text/csv",
            key="sql_csv",
        )


view = common.view()
st.title("SQL")
st.caption(
    "Read-only: only SELECT (and EXPLAIN) over the views listed on the right. Writes, ATTACH,"
    " COPY, SET and reading files are refused before anything runs. Times are UTC."
)
query_col, schema_col = st.columns([3, 2])
with query_col:
    query: str = st.text_area("Query", EXAMPLE, height=180, key="sql_query")
    rows_col, time_col = st.columns(2)
    max_rows = int(
        rows_col.number_input(
            "Row limit", min_value=1, max_value=100_000, value=1_000, step=100, key="sql_rows"
        )
    )
    timeout = float(
        time_col.number_input(
            "Time limit (s)", min_value=1, max_value=300, value=10, step=1, key="sql_timeout"
        )
    )
    if st.button("Run", type="primary", key="sql_run"):
        show_result(query, max_rows, timeout)
with schema_col:
    st.subheader("Views", anchor=False)
    columns: pl.DataFrame = common.fetch("view_columns", tuple(VIEWS))
    for name in VIEWS:
        with st.expander(name):
            st.dataframe(
                columns.filter(pl.col("view") == name).drop("view"),
                hide_index=True,
                width="stretch",
            )
    st.caption("Every column is explained in docs/views.md.")
