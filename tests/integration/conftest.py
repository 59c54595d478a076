"""Make ``--dist loadgroup`` group the Slurm integration tests on one xdist worker.

pytest-xdist 3.8 groups ``xdist_group`` tests by appending ``@group`` to ``item._nodeid``, but
pytest 9 reads a node's id from ``item._id``, so the suffix is lost and grouped tests are spread
over workers (the Slurm scenario then races itself on the one shared cluster).  This shim, for
the tests under this folder only, appends the suffix where pytest 9 reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents or "@" in item.nodeid:
            continue
        names = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if names and hasattr(item, "_id"):
            # pytest 9's ``_id`` is a parsed ``NodeId``; parse the suffixed id the same way.
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(names)}")
