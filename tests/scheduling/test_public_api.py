"""The public surfaces cannot drift silently (httpx's exported-members test)."""

from __future__ import annotations

import computeport.scheduling
import computeport.simulator


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_complete() -> None:
    for module in (computeport.scheduling, computeport.simulator):
        exported = module.__all__
        assert exported == sorted(exported, key=isort_style)
        assert all(hasattr(module, name) for name in exported)
