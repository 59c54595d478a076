"""Nodes and partitions: ``sinfo --json`` (v0.0.38) and ``scontrol show partition -o``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from computeport.backends.errors import BackendOutputInvalid
from computeport.backends.types.inventory import NodeInfo, NodeState, PartitionInfo

__all__ = ["parse_gres", "parse_partitions", "parse_scontrol_partitions", "parse_sinfo_json"]

_GRES_GPU = re.compile(r"(?:^|,)gpu(?::([A-Za-z0-9_.-]+))?:(\d+)")


def parse_gres(text: str) -> tuple[int, str | None]:
    """``gpu:h800:8(S:0)`` / ``gpu:2(IDX:0-1)`` → (GPUs, type or None); several types summed."""
    total, kinds = 0, set()
    for kind, count in _GRES_GPU.findall(text or ""):
        if kind.isdigit():  # "gpu:8:..."? never typed by a number; treat as untyped
            kind = ""
        total += int(count)
        if kind:
            kinds.add(kind)
    return total, (kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else None))


_NODE_STATES = {
    "idle": NodeState.IDLE,
    "mixed": NodeState.MIXED,
    "allocated": NodeState.ALLOCATED,
    "completing": NodeState.COMPLETING,
    "down": NodeState.DOWN,
    "drained": NodeState.DRAINED,
    "draining": NodeState.DRAINED,
}


def _node_state(base: str, flags: list[str]) -> NodeState:
    upper = {f.upper() for f in flags}
    if "DRAIN" in upper:
        return NodeState.DRAINED
    if "NOT_RESPONDING" in upper and base != "down":
        return NodeState.DOWN
    return _NODE_STATES.get(base.lower(), NodeState.OTHER)


def parse_sinfo_json(data: Mapping[str, Any]) -> list[NodeInfo]:
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        raise BackendOutputInvalid("sinfo --json: no 'nodes' list", field="nodes")
    out = []
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping) or not node.get("name"):
            raise BackendOutputInvalid(f"sinfo --json: nodes[{index}] has no name")
        gpus, gpu_type = parse_gres(str(node.get("gres") or ""))
        used, _ = parse_gres(str(node.get("gres_used") or ""))
        base = str(node.get("state") or "")
        flags = [str(f) for f in node.get("state_flags") or []]
        out.append(
            NodeInfo(
                name=str(node["name"]),
                state=_node_state(base, flags),
                raw_state="+".join([base, *flags]),
                partitions=tuple(str(p) for p in node.get("partitions") or []),
                gpus=gpus,
                gpus_used=used,
                gpu_type=gpu_type,
                cpus=int(node.get("cpus") or 0),
                reason=str(node.get("reason") or ""),
            )
        )
    return out


def parse_scontrol_partitions(text: str) -> dict[str, dict[str, str]]:
    """``scontrol show partition -o``: one ``Key=Value …`` line per partition."""
    out: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        name = fields.get("PartitionName")
        if not name:
            raise BackendOutputInvalid(f"scontrol show partition line {number}: no PartitionName")
        out[name] = fields
    return out


def parse_partitions(nodes: list[NodeInfo], scontrol_text: str) -> list[PartitionInfo]:
    """Partitions with their GPU totals summed from their nodes."""
    parts = parse_scontrol_partitions(scontrol_text)
    out = []
    for name, fields in sorted(parts.items()):
        members = [n for n in nodes if name in n.partitions]
        out.append(
            PartitionInfo(
                name=name,
                up=fields.get("State", "") == "UP",
                default=fields.get("Default", "") == "YES",
                nodes=tuple(n.name for n in members),
                gpus=sum(n.gpus for n in members),
                gpus_used=sum(n.gpus_used for n in members),
                gpu_types=tuple(sorted({n.gpu_type for n in members if n.gpu_type})),
            )
        )
    return out
