"""Changing a price: an operator drafts it with a reason, the scheme officer approves it.

A centre's price list is public policy (the scheme pays a share of every price), so a change is
made like one: two people (whoever drafted may not approve), each step audited, the approval
announced through the outbox, and the new price effective only from a future instant — an
approval that would reach back and change what already-rated usage should have cost is refused.
The exception is the first price of something never priced (a new accelerator type): no charge
was rated at a price of it, so it may start when its first usage did, and ``billing quarantine
--release`` then rates the records held for want of it.
A wrong price is corrected by a credit note and a new version, never by editing a version.

The workflow::

    drafted → approved    (appends the price version; the scheme officer, not the drafter)
    drafted → rejected    (with a reason)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.audit.service import record_transition
from computeport.identity.subject import Subject
from computeport.kit.clock import Clock, ensure_aware
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.kit.workflow import TransitionTable
from computeport.models.application import Application
from computeport.models.award import AwardLine
from computeport.models.centre import AcceleratorType, CentreSite
from computeport.models.identity import Role
from computeport.models.ingest_cursor import IngestCursorRow
from computeport.models.metering import UsageQuarantine
from computeport.models.pricing import (
    PriceChange,
    PriceChangeStatus,
    PriceKind,
    PriceVersion,
)
from computeport.models.rollup import UsageRollup
from computeport.pricing.announce import announce_price
from computeport.pricing.book import cluster_sites
from computeport.pricing.errors import (
    PriceChangeNotFound,
    RetroactivePrice,
    SamePersonApproval,
    UnknownPricedThing,
)
from computeport.pricing.service import (
    ASSUMED_QOS_MULTIPLIERS,
    SCHEME_CURRENCY,
    append_version,
    check_amounts,
    latest_version,
    normalise_subject,
)

S = PriceChangeStatus

PRICE_CHANGE_WORKFLOW: TransitionTable[PriceChangeStatus] = TransitionTable.of(
    "price change",
    {S.DRAFTED: [S.APPROVED, S.REJECTED]},
    reason_required=[(S.DRAFTED, S.REJECTED)],
)


@dataclass(frozen=True)
class PriceChangeRequest:
    """What an operator proposes (the API body and the CLI's arguments both become one)."""

    kind: PriceKind
    subject: str
    unit_price: Decimal
    valid_from: datetime
    reason: str
    unit_price_output: Decimal | None = None
    currency: str = SCHEME_CURRENCY
    site: str | None = None
    cluster: str | None = None


def known_subjects(session: Session, kind: PriceKind) -> set[str]:
    """The accelerator types (or QOS) the centre has, as far as its data says.

    An accelerator type is known when the inventory lists it (a new type is priced before its
    first job runs), or it has been priced, used (read from the usage rollup, small where the
    records are many), held in the quarantine, applied for or awarded — the centre's history
    before the inventory, and the single cluster that runs without one; a QOS when it is one of
    the scheme's tiers, priced or used.
    A price for anything else would rate nothing (a typo), so it is refused.
    """
    priced = set(
        session.scalars(select(PriceVersion.subject).where(PriceVersion.kind == kind).distinct())
    )
    if kind is PriceKind.GPU_HOUR:
        for column in (
            AcceleratorType.name,
            UsageRollup.accelerator_type,
            AwardLine.accelerator_type,
            Application.accelerator_type,
        ):
            priced |= {s.lower() for s in session.scalars(select(column).distinct())}
        for payload in session.scalars(select(UsageQuarantine.payload)):
            gpu_type = payload.get("gpu_type") if isinstance(payload, dict) else None
            if isinstance(gpu_type, str) and gpu_type.strip():
                priced.add(gpu_type.strip().lower())
    elif kind is PriceKind.QOS_MULTIPLIER:
        priced |= set(ASSUMED_QOS_MULTIPLIERS)
        priced |= {s.lower() for s in session.scalars(select(UsageRollup.qos).distinct()) if s}
    return priced


def _check_scope(session: Session, site: str | None, cluster: str | None) -> None:
    """A price for a site or cluster must name one the centre has (a typo would rate nothing).

    A site is known from the inventory; a cluster from the inventory or, without one, from the
    ingest marks (the clusters whose accounting is read).  A cluster the inventory places at
    another site than the one named would make a key no lookup reaches, so it is refused too.
    """
    sites = set(session.scalars(select(CentreSite.key)))
    if site is not None and site not in sites:
        raise UnknownPricedThing(
            f"unknown site {site!r}; known: {', '.join(sorted(sites)) or 'none'}", field="site"
        )
    if cluster is None:
        return
    placed = cluster_sites(session)
    known = set(placed) | set(session.scalars(select(IngestCursorRow.cluster)))
    if cluster not in known:
        raise UnknownPricedThing(
            f"unknown cluster {cluster!r}; known: {', '.join(sorted(known)) or 'none'}",
            field="cluster",
        )
    if site is not None and placed.get(cluster, site) != site:
        raise UnknownPricedThing(
            f"cluster {cluster!r} is at site {placed[cluster]!r}, not {site!r}", field="cluster"
        )


def _check_request(session: Session, clock: Clock, request: PriceChangeRequest) -> str:
    """Every rule a draft must meet; returns the normalised subject."""
    subject = normalise_subject(request.kind, request.subject)
    _check_scope(session, request.site, request.cluster)
    check_amounts(request.kind, request.unit_price, request.unit_price_output, request.currency)
    if request.kind in (PriceKind.GPU_HOUR, PriceKind.QOS_MULTIPLIER):
        known = known_subjects(session, request.kind)
        if subject not in known:
            what = "accelerator type" if request.kind is PriceKind.GPU_HOUR else "QOS"
            raise UnknownPricedThing(
                f"unknown {what} {subject!r}; known: {', '.join(sorted(known)) or 'none'}",
                field="subject",
            )
    if not request.reason.strip():
        raise ValidationFailed("say why the price changes", field="reason")
    if not is_first_price(session, request.kind, subject):
        _check_future(clock, request.valid_from)
    latest = latest_version(session, request.kind, subject, request.site, request.cluster)
    if latest is not None and ensure_aware(request.valid_from) <= latest.valid_from:
        raise Conflict(
            f"a {request.kind.value} price for {subject} already starts at "
            f"{latest.valid_from.isoformat()}; a new one must start later",
            field="valid_from",
        )
    return subject


def is_first_price(session: Session, kind: PriceKind, subject: str) -> bool:
    """Whether nothing of ``subject`` has ever been priced (at any site or cluster).

    The one case a price may start in the past: no charge was ever rated at a price of it, so
    none is re-rated — the usage it prices is still held in the quarantine, waiting for it.
    """
    found = session.scalar(
        select(PriceVersion.id)
        .where(PriceVersion.kind == kind, PriceVersion.subject == subject)
        .limit(1)
    )
    return found is None


def _check_future(clock: Clock, valid_from: datetime) -> None:
    now = clock.now()
    if ensure_aware(valid_from) <= now:
        raise ValidationFailed(
            f"a price takes effect in the future: {valid_from.isoformat()} is not after "
            f"{now.isoformat()}",
            field="valid_from",
        )


def draft_change(
    session: Session, clock: Clock, actor: Subject, request: PriceChangeRequest
) -> PriceChange:
    """An operator proposes a price; nothing is charged differently until it is approved."""
    actor.require(Role.OPERATOR)
    subject = _check_request(session, clock, request)
    change = PriceChange(
        kind=request.kind,
        subject=subject,
        site=request.site,
        cluster=request.cluster,
        unit_price=request.unit_price,
        unit_price_output=request.unit_price_output,
        currency=request.currency,
        valid_from=ensure_aware(request.valid_from),
        reason=request.reason.strip(),
        status=S.DRAFTED,
        drafted_by=actor.user_id,
        created_at=clock.now(),
    )
    session.add(change)
    session.flush()
    record_transition(session, change, None, S.DRAFTED, actor.user_id, change.reason, clock.now())
    return change


def get_change(session: Session, change_id: uuid.UUID) -> PriceChange:
    change = session.get(PriceChange, change_id)
    if change is None:
        raise PriceChangeNotFound(f"no price change {change_id}", field="change_id")
    return change


def approve_change(
    session: Session, clock: Clock, actor: Subject, change_id: uuid.UUID, *, note: str = ""
) -> PriceVersion:
    """The scheme officer approves a draft: the version is appended and announced.

    Refused when the approver drafted it (two people), or when its start is no longer in the
    future (the approval would re-price usage already rated) — unless it is the first price
    of its subject (:func:`is_first_price`).
    """
    actor.require(Role.SCHEME_OFFICER)
    change = get_change(session, change_id)
    PRICE_CHANGE_WORKFLOW.check(change.status, S.APPROVED, change, note)
    if change.drafted_by == actor.user_id:
        raise SamePersonApproval(
            "the person who drafted a price change may not approve it; another scheme officer must",
            field="approved_by",
        )
    now = clock.now()
    if change.valid_from <= now and not is_first_price(session, change.kind, change.subject):
        raise RetroactivePrice(
            f"this change would take effect at {change.valid_from.isoformat()}, before its "
            f"approval ({now.isoformat()}); draft a new one with a future date",
            field="valid_from",
        )
    version = append_version(
        session,
        clock,
        change.kind,
        change.subject,
        change.unit_price,
        change.valid_from,
        unit_price_output=change.unit_price_output,
        site=change.site,
        cluster=change.cluster,
        currency=change.currency,
        note=change.reason,
        drafted_by=change.drafted_by,
        approved_by=actor.user_id,
        change_id=change.id,
    )
    change.status = S.APPROVED
    change.decided_by = actor.user_id
    change.decided_at = now
    change.version_id = version.id
    record_transition(
        session, change, S.DRAFTED, S.APPROVED, actor.user_id, note or change.reason, now
    )
    announce_price(session, clock, version)
    return version


def reject_change(
    session: Session, clock: Clock, actor: Subject, change_id: uuid.UUID, *, reason: str
) -> PriceChange:
    """The scheme officer turns a draft down, saying why."""
    actor.require(Role.SCHEME_OFFICER)
    change = get_change(session, change_id)
    PRICE_CHANGE_WORKFLOW.check(change.status, S.REJECTED, change, reason)
    change.status = S.REJECTED
    change.decided_by = actor.user_id
    change.decided_at = clock.now()
    record_transition(session, change, S.DRAFTED, S.REJECTED, actor.user_id, reason, clock.now())
    return change


def pending_changes(session: Session) -> list[PriceChange]:
    return list(
        session.scalars(
            select(PriceChange)
            .where(PriceChange.status == S.DRAFTED)
            .order_by(PriceChange.valid_from, PriceChange.created_at)
        )
    )


__all__ = [
    "PRICE_CHANGE_WORKFLOW",
    "PriceChangeRequest",
    "approve_change",
    "draft_change",
    "get_change",
    "is_first_price",
    "known_subjects",
    "pending_changes",
    "reject_change",
]
