"""The public surfaces cannot drift silently (httpx's exported-members test).

Every package with a curated ``__all__`` is listed here; outside code imports those names from
the package, not from its submodules.
"""

from __future__ import annotations

from types import ModuleType

import pytest

import computeport.capacity
import computeport.scheduling
import computeport.simulator
import computeport.worker

CURATED = [
    computeport.capacity,
    computeport.scheduling,
    computeport.simulator,
    computeport.worker,
]


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("module", CURATED, ids=lambda m: m.__name__)
def test_all_is_sorted_and_complete(module: ModuleType) -> None:
    exported = module.__all__
    assert exported == sorted(exported, key=isort_style)
    assert all(hasattr(module, name) for name in exported)


def test_capacity_uses_the_core_through_its_surfaces() -> None:
    """``capacity`` reads ``computeport.scheduling`` and ``.simulator``, never their submodules."""
    import ast
    from pathlib import Path

    reached = []
    for path in sorted(Path(computeport.capacity.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith(("computeport.scheduling.", "computeport.simulator.")):
                    reached.append(f"{path.name}: {name}")
    assert reached == []
