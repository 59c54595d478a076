"""The committee's decision: approve (an award, committed against the envelope) or reject.

Approval in one transaction: lock the scheme, then the application; validate the terms; check
the envelope; create the award, its lines, its reports and tranches; commit the cap (an
``envelope_movement``); move the application to APPROVED (audited); enqueue the decision
notification.  Any failure raises before the boundary commits, so nothing is half-written.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.application.errors import ApplicationNotFound
from computeport.audit.service import record_transition
from computeport.award.accelerators import ensure_known_lines
from computeport.award.application_link import (
    ensure_decidable,
    lock_application,
    move_application,
)
from computeport.award.commitments import change_commitment
from computeport.award.schemas import DecisionIn
from computeport.award.shares import place_on_sole_clusters
from computeport.award.term import check_term
from computeport.envelope.service import ensure_headroom, lock_scheme
from computeport.kit.clock import Clock
from computeport.kit.errors import ValidationFailed
from computeport.kit.ids import uuid7
from computeport.kit.rates import parse_rate, percent
from computeport.kit.slurm_names import award_account_name, numbered, unique_name
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, AwardLine, AwardStatus, MovementKind
from computeport.models.scheme import Scheme
from computeport.notification.events import notify_decision
from computeport.progress import schedule


def slurm_account_name(reference: str) -> str:
    """``AISS-2026-0042`` → ``aiss_2026_0042``: Slurm's rules in :mod:`kit.slurm_names`."""
    return award_account_name(reference)


def _unique_slurm_account(session: Session, reference: str) -> str:
    """The award's account (and QOS) name, generated once here and stored (unique column)."""
    base = award_account_name(reference)
    return unique_name(
        lambda n: numbered(base, n),
        lambda name: (
            session.scalar(select(Award.id).where(Award.slurm_account == name)) is not None
        ),
    )


def resolve_rate(scheme: Scheme, data: DecisionIn) -> Decimal:
    """The subsidy rate: the scheme default, or above it up to the maximum with a reason."""
    if data.subsidy_rate is None:
        return scheme.default_rate
    rate = parse_rate(data.subsidy_rate, field="subsidy_rate")
    if rate > scheme.max_rate:
        raise ValidationFailed(
            f"subsidy_rate {percent(rate)} exceeds the scheme's maximum of "
            f"{percent(scheme.max_rate)}",
            field="subsidy_rate",
        )
    if rate > scheme.default_rate and not data.rate_reason.strip():
        raise ValidationFailed(
            f"a subsidy_rate above the default {percent(scheme.default_rate)} is exceptional "
            "and needs a rate_reason",
            field="rate_reason",
        )
    return rate


def _validate_approval(session: Session, scheme: Scheme, data: DecisionIn) -> tuple[Decimal, int]:
    if not data.lines:
        raise ValidationFailed("an award needs at least one line of GPU-hours", field="lines")
    ensure_known_lines((line.accelerator_type for line in data.lines), session)
    if data.starts_at is None:
        raise ValidationFailed("starts_at is required to approve", field="starts_at")
    if data.ends_at is None:
        raise ValidationFailed("ends_at is required to approve", field="ends_at")
    check_term(data.starts_at, data.ends_at)
    if data.cap_minor is None:
        raise ValidationFailed(
            "cap_minor (the HK$ cap on the subsidy, in cents) is mandatory", field="cap_minor"
        )
    return resolve_rate(scheme, data), data.cap_minor


def decide(
    session: Session,
    application_id: uuid.UUID,
    data: DecisionIn,
    actor_id: uuid.UUID | None,
    clock: Clock,
) -> Award | None:
    """Record the committee's decision; return the award on approval, None on rejection.

    Raises:
        ApplicationNotFound: no such application (404).
        IllegalTransition: the application is not in a decidable state (409).
        ValidationFailed: bad terms, naming the field (422).
        BudgetExceeded: the cap does not fit what is left of the envelope (409).
    """
    found = session.get(Application, application_id)
    if found is None:
        raise ApplicationNotFound(f"application {application_id} not found", field="application_id")
    # Lock order everywhere: scheme, then application/award — so racing decisions queue
    # on the scheme row and can never deadlock.
    scheme = lock_scheme(session, found.scheme_id)
    application = lock_application(session, application_id)
    if data.outcome == "reject":
        move_application(
            session, application, ApplicationStatus.REJECTED, actor_id, data.reason, clock
        )
        notify_decision(session, clock, application, None, data.reason)
        session.flush()
        return None

    ensure_decidable(application, ApplicationStatus.APPROVED)
    rate, cap = _validate_approval(session, scheme, data)
    assert data.starts_at is not None
    assert data.ends_at is not None
    # Everything that can refuse runs before the first write, so a refusal leaves no trace
    # even inside a caller's longer transaction.
    due_dates = schedule.report_due_dates(data.starts_at, data.ends_at, data.report_every_months)
    schedule.validate_shares(list(data.tranche_shares_bp), len(due_dates) - 1)
    ensure_headroom(session, scheme, cap, what=f"the cap of award {application.reference}-A")
    now = clock.now()
    award = Award(
        id=uuid7(),
        reference=f"{application.reference}-A",
        application_id=application.id,
        scheme_id=scheme.id,
        organisation_id=application.organisation_id,
        status=AwardStatus.ACTIVE,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        subsidy_rate=rate,
        rate_reason=data.rate_reason.strip(),
        cap_minor=cap,
        committed_minor=0,
        currency=scheme.currency,
        over_cap_policy=data.over_cap_policy,
        charge_reservations=data.charge_reservations,
        gpu_cap=data.gpu_cap,
        terms=data.terms,
        slurm_account=_unique_slurm_account(session, application.reference),
        decided_by_id=actor_id,
        created_at=now,
    )
    session.add(award)
    session.flush()
    session.add_all(
        AwardLine(
            award_id=award.id, accelerator_type=line.accelerator_type, gpu_hours=line.gpu_hours
        )
        for line in data.lines
    )
    session.flush()
    session.refresh(award, ["lines"])
    schedule.plan(session, award, list(data.tranche_shares_bp), data.report_every_months)
    record_transition(session, award, None, AwardStatus.ACTIVE, actor_id, data.reason, now)
    change_commitment(
        session,
        scheme,
        award,
        cap,
        MovementKind.COMMIT,
        actor_id,
        f"award {award.reference}",
        clock,
        what=f"the cap of award {award.reference}",
    )
    move_application(session, application, ApplicationStatus.APPROVED, actor_id, data.reason, clock)
    notify_decision(
        session, clock, application, award, data.reason, tranches=len(data.tranche_shares_bp)
    )
    session.flush()
    place_on_sole_clusters(session, [award.id], clock, actor_id=actor_id)
    return award


__all__ = ["decide", "resolve_rate", "slurm_account_name"]
