"""Make ``--dist loadgroup`` put every ``xdist_group`` test of a group on one xdist worker.

pytest-xdist 3.8 groups ``xdist_group`` tests by appending ``@group`` to ``item._nodeid``, but
pytest 9 reads a node's id from ``item._id``, so the suffix is lost and grouped tests are spread
over workers (the Slurm tests then race each other on the one shared cluster).  This shim
appends the suffix where pytest 9 reads it, for every test of the suite (tests/conftest.py
imports the hook).  It used to apply to tests/integration only, so the Slurm tests elsewhere
(tests/gateway/test_slurm_deployment.py, tests/capacity/test_fanout.py) ran on the other worker
at the same time as the integration scenario: a deployment test's reconcile of its own desired
state then removed the scenario's award from the shared cluster under its pending job (found by
the soak run with ``-n 2 --dist loadgroup``, 2026-12-05).
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ungrouped = [
        item.nodeid
        for item in items
        if item.get_closest_marker("slurm") is not None
        and "slurm" not in {str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args}
    ]
    if ungrouped:
        # Every test on the one shared Slurm cluster must run on the same worker, in order.
        raise pytest.UsageError(
            "tests marked slurm must also be marked xdist_group('slurm'): " + ", ".join(ungrouped)
        )
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if "@" in item.nodeid:
            continue
        names = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if names and hasattr(item, "_id"):
            # pytest 9's ``_id`` is a parsed ``NodeId``; parse the suffixed id the same way.
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(names)}")
