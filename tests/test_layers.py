"""The house's floors (docs/architecture.md): a package imports only from the floors below it.

Read from the source with `ast`, so an import added anywhere (inside a function too) is seen.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# floor of each first-party package; a package may import its own floor's package and lower floors
FLOORS: dict[str, int] = {
    "config": 0,
    "warehouse": 1,
    "collectors": 2,
    "claims": 3,
    "digest": 4,
    "dashboard": 4,
    "claimwatch": 5,
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & FLOORS.keys()


def _upward_imports(package: str) -> list[str]:
    floor = FLOORS[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in sorted(_imported_packages(path)):
            if imported != package and FLOORS[imported] >= floor:
                found.append(f"{path.relative_to(ROOT)} imports {imported}")
    return found


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_no_import_reaches_up_or_sideways(package: str) -> None:
    assert _upward_imports(package) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from claimwatch.cli import main\n", encoding="utf-8")
    assert _imported_packages(module) == {"claimwatch"}


def test_every_package_has_a_floor() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == set(FLOORS)


def _module_imports(path: Path, package: str) -> set[str]:
    """The modules of `package` that a module imports (`from digest import chart` included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == package:
                found.update(f"{package}.{alias.name}" for alias in node.names)
            elif node.module.startswith(f"{package}."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(f"{package}."))
    return found


def _cycle(package: str) -> list[str]:
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    }
    graph = {
        name: _module_imports(path, package) & modules.keys() for name, path in modules.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str]:
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        if name in done:
            return []
        visiting.append(name)
        for nxt in sorted(graph[name]):
            if cycle := visit(nxt):
                return cycle
        visiting.pop()
        done.add(name)
        return []

    for name in sorted(graph):
        if cycle := visit(name):
            return cycle
    return []


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_no_import_circle_inside_a_package(package: str) -> None:
    assert _cycle(package) == []
