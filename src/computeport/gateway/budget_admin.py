"""Setting and reading the gateway's money budgets (the write side and the statement).

Operators set a monthly budget in HK cents for one key, one application (all its keys) or a
whole department (all its keys); ``None`` removes it.  Every change is audited on the budget
row (who, old → new).  Services never commit: the caller's unit of work does.

The statement (:func:`budget_report`) gives each budget's spend so far this period from the
book of record — the metered usage, rated or about to be — so the API, the CLI and the
department's page say the same thing.  It does not include requests still in flight (their
holds live in the shared counters, not in the database).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from computeport.audit.service import record_event
from computeport.gateway.budgets import (
    UsagePricer,
    period_end,
    period_label,
    period_start,
)
from computeport.gateway.repository import (
    application_has_key,
    budget_row,
    budgets_of,
    key_of,
    spent_minor,
)
from computeport.kit.clock import Clock
from computeport.kit.errors import NotFound, ValidationFailed
from computeport.models.identity import Organisation
from computeport.models.inference import BudgetScope, GatewayBudget
from computeport.pricing.book import PriceBook

PERIOD_RULE = "calendar month, {zone} time (resets at 00:00 on the first)"


def _only_for_applications() -> ValidationFailed:
    return ValidationFailed("application: only for an application's budget", field="application")


def _subject(
    session: Session,
    organisation_id: uuid.UUID,
    scope: BudgetScope,
    key_id: uuid.UUID | None,
    application: str | None,
) -> str:
    """The budget's subject within the organisation, checked (the error names the field)."""
    if scope == BudgetScope.KEY:
        if key_id is None:
            raise ValidationFailed("key_id: required for a key's budget", field="key_id")
        if application is not None:
            raise ValidationFailed(
                "application: only for an application's budget", field="application"
            )
        if key_of(session, key_id, organisation_id) is None:
            raise NotFound(f"gateway key {key_id} not found in the organisation", field="key_id")
        return key_id.hex
    if key_id is not None:
        raise ValidationFailed("key_id: only for a key's budget", field="key_id")
    if scope == BudgetScope.APPLICATION:
        name = (application or "").strip()
        if not name or len(name) > 100:
            raise ValidationFailed(
                "application: required, the application's name (1–100 characters)",
                field="application",
            )
        if not application_has_key(session, organisation_id, name):
            raise NotFound(
                f"application: no key of the organisation is for {name!r}", field="application"
            )
        return name
    if application is not None:
        raise _only_for_applications()
    return ""


def set_budget(
    session: Session,
    clock: Clock,
    organisation_id: uuid.UUID,
    scope: BudgetScope,
    monthly_minor: int | None,
    *,
    key_id: uuid.UUID | None = None,
    application: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> GatewayBudget | None:
    """Set (or with ``None`` remove) a monthly budget; returns the row (None when removed)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"organisation {organisation_id} not found", field="organisation_id")
    if monthly_minor is not None and monthly_minor < 0:
        raise ValidationFailed("monthly_minor: must not be negative", field="monthly_minor")
    subject = _subject(session, organisation_id, scope, key_id, application)
    row = budget_row(session, organisation_id, scope, subject)
    now = clock.now()
    before = row.monthly_minor if row is not None else None
    if monthly_minor is None:
        if row is not None:
            record_event(session, row, "budget_removed", actor_id, f"{scope}: {before} → none", now)
            session.delete(row)
            session.flush()
        return None
    if row is None:
        row = GatewayBudget(
            organisation_id=organisation_id,
            scope=scope,
            subject=subject,
            monthly_minor=monthly_minor,
            created_at=now,
        )
        session.add(row)
    row.monthly_minor = monthly_minor
    row.updated_at = now
    session.flush()
    record_event(session, row, "budget_set", actor_id, f"{scope}: {before} → {monthly_minor}", now)
    return row


@dataclass(frozen=True)
class BudgetState:
    """One budget in the statement: its limit and the spend metered so far this period."""

    id: uuid.UUID
    scope: BudgetScope
    subject: str
    monthly_minor: int
    spent_minor: int

    @property
    def left_minor(self) -> int:
        return max(0, self.monthly_minor - self.spent_minor)


@dataclass(frozen=True)
class BudgetReport:
    organisation_id: uuid.UUID
    period: str
    period_rule: str
    starts_at: datetime
    resets_at: datetime
    budgets: list[BudgetState]


def budget_report(
    session: Session, organisation_id: uuid.UUID, now: datetime, zone: ZoneInfo
) -> BudgetReport:
    """The organisation's budgets with this period's metered spend."""
    since = period_start(now, zone)
    price = UsagePricer(PriceBook.load(session))
    states = []
    for b in budgets_of(session, organisation_id):
        spent = spent_minor(
            session,
            organisation_id,
            since,
            price,
            key_id=uuid.UUID(b.subject) if b.scope == BudgetScope.KEY else None,
            application=b.subject if b.scope == BudgetScope.APPLICATION else None,
        )
        states.append(BudgetState(b.id, b.scope, b.subject, b.monthly_minor, spent))
    return BudgetReport(
        organisation_id,
        period_label(now, zone),
        PERIOD_RULE.format(zone=zone.key),
        since,
        period_end(now, zone),
        states,
    )


__all__ = ["PERIOD_RULE", "BudgetReport", "BudgetState", "budget_report", "set_budget"]
