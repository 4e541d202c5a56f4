"""The package's layers, read from its imports: no cycles, and nothing imports up.

Lowest first: the vocabulary and graph names; the store and the parsers; the write path and
lineage; the graph that ties them together; the HTTP layer, the portal and the CLI, which
only translate. A module may import its own layer and those below it, never one above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kg"
# modules and packages that sit above others: nothing below them may import them
UPPER = {
    "kg.graph": {"kg.api", "kg.portal", "kg.cli", "kg.access", "kg.demo", "kg.client"},
    "kg.followers": {"kg.graph", "kg.api", "kg.portal", "kg.cli", "kg.access", "kg.demo"},
}
LOWER = ["kg.write", "kg.lineage", "kg.ingest", "kg.governance", "kg.store", "kg.remote",
         "kg.search", "kg.graphs", "kg.vocab", "kg.ids"]  # fmt: skip
ABOVE = {"kg.graph", "kg.followers", "kg.api", "kg.portal", "kg.cli", "kg.access", "kg.demo"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "node_modules" in path.parts:
            continue
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[name] |= {t for t in targets if t in modules and t != name}
    return edges


def _in(module: str, packages: set[str] | list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_module_of_a_lower_layer_imports_one_above() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _imports().items()
        if _in(module, LOWER)
        for target in targets
        if _in(target, ABOVE)
    )
    assert wrong == []


def test_no_import_cycles() -> None:
    edges = _imports()
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for target in sorted(edges[node]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target], done)
        done.add(node)

    done: set[str] = set()
    for module in sorted(edges):
        if module not in done:
            visit(module, [module], done)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(UPPER))
def test_the_wiring_is_imported_only_from_above(module: str) -> None:
    importers = sorted(m for m, targets in _imports().items() if module in targets)
    assert all(_in(m, UPPER[module]) for m in importers), importers
