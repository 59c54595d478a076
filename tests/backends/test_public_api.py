"""The back ends' public surfaces cannot drift silently (httpx's exported-members test)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import computeport.backends
import computeport.backends.sim
import computeport.backends.slurm
from tests.scheduling.test_public_api import isort_style

SURFACE = (
    "computeport.backends.errors",
    "computeport.backends.protocol",
    "computeport.backends.types.accounting",
    "computeport.backends.types.changes",
    "computeport.backends.types.desired",
    "computeport.backends.types.inventory",
    "computeport.backends.types.jobs",
)
"""The modules whose every public name services may use: all of them come from the top."""


@pytest.mark.parametrize(
    "module",
    [computeport.backends, computeport.backends.sim, computeport.backends.slurm],
    ids=lambda m: m.__name__,
)
def test_all_is_sorted_and_complete(module: ModuleType) -> None:
    exported = module.__all__
    assert exported == sorted(exported, key=isort_style)
    assert all(hasattr(module, name) for name in exported)


def test_the_top_exports_the_whole_boundary_and_nothing_else() -> None:
    boundary = {n for m in SURFACE for n in importlib.import_module(m).__all__}
    assert set(computeport.backends.__all__) == boundary
