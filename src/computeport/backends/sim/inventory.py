"""The virtual cluster's inventory: the Cyberport scenario by default.

AISC at Cyberport: about 3,000 PFLOPS of NVIDIA H800 (DESIGN.md; assumption: FP16 dense at
~0.99 PF per GPU, so ≈ 3,040 GPUs in 380 nodes of 8).  One scheduling partition ``gpu`` holds
the nodes; ``scavenger`` is an *overlay* on the same nodes, as Slurm centres configure it: a job
submitted there runs under the scavenger QOS of the scheduling core (it borrows idle GPUs and is
requeued when entitled work needs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from computeport.kit.errors import ValidationFailed
from computeport.scheduling import ClusterSpec, NodeType, Partition

__all__ = [
    "CYBERPORT_NODES",
    "SCAVENGER",
    "SimInventory",
    "cyberport_inventory",
]

CYBERPORT_NODES = 380
"""3,040 H800 GPUs ≈ 3,000 PFLOPS FP16 dense (an assumption, see DESIGN.md)."""
SCAVENGER = "scavenger"
H800_NODE = NodeType(
    "h800x8", "H800", 8, pflops_per_gpu=0.99, precision="fp16-dense", cpu_cores=128, memory_gib=2048
)


@dataclass(frozen=True, slots=True)
class SimInventory:
    """A cluster for the scheduling core plus overlay partitions (name → base partition)."""

    spec: ClusterSpec
    overlays: dict[str, str] = field(default_factory=dict)
    default_partition: str = ""

    def __post_init__(self) -> None:
        names = {p.name for p in self.spec.partitions}
        for overlay, base in self.overlays.items():
            if base not in names or overlay in names:
                raise ValidationFailed(
                    f"overlay partition {overlay!r} must sit on an existing partition",
                    field="overlays",
                )

    @property
    def cluster(self) -> str:
        return self.spec.name

    @property
    def default(self) -> str:
        return self.default_partition or self.spec.partitions[0].name

    def partition_names(self) -> list[str]:
        return [p.name for p in self.spec.partitions] + sorted(self.overlays)

    def base_of(self, partition: str) -> str | None:
        """The scheduling partition a (possibly overlay) partition name runs on."""
        if partition in self.overlays:
            return self.overlays[partition]
        return partition if any(p.name == partition for p in self.spec.partitions) else None

    def partition(self, name: str) -> Partition:
        for p in self.spec.partitions:
            if p.name == name:
                return p
        raise ValidationFailed(f"no partition {name!r}", field="partition")


def cyberport_inventory(nodes: int = CYBERPORT_NODES, cluster: str = "aisc") -> SimInventory:
    """AISC Cyberport: ``nodes`` × 8 H800 in ``gpu``, with the ``scavenger`` overlay."""
    spec = ClusterSpec(cluster, (Partition("gpu", H800_NODE, nodes),))
    return SimInventory(spec, {SCAVENGER: "gpu"}, "gpu")
