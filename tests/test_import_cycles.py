"""No two modules of app code import each other, directly or round a longer circle.

import-linter keeps the apps in layers; inside an app a circle can still form (a service that
imports its tasks, whose task imports the service). Function-local imports count: hiding one
side of a circle inside a function is still a circle.
"""

from __future__ import annotations

import grimp

APPS = ("portal", "orders", "serials", "evidence", "inspection", "lookup", "approvals", "dossier")
APPS_ON_TOP = ("demo",)


def _circles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_circle_of_imports_between_files() -> None:
    graph = grimp.build_graph(*APPS, *APPS_ON_TOP, cache_dir=None)
    modules = {module for module in graph.modules if ".migrations" not in module}
    assert _circles(graph, modules) == []


def test_the_check_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.services", "a.tasks", "a.views"):
        graph.add_module(module)
    graph.add_import(importer="a.services", imported="a.tasks")
    graph.add_import(importer="a.tasks", imported="a.services")
    graph.add_import(importer="a.views", imported="a.services")
    assert _circles(graph, set(graph.modules)) == [["a.services", "a.tasks"]]
