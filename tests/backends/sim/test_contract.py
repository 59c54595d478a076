"""The ClusterBackend contract suite, unchanged, against the virtual cluster."""

from __future__ import annotations

import pytest

from computeport.kit.clock import ManualClock
from tests.backends.contract import ClusterBackendContract, ContractHarness
from tests.backends.sim.support import T0, settler, small_cluster


class TestSimContract(ClusterBackendContract):
    @pytest.fixture
    def harness(self) -> ContractHarness:
        clock = ManualClock(T0)
        backend = small_cluster(clock)
        return ContractHarness(
            backend=backend,
            member="alice",
            other_member="bob",
            settle=settler(clock),
            now=clock.now,
        )
