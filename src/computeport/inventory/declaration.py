"""The inventory file: sites → clusters → partitions, over a catalogue of accelerator types.

One TOML file declares the centre (``deploy/inventory/cyberport.toml``; ``docs/sites.md`` is the
reference).  Named tables, not arrays, so a name is unique by construction (TOML itself refuses
a second ``[clusters.x]``) and every error can point at a line::

    [accelerators.h800]                 vendor, model, memory_gb, peak_pflops (per GPU), precision
    [sites.cyberport]                   name, name_zh, status, opened
    [clusters.cyberport-h800]           site, backend (sim | slurm), status, commissioned
    [clusters.cyberport-h800.slurm]     how to reach it; secrets only by environment variable name
    [clusters.cyberport-h800.partitions.gpu]   accelerator, gpus_per_node, nodes

Validation is in two passes, both reported together: the shape (Pydantic, ``extra="forbid"``)
and then the cross references (a cluster's site, a partition's accelerator type).  Each problem
names its dotted key and, through :mod:`computeport.inventory.locate`, its line.
"""

from __future__ import annotations

import enum
import re
import tomllib
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from computeport.inventory.errors import InventoryInvalid, InventoryProblem
from computeport.inventory.locate import key_lines, line_of

NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
"""Site, cluster, partition and accelerator names: what Slurm and URLs accept unquoted."""

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
_SECRET_WORDS = ("token", "password", "secret", "key", "credential")

Text = Annotated[str, Field(min_length=1, max_length=200)]
EnvName = Annotated[str, Field(pattern=ENV_NAME, max_length=200)]


class SiteStatus(enum.StrEnum):
    """Whether a site runs work yet."""

    PLANNED = "planned"
    ACTIVE = "active"


class ClusterStatus(enum.StrEnum):
    """A cluster's life: declared ahead (planned), running (active), kept for history (retired)."""

    PLANNED = "planned"
    ACTIVE = "active"
    RETIRED = "retired"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AcceleratorDecl(_Table):
    """One accelerator type; its name is what usage records carry (``gres/gpu:h800``)."""

    vendor: Text
    model: Text
    memory_gb: int = Field(ge=1, le=100_000)
    peak_pflops: Decimal = Field(gt=0, le=1000, max_digits=12, decimal_places=6)
    """Peak PFLOPS of one GPU at ``precision`` (FP16 dense unless said otherwise)."""
    precision: Literal["fp16-dense", "fp16-sparse", "fp8-dense", "bf16-dense", "fp32", "fp64"] = (
        "fp16-dense"
    )
    assumption: str | None = Field(default=None, max_length=500)
    """Where a figure is not public: what was assumed (shown on the operator page)."""


class SiteDecl(_Table):
    """A place with machines: Cyberport, Sandy Ridge."""

    name: Text
    name_zh: Text | None = None
    status: SiteStatus = SiteStatus.ACTIVE
    opened: date | None = None
    assumption: str | None = Field(default=None, max_length=500)


class SlurmConnection(_Table):
    """How to reach one Slurm cluster; ClusterName is the cluster's own name in the file."""

    slurm_conf: str | None = Field(default=None, max_length=500)
    default_partition: str | None = Field(default=None, max_length=64)
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    operator_users: list[str] = Field(default_factory=list, max_length=50)
    restd_url: str | None = Field(default=None, max_length=500)
    restd_token_env: EnvName | None = None
    """The environment variable that holds slurmrestd's JWT (never the token itself)."""

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                lowered = str(name).lower()
                if any(w in lowered for w in _SECRET_WORDS) and not lowered.endswith("_env"):
                    raise ValueError(
                        f"'{name}' looks like a secret, which never goes in this file: put it "
                        f"in an environment variable and name that variable with "
                        f"'{name}_env' (e.g. restd_token_env = \"SLURMRESTD_TOKEN\")"
                    )
        return data


class SimConnection(_Table):
    """The embedded virtual cluster's settings."""

    speed: float = Field(default=1440.0, gt=0, le=1_000_000)


class PartitionDecl(_Table):
    """A Slurm partition: nodes of one accelerator type."""

    accelerator: Text
    gpus_per_node: int = Field(ge=1, le=64)
    nodes: int = Field(ge=1, le=1_000_000)


class ClusterDecl(_Table):
    """One cluster: its site, its back end and how to reach it, its partitions."""

    site: Text
    backend: Literal["sim", "slurm"]
    status: ClusterStatus = ClusterStatus.ACTIVE
    commissioned: date | None = None
    slurm: SlurmConnection | None = None
    sim: SimConnection | None = None
    partitions: dict[str, PartitionDecl] = Field(min_length=1)
    assumption: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _connection_matches_backend(self) -> ClusterDecl:
        if self.backend == "slurm" and self.slurm is None:
            raise ValueError("a slurm cluster needs its [clusters.<name>.slurm] table")
        if self.backend == "sim" and self.slurm is not None:
            raise ValueError('a sim cluster has no [slurm] table (backend = "sim")')
        if self.backend == "slurm" and self.sim is not None:
            raise ValueError('a slurm cluster has no [sim] table (backend = "slurm")')
        return self

    def connection(self) -> dict[str, Any]:
        """The connection settings as stored (JSON): no secrets, only their variables' names."""
        table = self.slurm if self.backend == "slurm" else (self.sim or SimConnection())
        return table.model_dump(mode="json") if table is not None else {}


