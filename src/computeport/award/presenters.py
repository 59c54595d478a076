"""Turning an award into what the API shows: lines with released hours, tranches with state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from computeport.award.repository import AnyRow
from computeport.award.schemas import AwardLineRead, AwardRead, TrancheRead
from computeport.models.award import Award, AwardLine
from computeport.models.progress import AwardTranche, ProgressReport
from computeport.progress.tranches import (
    OPEN_REPORT_STATES,
    TrancheState,
    released_gpu_hours_by_line,
    tranche_state,
    tranches_of,
)

AWARD_READ = TypeAdapter(AwardRead)
AWARD_READS = TypeAdapter(list[AwardRead])
"""Serialisers of the read API's award responses (built once per process)."""


def _gating_reports(
    session: Session, tranches: list[AwardTranche]
) -> dict[uuid.UUID, ProgressReport]:
    gating = [t.gating_report_id for t in tranches if t.gating_report_id is not None]
    if not gating:
        return {}
    stmt = select(ProgressReport).where(ProgressReport.id.in_(gating))
    return {r.id: r for r in session.scalars(stmt)}


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


_LINES = (
    select(AwardLine.award_id, AwardLine.accelerator_type, AwardLine.gpu_hours)
    .where(AwardLine.award_id.in_(bindparam("ids", expanding=True)))
    .order_by(AwardLine.award_id, AwardLine.accelerator_type)
)
_TRANCHES = (
    select(
        AwardTranche.award_id,
        AwardTranche.sequence,
        AwardTranche.share_bp,
        AwardTranche.released_at,
        AwardTranche.gating_report_id,
        ProgressReport.status.label("report_status"),
        ProgressReport.due_at.label("report_due_at"),
    )
    .outerjoin(ProgressReport, ProgressReport.id == AwardTranche.gating_report_id)
    .where(AwardTranche.award_id.in_(bindparam("ids", expanding=True)))
    .order_by(AwardTranche.award_id, AwardTranche.sequence)
)
"""Built once (constructing a statement costs more CPU than running it): an award's lines in
the order of ``Award.lines``, and its tranches with their gating report's state in one join."""


def _state_of(tranche: AnyRow, now: datetime) -> str:
    """:func:`~computeport.progress.tranches.tranche_state` of a tranche row joined with its
    gating report's status and due date (the same rule; ``test_presenters`` checks both agree)."""
    if tranche.released_at is not None:
        return TrancheState.RELEASED.value
    if tranche.report_status in OPEN_REPORT_STATES and tranche.report_due_at <= now:
        return TrancheState.HELD.value
    return TrancheState.PENDING.value


def award_reads_of_rows(session: Session, rows: Sequence[AnyRow], now: datetime) -> list[AwardRead]:
    """The API's view of awards from rows of :data:`~computeport.award.repository.AWARD_COLUMNS`.

    The read API's path: no ORM objects (whose identity-map bookkeeping cost more than the
    query), and two more queries whatever the number of awards: every line, then every tranche
    joined with its gating report.
    """
    if not rows:
        return []
    ids = [row.id for row in rows]
    connection = session.connection()  # Core rows: no ORM result processing
    lines: dict[uuid.UUID, dict[str, int]] = {award_id: {} for award_id in ids}
    for line in connection.execute(_LINES, {"ids": ids}).all():
        lines[line.award_id][line.accelerator_type] = line.gpu_hours
    tranches: dict[uuid.UUID, list[AnyRow]] = {award_id: [] for award_id in ids}
    for tranche in connection.execute(_TRANCHES, {"ids": ids}).all():
        tranches[tranche.award_id].append(tranche)
    out = []
    for row in rows:
        hours = lines[row.id]
        ts = tranches[row.id]
        released = released_gpu_hours_by_line(
            hours, [t.share_bp for t in ts], [t.released_at is not None for t in ts]
        )
        out.append(
            AwardRead(
                **row._mapping,
                lines=[
                    AwardLineRead(
                        accelerator_type=k, gpu_hours=v, released_gpu_hours=released.get(k, 0)
                    )
                    for k, v in hours.items()
                ],
                tranches=[
                    TrancheRead(
                        sequence=t.sequence,
                        share_bp=t.share_bp,
                        state=_state_of(t, now),
                        released_at=t.released_at,
                        gating_report_id=t.gating_report_id,
                    )
                    for t in ts
                ],
            )
        )
    return out


__all__ = ["AWARD_READ", "AWARD_READS", "award_read", "award_reads_of_rows"]
