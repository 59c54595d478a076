"""The public surfaces cannot drift silently (httpx's exported-members test)."""

from __future__ import annotations

import computeport.scheduling
import computeport.simulator


def test_all_is_sorted_and_complete() -> None:
    for module in (computeport.scheduling, computeport.simulator):
        exported = module.__all__
        assert exported == sorted(exported)
        assert all(hasattr(module, name) for name in exported)