class InventoryDecl(_Table):
    """The whole file."""

    accelerators: dict[str, AcceleratorDecl] = Field(min_length=1)
    sites: dict[str, SiteDecl] = Field(min_length=1)
    clusters: dict[str, ClusterDecl] = Field(min_length=1)

    def gpus(self, cluster: str) -> int:
        return sum(p.gpus_per_node * p.nodes for p in self.clusters[cluster].partitions.values())

    def pflops(self, cluster: str) -> Decimal:
        """Peak PFLOPS of a cluster: GPUs × each partition's accelerator's peak."""
        return sum(
            (
                p.gpus_per_node * p.nodes * self.accelerators[p.accelerator].peak_pflops
                for p in self.clusters[cluster].partitions.values()
            ),
            Decimal(0),
        )


def _dotted(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _shape_problems(error: ValidationError) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for item in error.errors(include_url=False):
        loc = tuple(str(p) for p in item["loc"] if p != "[key]")
        message = str(item["msg"]).removeprefix("Value error, ")
        found.append((loc, message))
    return found


def _name_problems(data: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """Names are checked before the shape: a bad name would otherwise travel into Slurm."""
    found: list[tuple[tuple[str, ...], str]] = []
    rule = "a name is 1-40 lowercase letters, digits or '-', starting with a letter"
    for section in ("accelerators", "sites", "clusters"):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for name, body in table.items():
            if not NAME.match(name):
                found.append(((section, name), f"'{name}': {rule}"))
            parts = (
                body.get("partitions") if section == "clusters" and isinstance(body, dict) else None
            )
            for part in parts if isinstance(parts, dict) else {}:
                if not NAME.match(part):
                    found.append(((section, name, "partitions", part), f"'{part}': {rule}"))
    return found


def _tables(data: object, key: str) -> dict[str, Any]:
    found = data.get(key) if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _reference_problems(data: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """Cross references, read from the raw tables so they are reported with the shape errors."""
    found: list[tuple[tuple[str, ...], str]] = []
    sites, kinds = _tables(data, "sites"), _tables(data, "accelerators")
    for name, cluster in _tables(data, "clusters").items():
        site = cluster.get("site") if isinstance(cluster, dict) else None
        if isinstance(site, str) and site not in sites:
            known = ", ".join(sorted(sites)) or "none"
            found.append((("clusters", name, "site"), f"unknown site '{site}' (declared: {known})"))
        site_table = sites.get(site) if isinstance(site, str) else None
        if (
            isinstance(site_table, dict)
            and site_table.get("status") == SiteStatus.PLANNED
            and cluster.get("status", ClusterStatus.ACTIVE) == ClusterStatus.ACTIVE
        ):
            found.append(
                (
                    ("clusters", name, "status"),
                    f"an active cluster at the planned site '{site}': "
                    "mark the site active or the cluster planned",
                )
            )
        for part_name, part in _tables(cluster, "partitions").items():
            kind = part.get("accelerator") if isinstance(part, dict) else None
            if isinstance(kind, str) and kind not in kinds:
                known = ", ".join(sorted(kinds)) or "none"
                found.append(
                    (
                        ("clusters", name, "partitions", part_name, "accelerator"),
                        f"unknown accelerator type '{kind}' (declared: {known})",
                    )
                )
    return found


def parse_inventory(text: str, source: str = "inventory") -> InventoryDecl:
    """The validated inventory, or :class:`InventoryInvalid` listing every problem with its line."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        line = int(at.group(1)) if at else None
        raise InventoryInvalid(
            source, [InventoryProblem("", f"not valid TOML: {exc}", line)]
        ) from exc
    lines = key_lines(text)
    found = _name_problems(data)
    decl: InventoryDecl | None = None
    try:
        decl = InventoryDecl.model_validate(data)
    except ValidationError as exc:
        found += _shape_problems(exc)
    found += _reference_problems(data)
    if found:
        problems = [InventoryProblem(_dotted(loc), msg, line_of(lines, loc)) for loc, msg in found]
        raise InventoryInvalid(source, problems)
    assert decl is not None
    return decl


__all__ = [
    "AcceleratorDecl",
    "ClusterDecl",
    "ClusterStatus",
    "InventoryDecl",
    "PartitionDecl",
    "SimConnection",
    "SiteDecl",
    "SiteStatus",
    "SlurmConnection",
    "parse_inventory",
]
