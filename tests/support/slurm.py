"""The local Slurm test cluster (scripts/slurm-cluster) as a back end, for the real-Slurm tests.

CI starts the cluster and exports ``COMPUTEPORT_TEST_SLURM_DIR``; without it these tests skip
locally and fail in CI (:func:`tests.support.databases.require`).
"""

from __future__ import annotations

import os
from pathlib import Path

from computeport.backends.slurm import RetryPolicy, SlurmBackend, SlurmConfig
from tests.support.databases import require


def local_slurm_backend() -> SlurmBackend:
    """A back end on the test cluster named by ``COMPUTEPORT_TEST_SLURM_DIR``."""
    raw = os.environ.get("COMPUTEPORT_TEST_SLURM_DIR", "")
    conf = Path(raw) / "etc" / "slurm.conf" if raw else None
    require(
        conf is not None and conf.exists(), "the local Slurm test cluster (scripts/slurm-cluster)"
    )
    assert conf is not None
    name = next(
        line.split("=", 1)[1].strip()
        for line in conf.read_text().splitlines()
        if line.startswith("ClusterName=")
    )
    return SlurmBackend(
        SlurmConfig(cluster=name, slurm_conf=conf, timeout_seconds=20, retry=RetryPolicy(3, 0.5))
    )
