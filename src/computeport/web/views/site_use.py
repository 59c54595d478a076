"""Use and wait per site and accelerator type: the operations page's table (issue 12).

From ``cluster_wait_rollup`` (rated jobs and their GPU-seconds per Hong Kong day of start,
cluster, accelerator type and wait), with each cluster placed at its site through the loaded
inventory; a cluster the inventory does not list (today's single ``aisc``, or one retired and
removed) is shown under its own name with no site.  Installed GPUs are the inventory's active
partitions of the type at the site.

Utilisation here is the GPU-hours of the jobs that *started* in the window's days over the
installed GPU-hours of those days: per day of start, so a week-long job counts on its first
day.  Over windows much longer than the longest job that is the time-weighted figure the
partition chart shows; it is the one a comparison between sites and types needs, and a table
that can be read without the charts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.inventory.repository import all_clusters
from computeport.models.rollup import ClusterWaitRollup
from computeport.web.views.ops import hk_day_start

__all__ = ["SiteTypeUse", "nearest_rank", "site_type_use"]


@dataclass(frozen=True)
class SiteTypeUse:
    """One site and accelerator type over a window of whole Hong Kong days."""

    site: str | None
    """The site's key, or None for a cluster the inventory does not place."""
    site_name: str
    site_name_zh: str | None
    accelerator_type: str
    clusters: tuple[str, ...]
    gpus: int
    jobs: int
    gpu_seconds: int
    p50_wait_seconds: int | None
    p90_wait_seconds: int | None
    window_seconds: int

    @property
    def utilisation(self) -> float | None:
        """GPU-seconds over installed GPU-seconds; None without installed GPUs."""
        if self.gpus <= 0 or self.window_seconds <= 0:
            return None
        return self.gpu_seconds / (self.gpus * self.window_seconds)

    def name_in(self, locale: str) -> str:
        if locale.startswith("zh") and self.site_name_zh:
            return self.site_name_zh
        return self.site_name


def nearest_rank(histogram: list[tuple[int, int]], q: int) -> int | None:
    """The nearest-rank ``q`` percentile of a histogram of (value, count) sorted by value, as
    :func:`computeport.web.views.ops.percentile` gives over the values one by one; None when it
    counts no job (reversals net a count to 0)."""
    total = sum(n for _v, n in histogram if n > 0)
    if total <= 0:
        return None
    rank = max(1, -(-q * total // 100))
    seen = 0
    for value, n in histogram:
        seen += max(0, n)
        if seen >= rank:
            return value
    return None


@dataclass
class _Group:
    site: str | None
    name: str
    name_zh: str | None
    clusters: set[str]
    gpus: int = 0
    jobs: int = 0
    gpu_seconds: int = 0


def site_type_use(session: Session, since: datetime, until: datetime) -> list[SiteTypeUse]:
    """One row per (site, accelerator type) that has GPUs installed or jobs in the days from
    ``since``'s to ``until``'s (Hong Kong), by site then type."""
    first, stop = hk_day_start(since), hk_day_start(until) + 86400
    placed: dict[str, tuple[str, str, str | None]] = {}
    groups: dict[tuple[str | None, str], _Group] = {}
    for cluster in all_clusters(session):
        site = cluster.site
        placed[cluster.name] = (site.key, site.name, site.name_zh)
        if cluster.status != "active":
            continue
        for part in cluster.partitions:
            kind = part.accelerator.name.lower()
            group = groups.setdefault(
                (site.key, kind), _Group(site.key, site.name, site.name_zh, set())
            )
            group.clusters.add(cluster.name)
            group.gpus += part.gpus_per_node * part.nodes
    r = ClusterWaitRollup
    waits: dict[tuple[str | None, str], list[tuple[int, int]]] = defaultdict(list)
    for cluster_name, kind_of, wait, jobs, gpu_seconds in session.execute(
        select(
            r.cluster, r.accelerator_type, r.wait_seconds, func.sum(r.jobs), func.sum(r.gpu_seconds)
        )
        .where(r.day_start >= first, r.day_start < stop)
        .group_by(r.cluster, r.accelerator_type, r.wait_seconds)
        .order_by(r.wait_seconds)
    ).all():
        site_key, name, name_zh = placed.get(str(cluster_name), (None, str(cluster_name), None))
        kind = str(kind_of).lower()
        key: tuple[str | None, str] = (
            (site_key, kind) if site_key is not None else (None, f"{cluster_name}/{kind}")
        )
        group = groups.setdefault(key, _Group(site_key, name, name_zh, set()))
        group.clusters.add(str(cluster_name))
        group.jobs += int(jobs)
        group.gpu_seconds += int(gpu_seconds)
        waits[key].append((int(wait), int(jobs)))
    rows: list[SiteTypeUse] = []
    for key in sorted(groups, key=lambda k: (k[0] is None, k[0] or "", k[1])):
        group = groups[key]
        histogram = waits.get(key, [])
        kind = key[1].rsplit("/", 1)[-1]
        rows.append(
            SiteTypeUse(
                site=group.site,
                site_name=group.name,
                site_name_zh=group.name_zh,
                accelerator_type=kind,
                clusters=tuple(sorted(group.clusters)),
                gpus=group.gpus,
                jobs=group.jobs,
                gpu_seconds=group.gpu_seconds,
                p50_wait_seconds=nearest_rank(histogram, 50),
                p90_wait_seconds=nearest_rank(histogram, 90),
                window_seconds=stop - first,
            )
        )
    return rows
