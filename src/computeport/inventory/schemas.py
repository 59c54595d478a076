"""The inventory as the API shows it: sites with their totals, clusters with their partitions.

PFLOPS are decimals (serialised as strings, as every decimal of the API is) at the precision
the accelerator type states; GPU counts are integers.  A cluster's ``connection`` is shown as
stored: paths, timeouts and the *names* of the environment variables holding secrets.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from computeport.inventory.health import ClusterHealthView
from computeport.inventory.service_status import cluster_status_on, site_status_on
from computeport.models.centre import AcceleratorType, CentreCluster, CentrePartition, CentreSite


class AcceleratorTypeRead(BaseModel):
    name: str
    vendor: str
    model: str
    memory_gb: int
    peak_pflops: Decimal
    """Per accelerator, at ``precision``."""
    precision: str
    assumption: str | None

    @classmethod
    def of(cls, row: AcceleratorType) -> AcceleratorTypeRead:
        return cls(
            name=row.name,
            vendor=row.vendor,
            model=row.model,
            memory_gb=row.memory_gb,
            peak_pflops=row.peak_pflops.normalize(),
            precision=row.precision,
            assumption=row.assumption,
        )


class ClusterPartitionRead(BaseModel):
    name: str
    accelerator: AcceleratorTypeRead
    gpus_per_node: int
    nodes: int
    gpus: int
    pflops: Decimal

    @classmethod
    def of(cls, row: CentrePartition) -> ClusterPartitionRead:
        return cls(
            name=row.name,
            accelerator=AcceleratorTypeRead.of(row.accelerator),
            gpus_per_node=row.gpus_per_node,
            nodes=row.nodes,
            gpus=row.gpus,
            pflops=row.pflops.normalize(),
        )


def _totals(partitions: list[CentrePartition]) -> tuple[int, Decimal]:
    gpus = sum(p.gpus for p in partitions)
    pflops = sum((p.pflops for p in partitions), Decimal(0))
    return gpus, pflops.normalize()


class ClusterRead(BaseModel):
    name: str
    site: str
    backend: str
    status: str
    commissioned: date | None
    connection: dict[str, Any]
    partitions: list[ClusterPartitionRead]
    gpus: int
    pflops: Decimal
    assumption: str | None

    @classmethod
    def of(cls, row: CentreCluster, today: date) -> ClusterRead:
        """``status`` as of ``today``: a planned virtual cluster past its date is active."""
        gpus, pflops = _totals(row.partitions)
        return cls(
            name=row.name,
            site=row.site.key,
            backend=row.backend,
            status=cluster_status_on(row, today),
            commissioned=row.commissioned,
            connection=dict(row.connection),
            partitions=[ClusterPartitionRead.of(p) for p in row.partitions],
            gpus=gpus,
            pflops=pflops,
            assumption=row.assumption,
        )


class SiteRead(BaseModel):
    key: str
    name: str
    name_zh: str | None
    status: str
    opened: date | None
    clusters: list[str]
    gpus: int
    pflops: Decimal
    """Peak of every cluster at the site, planned ones included (see ``clusters``' status)."""
    assumption: str | None

    @classmethod
    def of(cls, row: CentreSite, today: date) -> SiteRead:
        """``status`` as of ``today``: active once one of its clusters is."""
        gpus, pflops = _totals([p for c in row.clusters for p in c.partitions])
        return cls(
            key=row.key,
            name=row.name,
            name_zh=row.name_zh,
            status=site_status_on(row, today),
            opened=row.opened,
            clusters=[c.name for c in row.clusters],
            gpus=gpus,
            pflops=pflops,
            assumption=row.assumption,
        )


__all__ = [
    "AcceleratorTypeRead",
    "ClusterHealthRead",
    "ClusterPartitionRead",
    "ClusterRead",
    "SiteRead",
]


class ClusterHealthRead(BaseModel):
    """Whether a cluster answered the worker's last duty; ``down_since`` is the outage's start."""

    cluster: str
    state: str
    """``up`` or ``down``."""
    checked_at: datetime
    last_ok_at: datetime | None
    down_since: datetime | None
    last_error: str | None
    failing_duties: list[str]
    """The duties whose last run on the cluster failed (empty while up)."""

    @classmethod
    def of(cls, view: ClusterHealthView) -> ClusterHealthRead:
        return cls(
            cluster=view.cluster,
            state=view.state,
            checked_at=view.checked_at,
            last_ok_at=view.last_ok_at,
            down_since=view.down_since,
            last_error=view.last_error if view.state == "down" else None,
            failing_duties=list(view.failing_duties),
        )
