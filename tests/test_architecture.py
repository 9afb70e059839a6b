"""The structure docs/architecture.md describes, checked on the source: no import cycle, imports
go downwards only (front doors → services → everything else), and nothing below the front doors reads
the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import labelport

SRC = Path(labelport.__file__).resolve().parent
#: Modules that face users (and the package itself, which re-exports the client).
FRONT_DOORS = ("labelport", "labelport.__main__", "labelport.client", "labelport.cli", "labelport.demo")
FRONT_DOORS += ("labelport.preview", "labelport.settings", "labelport.server")


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = ("labelport", *path.relative_to(SRC).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Every labelport module that ``name`` imports, anywhere in it (module level, functions,
    ``TYPE_CHECKING`` blocks): ``from labelport import x`` counts as importing ``labelport.x`` when that
    is a module, else as importing the package."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    found.add(full)
                elif base in MODULES:
                    found.add(base)
    found.discard(name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _is(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _layer(name: str) -> int:
    if name == "labelport" or _is(name, FRONT_DOORS[1:]):
        return 2
    if _is(name, ("labelport.services",)):
        return 1
    return 0


def test_there_is_no_import_cycle():
    """Tarjan's strongly connected components of the import graph: every one is a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    assert cycles == []


def test_imports_go_downwards_only():
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(name)
    )
    assert upward == []


def test_nothing_below_the_front_doors_imports_the_client():
    assert sorted(name for name, targets in GRAPH.items() if "labelport.client" in targets and _layer(name) < 2) == []


def test_nothing_below_the_front_doors_reads_the_environment():
    readers = []
    for name, path in MODULES.items():
        if _layer(name) == 2:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
                readers.append(f"{name}:{node.lineno}")
    assert readers == []


def test_the_checks_see_real_edges():
    """The graph is the real one (a parser that found nothing would pass every test above)."""
    assert "labelport.services.labels" in GRAPH["labelport.client"] or "labelport.services" in GRAPH["labelport.client"]
    assert "labelport.services.marks" in GRAPH["labelport.services.labels"]
    assert "labelport.quality.marks" in GRAPH["labelport.services.marks"]
    assert "labelport.store.engine" in GRAPH["labelport.services.context"]
    assert _layer("labelport.cli.projects") == 2 and _layer("labelport.services.exports") == 1
    assert _layer("labelport.export.pipeline") == 0
