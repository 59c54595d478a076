"""Turning an award into what the API shows: lines with released hours, tranches with state."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.award.schemas import AwardLineRead, AwardRead, TrancheRead
from computeport.models.award import Award
from computeport.models.progress import AwardTranche, ProgressReport
from computeport.progress.tranches import released_gpu_hours_by_line, tranche_state, tranches_of


def _gating_reports(
    session: Session, tranches: list[AwardTranche]
) -> dict[uuid.UUID, ProgressReport]:
    gating = [t.gating_report_id for t in tranches if t.gating_report_id is not None]
    if not gating:
        return {}
    stmt = select(ProgressReport).where(ProgressReport.id.in_(gating))
    return {r.id: r for r in session.scalars(stmt)}


def award_reads(session: Session, awards: list[Award], now: datetime) -> list[AwardRead]:
    """:func:`award_read` of many awards: their tranches and gating reports in two queries
    (not two per award — a list of awards is read on every page of the API)."""
    by_award: dict[uuid.UUID, list[AwardTranche]] = {a.id: [] for a in awards}
    if by_award:
        stmt = (
            select(AwardTranche)
            .where(AwardTranche.award_id.in_(list(by_award)))
            .order_by(AwardTranche.award_id, AwardTranche.sequence)
        )
        for tranche in session.scalars(stmt):
            by_award[tranche.award_id].append(tranche)
    reports = _gating_reports(session, [t for ts in by_award.values() for t in ts])
    return [award_read(session, a, now, tranches=by_award[a.id], reports=reports) for a in awards]


def award_read(
    session: Session,
    award: Award,
    now: datetime,
    *,
    tranches: list[AwardTranche] | None = None,
    reports: dict[uuid.UUID, ProgressReport] | None = None,
) -> AwardRead:
    """The award as the API shows it (``tranches``/``reports`` when already loaded)."""
    if tranches is None:
        tranches = tranches_of(session, award)
    if reports is None:
        reports = _gating_reports(session, tranches)
    lines = {line.accelerator_type: line.gpu_hours for line in award.lines}
    released = released_gpu_hours_by_line(
        lines, [t.share_bp for t in tranches], [t.released_at is not None for t in tranches]
    )
    return AwardRead(
        id=award.id,
        reference=award.reference,
        application_id=award.application_id,
        scheme_id=award.scheme_id,
        organisation_id=award.organisation_id,
        status=award.status,
        starts_at=award.starts_at,
        ends_at=award.ends_at,
        subsidy_rate=award.subsidy_rate,
        rate_reason=award.rate_reason,
        cap_minor=award.cap_minor,
        committed_minor=award.committed_minor,
        currency=award.currency,
        over_cap_policy=award.over_cap_policy,
        charge_reservations=award.charge_reservations,
        gpu_cap=award.gpu_cap,
        terms=award.terms,
        slurm_account=award.slurm_account,
        lines=[
            AwardLineRead(accelerator_type=k, gpu_hours=v, released_gpu_hours=released.get(k, 0))
            for k, v in lines.items()
        ],
        tranches=[
            TrancheRead(
                sequence=t.sequence,
                share_bp=t.share_bp,
                state=tranche_state(
                    t, reports.get(t.gating_report_id) if t.gating_report_id else None, now
                ).value,
                released_at=t.released_at,
                gating_report_id=t.gating_report_id,
            )
            for t in tranches
        ],
    )


__all__ = ["award_read", "award_reads"]
