"""The production back end: Slurm (22.05 or newer) through its client commands."""

from __future__ import annotations

from computeport.backends.slurm.backend import SlurmBackend, SlurmConfig
from computeport.backends.slurm.runner import RetryPolicy, SlurmRunner

__all__ = ["RetryPolicy", "SlurmBackend", "SlurmConfig", "SlurmRunner"]
