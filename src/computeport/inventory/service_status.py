"""Whether a cluster or a site is in service on a day: the stored status, read on the calendar.

The inventory file says ``planned`` with a ``commissioned`` date for a cluster that is not built
yet (Sandy Ridge), and the worker opens a *virtual* planned cluster by itself when the centre's
clock reaches that date (``worker/clusters.py``, ``planned_virtual``).  From that day it takes
work, so every page and API that shows status must say ``active`` — not the file's ``planned``,
which stays the operator's record and is not rewritten behind their back.  A planned *Slurm*
cluster has no controller to call until the operator marks it active, so its date alone changes
nothing.  A site is in service when it is marked so or when one of its clusters is.
"""

from __future__ import annotations

from datetime import date

from computeport.models.centre import CentreCluster, CentreSite

__all__ = ["cluster_status_on", "opens_by_itself", "site_status_on"]

ACTIVE = "active"
PLANNED = "planned"


def opens_by_itself(cluster: CentreCluster) -> bool:
    """A planned virtual cluster with a date: the worker opens it on that date."""
    return (
        cluster.status == PLANNED and cluster.backend == "sim" and cluster.commissioned is not None
    )


def cluster_status_on(cluster: CentreCluster, today: date) -> str:
    """``active`` for a cluster the worker has opened by ``today``, else its stored status."""
    if (
        opens_by_itself(cluster)
        and cluster.commissioned is not None
        and cluster.commissioned <= today
    ):
        return ACTIVE
    return cluster.status


def site_status_on(site: CentreSite, today: date) -> str:
    """``active`` when the site or one of its clusters is in service ``today``."""
    if any(cluster_status_on(c, today) == ACTIVE for c in site.clusters):
        return ACTIVE
    return site.status
