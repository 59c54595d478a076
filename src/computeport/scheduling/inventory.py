"""The centre's inventory: sites → clusters → partitions → node types → nodes.

Several accelerator types sit side by side (H800 today, other vendors' GPUs being evaluated):
each :class:`Partition` holds nodes of one :class:`NodeType`, and a job is routed to a partition
by name or by the accelerator it wants (:meth:`ClusterSpec.route`). PFLOPS per GPU is inventory
data with its precision stated (FP16 dense by default, DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from computeport.kit.errors import ValidationFailed

__all__ = ["ClusterSpec", "Node", "NodeType", "Partition", "Site"]


@dataclass(frozen=True, slots=True)
class NodeType:
    """A kind of node: its accelerators and host resources."""

    name: str
    accelerator: str
    gpus_per_node: int
    pflops_per_gpu: float = 0.99
    precision: str = "fp16-dense"
    cpu_cores: int = 0
    memory_gib: int = 0

    def __post_init__(self) -> None:
        if self.gpus_per_node < 1:
            raise ValidationFailed("gpus_per_node must be ≥ 1", field="gpus_per_node")


@dataclass(frozen=True, slots=True)
class Node:
    """One node; ``index`` is its position in its partition (best fit breaks ties by it)."""

    name: str
    partition: str
    index: int
    node_type: NodeType


@dataclass(frozen=True, slots=True)
class Partition:
    """A set of identical nodes scheduled as one resource pool."""

    name: str
    node_type: NodeType
    node_count: int

    def __post_init__(self) -> None:
        if self.node_count < 1:
            raise ValidationFailed(f"partition {self.name}: node_count must be ≥ 1")

    @property
    def gpus(self) -> int:
        return self.node_count * self.node_type.gpus_per_node

    @property
    def pflops(self) -> float:
        return self.gpus * self.node_type.pflops_per_gpu

    def nodes(self) -> list[Node]:
        """The nodes, named ``<partition>-0000`` upwards."""
        return [
            Node(f"{self.name}-{i:04d}", self.name, i, self.node_type)
            for i in range(self.node_count)
        ]


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """One cluster: what the scheduler and the simulator run on."""

    name: str
    partitions: tuple[Partition, ...]

    def __post_init__(self) -> None:
        if not self.partitions:
            raise ValidationFailed(f"cluster {self.name}: no partitions")
        names = [p.name for p in self.partitions]
        if len(set(names)) != len(names):
            raise ValidationFailed(f"cluster {self.name}: duplicate partition names")

    @staticmethod
    def homogeneous(
        gpus: int,
        gpus_per_node: int = 8,
        accelerator: str = "H800",
        name: str = "sim",
        pflops_per_gpu: float = 0.99,
    ) -> ClusterSpec:
        """One partition of ``gpus`` GPUs in nodes of ``gpus_per_node`` (rounded up to nodes)."""
        if gpus < 1:
            raise ValidationFailed("gpus must be ≥ 1", field="gpus")
        if gpus_per_node < 1:
            raise ValidationFailed("gpus_per_node must be ≥ 1", field="gpus_per_node")
        node_type = NodeType(
            f"{accelerator.lower()}x{gpus_per_node}", accelerator, gpus_per_node, pflops_per_gpu
        )
        nodes = -(-gpus // gpus_per_node)
        return ClusterSpec(name, (Partition("gpu", node_type, nodes),))

    @property
    def gpus(self) -> int:
        return sum(p.gpus for p in self.partitions)

    @property
    def pflops(self) -> float:
        return sum(p.pflops for p in self.partitions)

    def route(self, partition: str | None, gpu_type: str | None) -> int | None:
        """The index of the partition a job goes to, ``None`` when no partition can take it.

        By name if given; else the first partition with the wanted accelerator; else the first.
        """
        if partition is not None:
            for i, p in enumerate(self.partitions):
                if p.name == partition:
                    return i
            return None
        if gpu_type is None:
            return 0
        for i, p in enumerate(self.partitions):
            if p.node_type.accelerator.lower() == gpu_type.lower():
                return i
        return None


@dataclass(frozen=True, slots=True)
class Site:
    """A data centre holding clusters (Cyberport, Sandy Ridge)."""

    name: str
    clusters: tuple[ClusterSpec, ...] = field(default=())

    @property
    def gpus(self) -> int:
        return sum(c.gpus for c in self.clusters)
