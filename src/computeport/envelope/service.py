"""Envelope arithmetic: locking the scheme, checking headroom, and the figures people read.

The invariant: for every scheme, Σ award.committed_minor ≤ scheme.envelope_minor.  Every
change of a commitment first locks the scheme row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite serialises writers anyway and SQLAlchemy drops the clause there), then sums the
commitments it can now see and refuses with :class:`BudgetExceeded` when the new total would
pass the envelope.  Because every writer of ``committed_minor`` takes the same lock first, the
sum read under the lock is exact: a concurrent decision waits and then sees ours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from computeport.envelope.consumed import ConsumedSource, consumed_by_award
from computeport.envelope.errors import SchemeNotFound
from computeport.kit.errors import BudgetExceeded
from computeport.kit.money import Money
from computeport.models.award import Award
from computeport.models.identity import Organisation, OrganisationCategory
from computeport.models.scheme import Scheme


def lock_scheme(session: Session, scheme_id: uuid.UUID) -> Scheme:
    """The scheme row, locked for the rest of the transaction (PostgreSQL: FOR UPDATE)."""
    stmt = (
        select(Scheme)
        .where(Scheme.id == scheme_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    scheme = session.scalars(stmt).one_or_none()
    if scheme is None:
        raise SchemeNotFound(f"scheme {scheme_id} not found", field="scheme_id")
    return scheme


def committed_minor(session: Session, scheme_id: uuid.UUID) -> int:
    """Σ committed_minor over the scheme's awards, read from the database (after a flush)."""
    session.flush()
    total = session.scalar(
        select(func.coalesce(func.sum(Award.committed_minor), 0)).where(
            Award.scheme_id == scheme_id
        )
    )
    return int(total or 0)


def ensure_headroom(session: Session, scheme: Scheme, extra_minor: int, *, what: str) -> None:
    """Raise :class:`BudgetExceeded` unless ``extra_minor`` more still fits the envelope.

    Call with the scheme locked (:func:`lock_scheme`).  The message says how much is left, so
    the committee can decide on a smaller cap.
    """
    if extra_minor <= 0:
        return
    committed = committed_minor(session, scheme.id)
    remaining = scheme.envelope_minor - committed
    if extra_minor > remaining:
        left = Money(remaining, scheme.currency)
        asked = Money(extra_minor, scheme.currency)
        raise BudgetExceeded(
            f"{what} of {asked} exceeds what is left of the {scheme.code} envelope: {left} "
            f"remaining of {Money(scheme.envelope_minor, scheme.currency)}",
            field="cap_minor",
            remaining_minor=remaining,
            requested_minor=extra_minor,
        )


@dataclass(frozen=True)
class CategoryFigures:
    """The envelope's use by one applicant category."""

    category: OrganisationCategory
    awards: int
    committed_minor: int
    consumed_minor: int


@dataclass(frozen=True)
class EnvelopeFigures:
    """What the committee and the funder watch: total, committed, consumed, remaining."""

    scheme_id: uuid.UUID
    scheme_code: str
    currency: str
    total_minor: int
    committed_minor: int
    consumed_minor: int
    by_category: tuple[CategoryFigures, ...]

    @property
    def remaining_minor(self) -> int:
        """Envelope − committed: what new decisions may still commit."""
        return self.total_minor - self.committed_minor


_AWARD_FIGURES = (
    select(Award.id, Award.committed_minor, Organisation.category)
    .join(Organisation, Organisation.id == Award.organisation_id)
    .where(Award.scheme_id == bindparam("scheme_id"))
)
"""Each award of a scheme with its commitment and applicant category: built once (building a
statement costs more CPU than running this one), run as Core on the session's connection."""


def envelope_figures(
    session: Session, scheme: Scheme, consumed: ConsumedSource = consumed_by_award
) -> EnvelopeFigures:
    """The scheme's envelope now, with a row for each eligible category (zeros included)."""
    session.flush()
    rows = session.connection().execute(_AWARD_FIGURES, {"scheme_id": scheme.id}).all()
    used = consumed(session, [r.id for r in rows])
    per: dict[OrganisationCategory, list[int]] = {c: [0, 0, 0] for c in OrganisationCategory}
    for row in rows:
        acc = per[OrganisationCategory(row.category)]
        acc[0] += 1
        acc[1] += int(row.committed_minor)
        acc[2] += int(used.get(row.id, 0))
    return EnvelopeFigures(
        scheme_id=scheme.id,
        scheme_code=scheme.code,
        currency=scheme.currency,
        total_minor=scheme.envelope_minor,
        committed_minor=sum(a[1] for a in per.values()),
        consumed_minor=sum(a[2] for a in per.values()),
        by_category=tuple(
            CategoryFigures(category, a[0], a[1], a[2]) for category, a in per.items()
        ),
    )


def get_scheme(
    session: Session, scheme_id: uuid.UUID | None = None, code: str | None = None
) -> Scheme:
    """A scheme by id or code; with neither, the only scheme (the usual deployment)."""
    stmt = select(Scheme)
    if scheme_id is not None:
        stmt = stmt.where(Scheme.id == scheme_id)
    elif code is not None:
        stmt = stmt.where(Scheme.code == code)
    schemes = list(session.scalars(stmt.order_by(Scheme.created_at).limit(2)))
    if not schemes:
        raise SchemeNotFound("no such scheme", field="scheme")
    if scheme_id is None and code is None and len(schemes) > 1:
        raise SchemeNotFound("several schemes exist: name one", field="scheme")
    return schemes[0]


__all__ = [
    "CategoryFigures",
    "EnvelopeFigures",
    "committed_minor",
    "ensure_headroom",
    "envelope_figures",
    "get_scheme",
    "lock_scheme",
]
