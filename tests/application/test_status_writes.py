"""State changes only through the transition tables (DESIGN.md): no module but the workflow's
own service assigns an application's or a review assignment's ``status``."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "computeport"
OWNERS = {
    SRC / "application" / "service.py",
    SRC / "review" / "service.py",
}
WATCHED = ("application", "assignment")


def _status_writes(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and isinstance(target.value, ast.Name)
                and any(w in target.value.id.lower() for w in WATCHED)
            ):
                found.append((target.lineno, target.value.id))
    return found


def test_only_the_workflow_services_write_status() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path in OWNERS:
            continue
        for line, name in _status_writes(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(SRC)}:{line} assigns {name}.status")
    assert offenders == []


def test_the_owners_do_write_status() -> None:
    """The scan finds real writes (so the test above can fail)."""
    for path in OWNERS:
        assert _status_writes(ast.parse(path.read_text())), path
