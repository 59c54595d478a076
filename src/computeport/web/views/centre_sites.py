"""The sites page's figures: per site and per cluster, GPUs and peak PFLOPS, in service or planned.

Read from the inventory tables (loaded from the inventory file).  "In service" counts active
clusters only, so the Sandy Ridge plan never inflates today's capacity; "planned" is the rest
that is not retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from computeport.inventory.repository import all_accelerators, all_sites
from computeport.inventory.service_status import cluster_status_on, site_status_on
from computeport.models.centre import AcceleratorType, CentreCluster, CentreSite


@dataclass(frozen=True)
class ClusterLine:
    cluster: CentreCluster
    gpus: int
    pflops: Decimal
    status: str
    """As of the page's day (``inventory/service_status``), not the file's word."""


@dataclass(frozen=True)
class SiteBlock:
    site: CentreSite
    clusters: list[ClusterLine]
    gpus: int
    pflops: Decimal
    status: str


@dataclass(frozen=True)
class SitesPage:
    sites: list[SiteBlock]
    accelerators: list[AcceleratorType]
    gpus_in_service: int
    pflops_in_service: Decimal
    pflops_planned: Decimal

    @property
    def clusters(self) -> int:
        return sum(len(s.clusters) for s in self.sites)


def _line(cluster: CentreCluster, today: date) -> ClusterLine:
    gpus = sum(p.gpus for p in cluster.partitions)
    pflops = sum((p.pflops for p in cluster.partitions), Decimal(0))
    return ClusterLine(cluster, gpus, pflops, cluster_status_on(cluster, today))


def sites_page(session: Session, today: date) -> SitesPage:
    """Every site, its clusters with totals, and the centre's totals, in service ``today``."""
    blocks: list[SiteBlock] = []
    gpus_in_service, in_service, planned = 0, Decimal(0), Decimal(0)
    for site in all_sites(session):
        lines = [_line(c, today) for c in site.clusters]
        blocks.append(
            SiteBlock(
                site,
                lines,
                sum(x.gpus for x in lines),
                sum((x.pflops for x in lines), Decimal(0)),
                site_status_on(site, today),
            )
        )
        for line in lines:
            if line.status == "active":
                gpus_in_service += line.gpus
                in_service += line.pflops
            elif line.status == "planned":
                planned += line.pflops
    return SitesPage(blocks, all_accelerators(session), gpus_in_service, in_service, planned)
