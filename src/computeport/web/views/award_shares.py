"""An award's GPU-hours per cluster as the staff award page shows them, with what may move.

For each accelerator type the award grants: its share on each cluster, the reserve, the hours
used on each cluster (ingested usage, whole hours rounded up: the part of the shrink floor the
database knows) and where a share may be placed.  The form on the page moves hours through
:func:`computeport.award.shares.move_hours`, the API's and the CLI's own call, which also asks the
source's jobs for the rest of the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from computeport.award.shares import RESERVE, SHARE_MOVERS, share_floor, show_shares
from computeport.models.award import Award
from computeport.web.viewer import Viewer

__all__ = ["ShareRow", "SharesPanel", "shares_panel"]


@dataclass(frozen=True)
class ShareRow:
    accelerator_type: str
    place: str
    """A cluster's name, or ``reserve``."""
    gpu_hours: int
    used_hours: int | None
    """Ingested use on the cluster (``None`` for the reserve: nothing runs on it)."""


@dataclass(frozen=True)
class SharesPanel:
    rows: list[ShareRow]
    types: list[str]
    sources: list[str]
    targets: list[str]
    places: tuple[str, ...]
    may_move: bool


def shares_panel(session: Session, award: Award, viewer: Viewer) -> SharesPanel:
    """The award's split and the form's choices (only operators and officers may move)."""
    view = show_shares(session, award.id)
    lines = {line.accelerator_type: line for line in award.lines}
    rows: list[ShareRow] = []
    sources: set[str] = set()
    targets: set[str] = {RESERVE}
    for line in view.lines:
        model = lines[line.accelerator_type]
        for cluster, hours in sorted(line.shares.items()):
            used = share_floor(session, award, model, cluster)
            rows.append(ShareRow(line.accelerator_type, cluster, hours, used))
            if hours > 0:
                sources.add(cluster)
        rows.append(ShareRow(line.accelerator_type, RESERVE, line.reserve, None))
        if line.reserve > 0:
            sources.add(RESERVE)
        targets.update(line.eligible)
    return SharesPanel(
        rows=rows,
        types=[line.accelerator_type for line in view.lines],
        sources=sorted(sources),
        targets=sorted(targets),
        places=view.places,
        may_move=viewer.has(*SHARE_MOVERS),
    )
