"""How to reach one cluster: the plain value a back end is built from.

The inventory domain turns a cluster row into a :class:`ClusterConnection`; the settings of a
single-cluster deployment make one too (:func:`computeport.backends.registry.default_connection`).
Back ends never read tables, so this value, not the row, crosses the boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ClusterConnection", "PartitionShape"]


@dataclass(frozen=True, slots=True)
class PartitionShape:
    """A partition as the inventory declares it (what a virtual cluster is built with)."""

    name: str
    accelerator: str
    gpus_per_node: int
    nodes: int
    pflops_per_gpu: float = 0.99
    precision: str = "fp16-dense"


@dataclass(frozen=True, slots=True)
class ClusterConnection:
    """One cluster's back end and its settings.

    ``name`` is the cluster's name everywhere (Slurm's ClusterName, the usage records' cluster).
    ``settings`` are the back end's own keys (``slurm_conf``, ``default_partition``,
    ``timeout_seconds``, ``operator_users`` for Slurm; ``speed`` for the virtual cluster); a
    secret appears only as the name of the environment variable holding it (``*_env``).
    ``partitions`` empty means the back end's own default shape.
    """

    name: str
    backend: Literal["sim", "slurm"]
    settings: Mapping[str, Any] = field(default_factory=dict)
    partitions: tuple[PartitionShape, ...] = ()
