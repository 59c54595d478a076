"""No two top-level packages of computeport import each other, directly or around a cycle.

Why beside import-linter's layers contract (pyproject.toml): that contract checks the packages
it lists, in the order it lists them, and lets ``ignore_imports`` through.  This test reads the
whole graph as it is (every module of computeport, ``TYPE_CHECKING`` imports included), folds it
to the first level under ``computeport`` and fails on any strongly connected group of more than
one package: a package left out of the contract, or a new pair that imports each other, shows
up here with the imports that close the cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import grimp

ROOT = "computeport"

ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # Alembic's environment, loaded by path and imported by nothing of ours: autogenerate
        # compares the database against every model's table (pyproject ignores it too).
        ("computeport.db.migrations.env", "computeport.models"),
    }
)
"""Module imports that close a package cycle on purpose."""


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _package_graph(
    graph: grimp.ImportGraph, skip: frozenset[tuple[str, str]]
) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if (importer, imported) in skip:
                continue
            a, b = _top(importer), _top(imported)
            if a != b and a != ROOT and b != ROOT:
                edges[a].add(b)
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    nodes = set(edges) | {b for targets in edges.values() for b in targets}

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return sorted(found)


def _explain(graph: grimp.ImportGraph, group: list[str]) -> str:
    members = set(group)
    lines = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            a, b = _top(importer), _top(imported)
            if a != b and a in members and b in members:
                lines.append(f"  {importer} -> {imported}")
    return "\n".join(lines)


def test_cycles_finds_a_cycle_and_only_the_cycle() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"]}) == []


def test_no_import_cycle_between_top_level_packages() -> None:
    graph = grimp.build_graph(ROOT, cache_dir=None)
    found = cycles(_package_graph(graph, ALLOWED))
    assert not found, "top-level packages that import each other:\n" + "\n".join(
        f"{' <-> '.join(group)}:\n{_explain(graph, group)}" for group in found
    )


def test_every_import_expected_to_go_is_still_there() -> None:
    """An allowance outlives its import otherwise (lint-imports also fails on an
    ``ignore_imports`` entry that matches nothing)."""
    graph = grimp.build_graph(ROOT, cache_dir=None)
    listed = ALLOWED
    stale = {(a, b) for a, b in listed if b not in graph.find_modules_directly_imported_by(a)}
    assert not stale, f"no longer imported, remove from the lists above: {sorted(stale)}"
