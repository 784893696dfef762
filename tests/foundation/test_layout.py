"""The house rules of the code's layout, read from the source itself.

- the layers' arrows point one way: bot -> handlers -> services -> storage, lending;
- no SQL and no database driver above storage/: services keep the decisions, storage the
  statements (one place per capability, where the two databases' differences live);
- services/ is grouped by capability, and its packages import each other without a circle;
- no folder holds more than about a quarter of the code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("lending", "storage", "services", "handlers", "bot")
# What each layer may import of the project's own layers.
ALLOWED = {
    "lending": {"lending"},
    "storage": {"storage", "lending"},
    "services": {"services", "storage", "lending"},
    "handlers": {"handlers", "services", "storage", "lending"},
    "bot": set(LAYERS),
}
# Statement-shaped text: a keyword followed by what makes it a statement, in capitals as
# this project writes SQL ("Update" in a message or "delete" in a docstring is prose).
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bSELECT\s+\d|\bREPLACE\s+INTO\b|\bPRAGMA\s+\w+"
)
DRIVERS = {"aiosqlite", "sqlite3", "psycopg", "psycopg_pool"}


def modules(folder: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / folder).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(tree: ast.Module) -> Iterator[str]:
    """Every module name an import statement in `tree` names, at any depth (imports inside
    functions count: they are still arrows)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            yield node.lineno, text


@pytest.mark.parametrize("layer", LAYERS)
def test_the_layers_arrows_point_one_way(layer):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in modules(layer)
        for name in imported(tree)
        if name.split(".")[0] in LAYERS and name.split(".")[0] not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("layer", ["services", "lending"])
def test_the_use_cases_and_the_domain_know_no_telegram(layer):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in modules(layer)
        for name in imported(tree)
        if name.split(".")[0] == "telegram"
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("layer", ["services", "handlers"])
def test_no_sql_and_no_database_driver_above_storage(layer):
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()[:60]!r}"
        for path, tree in modules(layer)
        for line, text in strings(tree)
        if SQL.search(text)
    ] + [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in modules(layer)
        for name in imported(tree)
        if name.split(".")[0] in DRIVERS
    ]
    assert not found, "\n".join(found)


def test_the_sql_check_sees_a_statement_and_lets_prose_pass():
    assert SQL.search("SELECT id FROM leads WHERE owner_id = ?")
    assert SQL.search("UPDATE leads SET status = 'lost' WHERE id = ?")
    assert SQL.search("DELETE FROM outbox WHERE id = ?")
    assert SQL.search("INSERT INTO users (id) VALUES (?)")
    assert not SQL.search("Update your phone number, or delete it with /forget")
    assert not SQL.search("Select a term from the buttons")


def services_node(module: str) -> str:
    """`services.leads.cards` -> `services.leads`; a shared top-level module is its own node."""
    return ".".join(module.split(".")[:2])


def services_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path, tree in modules("services"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts == ("services", "__init__"):
            continue
        source = services_node(".".join(parts))
        graph.setdefault(source, set())
        for target in imported(tree):
            if target.startswith("services.") and services_node(target) != source:
                graph[source].add(services_node(target))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle in `graph` as a list of nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_services_are_grouped_by_capability_without_a_circle_between_packages():
    graph = services_graph()
    packages = {node for node in graph if (ROOT / Path(*node.split("."))).is_dir()}
    assert {
        "services.applications",
        "services.leads",
        "services.loans",
        "services.people",
        "services.privacy",
    } <= packages
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def code_lines(folder: Path) -> int:
    return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in folder.glob("*.py"))


def test_no_folder_holds_more_than_about_a_quarter_of_the_code():
    folders = [
        path.parent
        for layer in LAYERS
        for path in (ROOT / layer).rglob("__init__.py")
        if ".venv" not in path.parts
    ]
    total = sum(code_lines(folder) for folder in set(folders))
    largest = max(set(folders), key=code_lines)
    assert code_lines(largest) <= 0.27 * total, f"{largest.relative_to(ROOT)} is too big"
