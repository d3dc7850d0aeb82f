"""What the dashboard's pages show, as plain functions over a read-only DuckDB connection.

Every page function takes a connection (opened by `Warehouse.reading()` for one batch and closed
right after: the scheduler writes the same file) and filter values, queries only the documented
views (docs/views.md) with bound parameters, and returns Polars frames. `bench/dashboard.py`
times them. One module per page, beside its screen in `dashboard/screens/` (`overview`, `claim`,
`posts`, `paths`, `sources`, `sql`), and `shared` for what several pages use (the scope, the
facts and their cache, buckets, freshness); import a name from the module that holds it.
"""
