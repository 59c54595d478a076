"""Scheme use cases for scheme officers: define the scheme and its rubric, run calls.

Reads are open to every authenticated subject (a scheme's terms are public); writes need the
scheme-officer role, checked by the caller through ``Subject.require`` in the endpoints and CLI.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from computeport.envelope.errors import SchemeNotFound
from computeport.envelope.service import committed_minor, lock_scheme
from computeport.kit.clock import ensure_aware
from computeport.kit.errors import Conflict, ValidationFailed
from computeport.kit.rates import parse_rate
from computeport.models.identity import OrganisationCategory
from computeport.models.scheme import Call, RubricCriterion, Scheme
from computeport.scheme.errors import CallNotFound, CallNotOpen
from computeport.scheme.rubric import CriterionSpec, validate_rubric

CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
ALL_CATEGORIES: tuple[str, ...] = tuple(c.value for c in OrganisationCategory)


def _check_period(start: datetime, end: datetime, *, start_field: str, end_field: str) -> None:
    if ensure_aware(end) <= ensure_aware(start):
        raise ValidationFailed(
            f"{end_field}: must be after {start_field} ({start.isoformat()})", field=end_field
        )


def _check_rates(default_rate: Decimal, max_rate: Decimal) -> tuple[Decimal, Decimal]:
    default = parse_rate(default_rate, field="default_rate")
    maximum = parse_rate(max_rate, field="max_rate")
    if default > maximum:
        raise ValidationFailed(
            f"default_rate: {default} is above max_rate {maximum}", field="default_rate"
        )
    return default, maximum


def _check_categories(categories: Sequence[str]) -> list[str]:
    valid = {c.value for c in OrganisationCategory}
    out: list[str] = []
    for i, c in enumerate(categories):
        if c not in valid:
            raise ValidationFailed(
                f"eligible_categories.{i}: unknown category {c!r} "
                f"(one of {', '.join(sorted(valid))})",
                field=f"eligible_categories.{i}",
            )
        if c not in out:
            out.append(c)
    if not out:
        raise ValidationFailed(
            "eligible_categories: at least one category must be eligible",
            field="eligible_categories",
        )
    return out


def create_scheme(
    session: Session,
    *,
    code: str,
    name: str,
    envelope_minor: int,
    period_start: datetime,
    period_end: datetime,
    criteria: Sequence[CriterionSpec],
    at: datetime,
    default_rate: Decimal = Decimal("0.70"),
    max_rate: Decimal = Decimal("0.90"),
    eligible_categories: Sequence[str] = ALL_CATEGORIES,
    currency: str = "HKD",
    notes: str = "",
) -> Scheme:
    """Define a scheme with its rubric (weights summing to exactly 1)."""
    if not CODE_RE.match(code):
        raise ValidationFailed(
            f"code: 2-16 upper-case letters or digits, starting with a letter; got {code!r}",
            field="code",
        )
    if session.scalar(select(Scheme.id).where(Scheme.code == code)) is not None:
        raise Conflict(f"a scheme with code {code} already exists", field="code")
    if envelope_minor < 0:
        raise ValidationFailed("envelope_minor: must not be negative", field="envelope_minor")
    _check_period(period_start, period_end, start_field="period_start", end_field="period_end")
    default, maximum = _check_rates(default_rate, max_rate)
    categories = _check_categories(eligible_categories)
    validate_rubric(criteria)
    scheme = Scheme(
        code=code,
        name=name.strip() or code,
        envelope_minor=envelope_minor,
        currency=currency,
        period_start=ensure_aware(period_start),
        period_end=ensure_aware(period_end),
        default_rate=default,
        max_rate=maximum,
        eligible_categories=categories,
        notes=notes,
        created_at=ensure_aware(at),
    )
    session.add(scheme)
    session.flush()
    _write_criteria(session, scheme, criteria)
    return scheme


def _write_criteria(session: Session, scheme: Scheme, criteria: Sequence[CriterionSpec]) -> None:
    for position, c in enumerate(criteria):
        session.add(
            RubricCriterion(
                scheme_id=scheme.id,
                key=c.key,
                name=c.name,
                weight=c.weight,
                description=c.description,
                position=position,
                is_assumption=c.is_assumption,
            )
        )
    session.flush()
    session.expire(scheme, ["criteria"])


def get_scheme(session: Session, scheme_id: uuid.UUID) -> Scheme:
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise SchemeNotFound(f"no scheme {scheme_id}", field="scheme_id")
    return scheme


def scheme_by_code(session: Session, code: str) -> Scheme:
    scheme = session.scalar(select(Scheme).where(Scheme.code == code))
    if scheme is None:
        raise SchemeNotFound(f"no scheme with code {code!r}", field="scheme")
    return scheme


def list_schemes(session: Session) -> list[Scheme]:
    """Every scheme with its criteria, in one query (the API shows both)."""
    stmt = select(Scheme).options(joinedload(Scheme.criteria)).order_by(Scheme.created_at)
    return list(session.scalars(stmt).unique())


def update_scheme(
    session: Session,
    scheme_id: uuid.UUID,
    *,
    name: str | None = None,
    envelope_minor: int | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    default_rate: Decimal | None = None,
    max_rate: Decimal | None = None,
    eligible_categories: Sequence[str] | None = None,
    notes: str | None = None,
) -> Scheme:
    """Change a scheme's terms; the envelope may never drop below what awards have committed."""
    scheme = (
        lock_scheme(session, scheme_id)
        if envelope_minor is not None
        else get_scheme(session, scheme_id)
    )
    start = period_start or scheme.period_start
    end = period_end or scheme.period_end
    _check_period(start, end, start_field="period_start", end_field="period_end")
    default, maximum = _check_rates(
        default_rate if default_rate is not None else scheme.default_rate,
        max_rate if max_rate is not None else scheme.max_rate,
    )
    categories = (
        _check_categories(eligible_categories)
        if eligible_categories is not None
        else scheme.eligible_categories
    )
    if envelope_minor is not None:
        if envelope_minor < 0:
            raise ValidationFailed("envelope_minor: must not be negative", field="envelope_minor")
        committed = committed_minor(session, scheme.id)
        if envelope_minor < committed:
            raise Conflict(
                f"envelope_minor: awards already commit {committed} (minor units); the envelope "
                f"cannot shrink below that",
                field="envelope_minor",
            )
        scheme.envelope_minor = envelope_minor
    if name is not None:
        scheme.name = name.strip() or scheme.name
    if notes is not None:
        scheme.notes = notes
    scheme.period_start, scheme.period_end = ensure_aware(start), ensure_aware(end)
    scheme.default_rate, scheme.max_rate = default, maximum
    scheme.eligible_categories = list(categories)
    session.flush()
    return scheme


