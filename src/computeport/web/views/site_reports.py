"""The usage explorer's site dimensions (issue 12): by site, by cluster, by site and accelerator
type, from ``cluster_usage_rollup``.

Usage records name their cluster; its site is the loaded inventory's, joined at read time, so
a cluster moved between sites in the file moves its history with it.  A cluster the inventory
does not list (today's single ``aisc`` before any inventory is loaded, or one removed) is its
own group under its name: its figures are never dropped from a total.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.inventory.repository import all_clusters
from computeport.metering.repository import cluster_rollups_of
from computeport.models.rollup import ClusterUsageRollup

__all__ = ["SITE_DIMENSIONS", "installed_by_site_type", "site_report_sums"]

SITE_DIMENSIONS: Final[dict[str, str]] = {
    "site": "Site",
    "site_accelerator": "Site and accelerator",
    "cluster": "Cluster",
}
"""Group-by dimensions over the per-cluster rollup, and their column titles."""

Sums = list[int]
"""jobs, GPU-seconds, list, subsidy, co-payment (minor units), Σ wait seconds, started rows."""


def _keyer(by: str, sites: dict[str, str]) -> Callable[[str, str], str]:
    def site_of(cluster: str) -> str:
        return sites.get(cluster, cluster)

    keyers: dict[str, Callable[[str, str], str]] = {
        "site": lambda cluster, _kind: site_of(cluster),
        "site_accelerator": lambda cluster, kind: f"{site_of(cluster)} · {kind}",
        "cluster": lambda cluster, _kind: cluster,
    }
    return keyers[by]


def site_report_sums(
    session: Session,
    by: str,
    *,
    since: str | None,
    until: str | None,
    organisation_id: Any = None,
) -> dict[str, Sums]:
    """The sums per group of ``by`` (one of :data:`SITE_DIMENSIONS`) for periods in
    [since, until]; the caller turns them into report rows."""
    u = ClusterUsageRollup
    stmt = select(
        u.cluster,
        u.accelerator_type,
        func.coalesce(func.sum(u.jobs), 0),
        func.coalesce(func.sum(u.gpu_seconds), 0),
        func.coalesce(func.sum(u.list_minor), 0),
        func.coalesce(func.sum(u.subsidy_minor), 0),
        func.coalesce(func.sum(u.copay_minor), 0),
        func.coalesce(func.sum(u.wait_seconds), 0),
        func.coalesce(func.sum(u.started_rows), 0),
    ).group_by(u.cluster, u.accelerator_type)
    if since:
        stmt = stmt.where(u.period >= since)
    if until:
        stmt = stmt.where(u.period <= until)
    if organisation_id is not None:
        stmt = stmt.where(cluster_rollups_of(organisation_id))
    key = _keyer(by, {c.name: c.site.key for c in all_clusters(session)})
    sums: dict[str, Sums] = {}
    for cluster, kind, *values in session.execute(stmt).all():
        row = sums.setdefault(key(str(cluster), str(kind)), [0] * 7)
        for i, value in enumerate(values):
            row[i] += int(value)
    return sums


def installed_by_site_type(session: Session) -> dict[str, int]:
    """Installed GPUs of the active clusters per ``site · type`` (the keys of the
    ``site_accelerator`` dimension): what a site's utilisation is measured against."""
    found: dict[str, int] = {}
    for cluster in all_clusters(session):
        if cluster.status != "active":
            continue
        for part in cluster.partitions:
            key = f"{cluster.site.key} · {part.accelerator.name}"
            found[key] = found.get(key, 0) + part.gpus_per_node * part.nodes
    return found
