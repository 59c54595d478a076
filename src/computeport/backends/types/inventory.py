"""Nodes and partitions as every back end reports them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["NodeInfo", "NodeState", "PartitionInfo"]


class NodeState(enum.StrEnum):
    IDLE = "idle"
    MIXED = "mixed"
    ALLOCATED = "allocated"
    COMPLETING = "completing"
    DRAINED = "drained"  # drained or draining: takes no new jobs
    DOWN = "down"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    state: NodeState
    raw_state: str
    partitions: tuple[str, ...]
    gpus: int
    gpus_used: int
    gpu_type: str | None
    cpus: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    name: str
    up: bool
    default: bool
    nodes: tuple[str, ...]
    gpus: int
    gpus_used: int
    gpu_types: tuple[str, ...] = ()