def set_rubric(session: Session, scheme_id: uuid.UUID, criteria: Sequence[CriterionSpec]) -> Scheme:
    """Replace the rubric.  Refused once any review score exists (scores name criteria)."""
    scheme = get_scheme(session, scheme_id)
    validate_rubric(criteria)
    from computeport.models.review import ReviewScore  # local: review builds on scheme

    scored = session.scalar(
        select(ReviewScore.id)
        .join(RubricCriterion, RubricCriterion.id == ReviewScore.criterion_id)
        .where(RubricCriterion.scheme_id == scheme.id)
        .limit(1)
    )
    if scored is not None:
        raise Conflict(
            "criteria: reviews have been scored on this rubric; it can no longer change",
            field="criteria",
        )
    session.execute(delete(RubricCriterion).where(RubricCriterion.scheme_id == scheme.id))
    _write_criteria(session, scheme, criteria)
    return scheme


# -- calls ---------------------------------------------------------------------------------


def create_call(
    session: Session,
    scheme_id: uuid.UUID,
    *,
    name: str,
    opens_at: datetime,
    closes_at: datetime | None,
    at: datetime,
) -> Call:
    """Open a call (round) for applications; ``closes_at=None`` makes it rolling."""
    scheme = get_scheme(session, scheme_id)
    name = name.strip()
    if not name:
        raise ValidationFailed("name: must not be empty", field="name")
    if closes_at is not None:
        _check_period(opens_at, closes_at, start_field="opens_at", end_field="closes_at")
    dup = session.scalar(select(Call.id).where(Call.scheme_id == scheme.id, Call.name == name))
    if dup is not None:
        raise Conflict(f"name: the scheme already has a call named {name!r}", field="name")
    call = Call(
        scheme_id=scheme.id,
        name=name,
        opens_at=ensure_aware(opens_at),
        closes_at=ensure_aware(closes_at) if closes_at is not None else None,
        created_at=ensure_aware(at),
    )
    session.add(call)
    session.flush()
    return call


def get_call(session: Session, call_id: uuid.UUID) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise CallNotFound(f"no call {call_id}", field="call_id")
    return call


def list_calls(session: Session, scheme_id: uuid.UUID) -> list[Call]:
    get_scheme(session, scheme_id)
    stmt = select(Call).where(Call.scheme_id == scheme_id).order_by(Call.opens_at, Call.name)
    return list(session.scalars(stmt))


def close_call(session: Session, call_id: uuid.UUID, *, at: datetime) -> Call:
    """Close a call now (a rolling call's end, or an early close of a round)."""
    call = get_call(session, call_id)
    at = ensure_aware(at)
    if call.closes_at is not None and call.closes_at <= at:
        raise Conflict(f"call {call.name!r} is already closed", field="call_id")
    if at < call.opens_at:
        raise Conflict(f"call {call.name!r} has not opened yet", field="call_id")
    call.closes_at = at
    session.flush()
    return call


def is_open(call: Call, at: datetime) -> bool:
    """Half-open [opens_at, closes_at): open from its opening instant until its closing one."""
    at = ensure_aware(at)
    return call.opens_at <= at and (call.closes_at is None or at < call.closes_at)


def ensure_open(call: Call, at: datetime) -> None:
    if not is_open(call, at):
        when = call.closes_at.isoformat() if call.closes_at else "never"
        raise CallNotOpen(
            f"call {call.name!r} is not open now (opens {call.opens_at.isoformat()}, "
            f"closes {when})",
            field="call_id",
        )


def open_calls(session: Session, scheme_id: uuid.UUID, at: datetime) -> list[Call]:
    return [c for c in list_calls(session, scheme_id) if is_open(c, at)]
