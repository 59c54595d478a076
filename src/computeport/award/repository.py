"""Reading awards: by id, locked for update, and what a subject may read (the award domain's
one home of organisation filters, checked by ``tests/test_tenancy_lint.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, select, true
from sqlalchemy.orm import Session, selectinload

from computeport.award.errors import AwardNotFound
from computeport.identity.subject import Subject
from computeport.models.award import Award, AwardAmendment, AwardStatus


def lock_award(session: Session, award_id: uuid.UUID, *, lock: bool = True) -> Award:
    """The award (FOR UPDATE when ``lock``); take the scheme lock first (lock order)."""
    stmt = select(Award).where(Award.id == award_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    award = session.scalars(stmt).one_or_none()
    if award is None:
        raise AwardNotFound(f"award {award_id} not found", field="award_id")
    return award


def readable_by(subject: Subject) -> Select[Award]:
    """Awards the subject may read: all for overseers, else their organisations' only."""
    stmt = select(Award).options(selectinload(Award.lines))
    if not subject.sees_all_organisations:
        stmt = stmt.where(Award.organisation_id.in_(list(subject.organisation_ids)))
    return stmt


def _visible_to(subject: Subject) -> ColumnElement[bool]:
    """The condition "an award of the subject's organisations" (always true for overseers)."""
    if subject.sees_all_organisations:
        return true()
    return Award.organisation_id.in_(list(subject.organisation_ids))


def ensure_readable(session: Session, subject: Subject, award_id: uuid.UUID) -> None:
    """Raise "not found" unless the subject may read the award (no existence leak); cheaper
    than :func:`get_readable` for callers that only need the check."""
    if session.scalar(select(Award.id).where(Award.id == award_id, _visible_to(subject))) is None:
        raise AwardNotFound(f"award {award_id} not found", field="award_id")


def accounts_readable_by(
    subject: Subject,
) -> Select[str, uuid.UUID, str, uuid.UUID]:
    """``(slurm account, award id, reference, organisation)`` of the awards whose jobs the
    subject may read."""
    return select(Award.slurm_account, Award.id, Award.reference, Award.organisation_id).where(
        _visible_to(subject)
    )


def list_awards(
    session: Session,
    subject: Subject,
    *,
    status: AwardStatus | None = None,
    organisation_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Award]:
    stmt = readable_by(subject)
    if status is not None:
        stmt = stmt.where(Award.status == status)
    if organisation_id is not None:
        stmt = stmt.where(Award.organisation_id == organisation_id)
    stmt = stmt.order_by(Award.created_at.desc(), Award.id).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def get_readable(
    session: Session,
    subject: Subject,
    award_id: uuid.UUID,
    *,
    organisation_id: uuid.UUID | None = None,
) -> Award:
    """The award if the subject may read it (and, given ``organisation_id``, it is that
    organisation's: a page under one organisation's URL); 404 otherwise (no existence leak)."""
    stmt = readable_by(subject).where(Award.id == award_id)
    if organisation_id is not None:
        stmt = stmt.where(Award.organisation_id == organisation_id)
    award = session.scalars(stmt).one_or_none()
    if award is None:
        raise AwardNotFound(f"award {award_id} not found", field="award_id")
    return award


AnyRow = Row[*tuple[Any, ...]]
"""A Core row of any columns (read by attribute name)."""

AWARD_COLUMNS = (
    Award.id,
    Award.reference,
    Award.application_id,
    Award.scheme_id,
    Award.organisation_id,
    Award.status,
    Award.starts_at,
    Award.ends_at,
    Award.subsidy_rate,
    Award.rate_reason,
    Award.cap_minor,
    Award.committed_minor,
    Award.currency,
    Award.over_cap_policy,
    Award.charge_reservations,
    Award.gpu_cap,
    Award.terms,
    Award.slurm_account,
)
"""The columns the API shows of an award (:class:`~computeport.award.schemas.AwardRead`)."""

# Built once: constructing a statement costs more CPU than running these.
_ROW_BY_ID = select(*AWARD_COLUMNS).where(Award.id == bindparam("award_id"))
_PAGE = (
    select(*AWARD_COLUMNS)
    .order_by(Award.created_at.desc(), Award.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_IN_ORGANISATIONS = Award.organisation_id.in_(bindparam("organisation_ids", expanding=True))
_WITH_STATUS = Award.status == bindparam("status")
_OF_ORGANISATION = Award.organisation_id == bindparam("organisation_id")


def readable_row(session: Session, subject: Subject, award_id: uuid.UUID) -> AnyRow:
    """:func:`get_readable` as a row of :data:`AWARD_COLUMNS` (no ORM object): the read API's.

    The same rule as :func:`readable_by`, applied to the one row the primary key finds: another
    organisation's award is "not found" too (no existence leak).
    """
    row = session.connection().execute(_ROW_BY_ID, {"award_id": award_id}).one_or_none()
    if row is None or not subject.can_see_organisation(row.organisation_id):
        raise AwardNotFound(f"award {award_id} not found", field="award_id")
    return row


def readable_rows(
    session: Session,
    subject: Subject,
    *,
    status: AwardStatus | None = None,
    organisation_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[AnyRow]:
    """:func:`list_awards` as rows of :data:`AWARD_COLUMNS`, in the same order."""
    stmt = _PAGE
    params: dict[str, object] = {"limit": limit, "offset": offset}
    if not subject.sees_all_organisations:
        stmt = stmt.where(_IN_ORGANISATIONS)
        params["organisation_ids"] = list(subject.organisation_ids)
    if status is not None:
        stmt = stmt.where(_WITH_STATUS)
        params["status"] = status
    if organisation_id is not None:
        stmt = stmt.where(_OF_ORGANISATION)
        params["organisation_id"] = organisation_id
    return session.connection().execute(stmt, params).all()


def amendments_of(session: Session, award_id: uuid.UUID) -> list[AwardAmendment]:
    return list(
        session.scalars(
            select(AwardAmendment)
            .where(AwardAmendment.award_id == award_id)
            .order_by(AwardAmendment.at, AwardAmendment.id)
        )
    )


__all__ = [
    "AWARD_COLUMNS",
    "AnyRow",
    "amendments_of",
    "get_readable",
    "list_awards",
    "lock_award",
    "readable_by",
    "readable_row",
    "readable_rows",
]
