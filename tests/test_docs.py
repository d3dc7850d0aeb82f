"""The documentation is part of the interface: every view, column and command is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimwatch.cli import app
from warehouse import Warehouse
from warehouse.views import VIEWS

DOCS = Path(__file__).parent.parent / "docs"
README = Path(__file__).parent.parent / "README.md"


def documented_columns(view: str) -> set[str]:
    text = (DOCS / "views.md").read_text(encoding="utf-8")
    section = re.search(rf"^## `{view}`\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"docs/views.md has no section for the view {view}"
    return set(re.findall(r"^\| `(\w+)` \|", section.group(1), re.M))


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_column_of_every_view_is_documented(warehouse: Warehouse, view: str) -> None:
    with warehouse.writing() as con:
        columns = {r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()}
    assert columns == documented_columns(view)


def test_every_command_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    names = [c.name for c in app.registered_commands]
    names += [
        f"{g.name} {c.name}"
        for g in app.registered_groups
        for c in g.typer_instance.registered_commands
    ]
    missing = [n for n in names if f"claimwatch {n}" not in readme]
    assert not missing
