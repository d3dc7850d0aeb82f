"""Hardening of `claimwatch sql` and the SQL page (issue 14): the guard never touches the file
system, results stream, and a slow ad-hoc query never holds up the other readers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult, make_posts

from warehouse import Batch, Warehouse
from warehouse.adhoc import RefusedQueryError, check_read_only

Cli = Callable[..., CliResult]

_TOKEN = "LEAKEDFIRSTTOKEN"


@pytest.fixture
def loaded(warehouse: Warehouse) -> Warehouse:
    warehouse.write(Batch(posts=make_posts(3)))
    return warehouse


def _exported_database(root: Path) -> Path:
    """A folder shaped like `EXPORT DATABASE`'s, its files naming a token only they hold."""
    root.mkdir()
    (root / "schema.sql").write_text(f"{_TOKEN} TABLE t (a INTEGER);\n")
    (root / "load.sql").write_text(f"{_TOKEN} INTO t VALUES (1);\n")
    return root


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA import_database('{dir}')",
        "SELECT 1; PRAGMA import_database('{dir}')",
        "CALL import_database('{dir}')",
    ],
)
def test_the_guard_never_reads_the_files_a_query_names(
    cli: Cli, loaded: Warehouse, tmp_path: Path, query: str
) -> None:
    exported = _exported_database(tmp_path / "exported")
    result = cli("sql", query.format(dir=exported))
    assert result.code == 2
    assert _TOKEN not in result.out + result.err
    assert "Traceback" not in result.err
    assert "refused" in result.err
    # The refusal is the same whether or not the folder exists: nothing was looked at.
    missing = cli("sql", query.format(dir=tmp_path / "missing"))
    assert missing.err.replace("missing", "exported") == result.err


def test_the_guard_classifies_without_a_warehouse_or_a_file(tmp_path: Path) -> None:
    exported = _exported_database(tmp_path / "exported")
    with pytest.raises(RefusedQueryError) as refused:
        check_read_only(f"PRAGMA import_database('{exported}')")
    assert _TOKEN not in str(refused.value)
    check_read_only("SELECT 1; EXPLAIN SELECT 2")  # queries still pass
