"""The worker's public surface cannot drift silently (httpx's exported-members test)."""

from __future__ import annotations

import computeport.worker
from tests.scheduling.test_public_api import isort_style


def test_all_is_sorted_and_complete() -> None:
    exported = computeport.worker.__all__
    assert exported == sorted(exported, key=isort_style)
    assert all(hasattr(computeport.worker, name) for name in exported)
