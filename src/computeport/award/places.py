"""Limiting an award to some sites or clusters, or leaving it open (the centre places the work).

Limiting is refused while a share sits outside the new places: those hours must be moved away
first (shrink first, as every move), so a limit never strands hours on a cluster the award may
no longer use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.award.repository import lock_award
from computeport.award.shares import eligible_clusters
from computeport.kit.clock import Clock
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.models.award import Award
from computeport.models.award_share import AwardPlace, AwardShare
from computeport.models.centre import CentreCluster, CentreSite


def _site_ids(session: Session, keys: Sequence[str]) -> list[uuid.UUID]:
    rows = session.execute(
        select(CentreSite.key, CentreSite.id).where(CentreSite.key.in_(list(keys)))
    )
    found = {key: site_id for key, site_id in rows}
    for i, key in enumerate(keys):
        if key not in found:
            raise ValidationFailed(f"no site {key!r} in the inventory", field=f"sites.{i}")
    return list(dict.fromkeys(found[key] for key in keys))


def _cluster_ids(session: Session, names: Sequence[str]) -> list[uuid.UUID]:
    rows = session.execute(
        select(CentreCluster.name, CentreCluster.id).where(CentreCluster.name.in_(list(names)))
    )
    found = {name: cluster_id for name, cluster_id in rows}
    for i, name in enumerate(names):
        if name not in found:
            raise ValidationFailed(f"no cluster {name!r} in the inventory", field=f"clusters.{i}")
    return list(dict.fromkeys(found[name] for name in names))


def set_places(
    session: Session,
    award_id: uuid.UUID,
    *,
    sites: Sequence[str] = (),
    clusters: Sequence[str] = (),
    reason: str,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> None:
    """Limit the award to ``sites`` and ``clusters`` (both empty: open); audited."""
    if not reason.strip():
        raise ValidationFailed("a change of places needs a reason", field="reason")
    site_ids = _site_ids(session, sites)
    cluster_ids = _cluster_ids(session, clusters)
    award = lock_award(session, award_id)
    with session.begin_nested():  # a refused limit leaves the old places as they were
        _replace(session, award, site_ids, cluster_ids, "clusters" if clusters else "sites")
    where = ", ".join([*(f"site:{s}" for s in sites), *(f"cluster:{c}" for c in clusters)])
    record_event(
        session, award, "places", actor_id, f"places: {where or 'open'}; {reason}", clock.now()
    )


def _replace(
    session: Session,
    award: Award,
    site_ids: list[uuid.UUID],
    cluster_ids: list[uuid.UUID],
    field: str,
) -> None:
    session.execute(delete(AwardPlace).where(AwardPlace.award_id == award.id))
    session.add_all(AwardPlace(award_id=award.id, site_id=s) for s in site_ids)
    session.add_all(AwardPlace(award_id=award.id, cluster_id=c) for c in cluster_ids)
    session.flush()
    for line in award.lines:
        allowed = set(eligible_clusters(session, award.id, line.accelerator_type))
        placed = session.scalars(
            select(CentreCluster.name)
            .join(AwardShare, AwardShare.cluster_id == CentreCluster.id)
            .where(AwardShare.award_line_id == line.id, AwardShare.gpu_hours > 0)
        ).all()
        outside = sorted(set(placed) - allowed)
        if outside:
            raise Conflict(
                f"award {award.reference} still holds {line.accelerator_type} hours on "
                f"{', '.join(outside)}: move them to the reserve first",
                field=field,
            )


__all__ = ["set_places"]
