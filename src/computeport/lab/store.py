"""Saving a study: the JSON answer plus its side-by-side rows (never commits: the caller does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.kit.clock import Clock, SystemClock, from_epoch_seconds
from computeport.kit.errors import NotFound
from computeport.lab.study import Study
from computeport.models.lab import LabStudy, LabStudyRow

__all__ = ["load_study", "recent_studies", "save_study"]


def save_study(
    session: Session,
    study: Study,
    *,
    label: str,
    changes: Sequence[str],
    requested_by: uuid.UUID | None = None,
    clock: Clock | None = None,
) -> uuid.UUID:
    """Add the study and its rows to the session; return its id."""
    now: datetime = (clock or SystemClock()).now()
    row = LabStudy(
        created_at=now,
        label=label[:200],
        window_from=from_epoch_seconds(study.origin_s + study.from_s),
        window_to=from_epoch_seconds(study.origin_s + study.to_s),
        changes={"changes": list(changes)},
        result=study.to_dict(),
        requested_by_id=requested_by,
    )
    for o in study.outcomes:
        groups = [("all", o.overall)]
        groups += [("category", g) for g in o.by_category]
        groups += [("organisation", g) for g in o.by_org]
        for grouping, g in groups:
            row.rows.append(
                LabStudyRow(
                    scenario=o.name[:400],
                    grouping=grouping,
                    grp=g.group[:200],
                    jobs=g.jobs,
                    never_started=g.never_started,
                    wait_mean_s=g.wait_mean_s,
                    wait_p50_s=g.wait_p50_s,
                    wait_p95_s=g.wait_p95_s,
                    slowdown_mean=g.slowdown_mean,
                    slowdown_p95=g.slowdown_p95,
                    utilisation=o.utilisation,
                )
            )
    session.add(row)
    session.flush()
    return row.id


def load_study(session: Session, study_id: uuid.UUID) -> LabStudy:
    study = session.get(LabStudy, study_id)
    if study is None:
        raise NotFound(f"no study {study_id}", field="study_id")
    return study


def recent_studies(session: Session, limit: int = 20) -> list[LabStudy]:
    return list(session.scalars(select(LabStudy).order_by(LabStudy.created_at.desc()).limit(limit)))
