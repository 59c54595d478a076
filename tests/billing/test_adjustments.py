"""Manual adjustments: balanced journals, idempotency, the cap rule, and the invoices they reach.

The golden month is October 2026 of tests/factories/billing.py's World (hand-checked in
tests/invoicing/test_golden.py): Alpha's invoice is due 35,400 cents, Beta's 22,401, award B's
statement 201,608 of subsidy.  Here operators adjust that month and the documents must still
add up to exactly what the ledger moved.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.billing.adjustments import (
    AdjustmentRequest,
    PostedAdjustment,
    list_adjustments,
    post_adjustment,
)
from computeport.billing.posting import RatingState, post_all, post_usage
from computeport.identity.subject import Subject
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv
from computeport.kit.clock import ManualClock
from computeport.kit.errors import (
    BudgetExceeded,
    Conflict,
    DomainError,
    PermissionDenied,
    ValidationFailed,
)
from computeport.ledger.queries import balance_map, consumed_by_award, unbalanced_journals
from computeport.metering.ingest import ingest_usage
from computeport.models.adjustment import Adjustment, AdjustmentBilling, AdjustmentTarget
from computeport.models.audit import AuditRecord
from computeport.models.award import AwardStatus
from computeport.models.identity import Role
from computeport.models.invoicing import BillingDocument, DocumentKind
from computeport.models.ledger import JournalKind, LedgerAccount, LedgerJournal, Posting
from computeport.models.metering import ChargeKind, UsageCharge
from tests.factories import identity as identity_factory
from tests.factories.billing import World

NOV_2 = datetime(2026, 11, 2, tzinfo=UTC)


def _staff(session: Session, clock: ManualClock, role: Role = Role.OPERATOR) -> Subject:
    user = identity_factory.user(session, roles=(role,), at=clock.now())
    return identity_factory.subject(session, user)


def _october(session: Session, clock: ManualClock) -> tuple[World, Subject]:
    world = World(session, clock)
    clock.set(NOV_2)
    ingest_usage(session, clock, world.october())
    post_all(session, clock)
    return world, _staff(session, clock)


def _adjust(
    session: Session,
    clock: ManualClock,
    who: Subject,
    key: str,
    amount: int,
    *,
    target: AdjustmentTarget = AdjustmentTarget.RECEIVABLE,
    period: str = "2026-10",
    reason: str = "goodwill credit for a slow week",
    organisation_id: uuid.UUID | None = None,
    award_id: uuid.UUID | None = None,
) -> PostedAdjustment:
    request = AdjustmentRequest(
        target=target,
        amount_minor=amount,
        period=period,
        reason=reason,
        idempotency_key=key,
        organisation_id=organisation_id,
        award_id=award_id,
    )
    return post_adjustment(session, clock, who, request)


def _postings(session: Session, adjustment: Adjustment) -> dict[str, int]:
    rows = session.execute(
        select(Posting.account_id, Posting.amount_minor).where(
            Posting.journal_id == adjustment.journal_id
        )
    ).all()
    codes = dict(session.execute(select(LedgerAccount.id, LedgerAccount.code)).all())
    return {codes[a]: v for a, v in rows}


def _doc(session: Session, number: str) -> BillingDocument:
    return session.scalars(select(BillingDocument).where(BillingDocument.number == number)).one()


def _lines(doc: BillingDocument) -> list[tuple[str, int, int, int]]:
    return [(ln.award_reference, ln.list_minor, ln.subsidy_minor, ln.due_minor) for ln in doc.lines]


def test_a_receivable_adjustment_is_one_balanced_journal_a_row_and_an_audit_record(
    session: Session, clock: ManualClock
) -> None:
    world, operator = _october(session, clock)
    before = balance_map(session)
    posted = _adjust(session, clock, operator, "GW-1", -1_000, organisation_id=world.alpha.id)
    assert posted.created
    adj = posted.adjustment
    journal = session.get(LedgerJournal, adj.journal_id)
    assert journal is not None
    assert (journal.kind, journal.idempotency_key) == (JournalKind.ADJUSTMENT, "adjustment:GW-1")
    assert _postings(session, adj) == {
        f"receivable:{world.alpha.id}": -1_000,
        "revenue:gpu": 1_000,
    }
    after = balance_map(session)
    assert after[f"receivable:{world.alpha.id}"] == before[f"receivable:{world.alpha.id}"] - 1_000
    assert unbalanced_journals(session) == []
    audit = session.scalars(select(AuditRecord).where(AuditRecord.entity_id == adj.id)).one()
    assert (audit.action, audit.actor_id) == ("adjustment_posted", operator.user_id)
    assert "goodwill" in audit.reason
    assert (adj.period, adj.billing_period, adj.actor_id) == (
        "2026-10",
        "2026-10",
        operator.user_id,
    )


def test_a_subsidy_adjustment_moves_the_awards_consumed_subsidy_and_balances(
    session: Session, clock: ManualClock
) -> None:
    world, operator = _october(session, clock)
    award_b = world.award_b
    consumed = consumed_by_award(session, [award_b.id])[award_b.id]
    posted = _adjust(
        session,
        clock,
        operator,
        "OUTAGE-1",
        -2_000,
        target=AdjustmentTarget.SUBSIDY,
        award_id=award_b.id,
        reason="outage on 8 Oct credited back to the award",
    )
    assert posted.adjustment.organisation_id == world.beta.id
    assert _postings(session, posted.adjustment) == {
        f"subsidy_receivable:{award_b.id}": -2_000,
        "revenue:gpu": 2_000,
        f"envelope_consumed:{award_b.id}": -2_000,
        f"envelope_committed:{award_b.id}": 2_000,
    }
    assert consumed_by_award(session, [award_b.id])[award_b.id] == consumed - 2_000
    assert unbalanced_journals(session) == []


def test_the_same_key_twice_is_the_same_adjustment_and_other_content_is_a_conflict(
    session: Session, clock: ManualClock
) -> None:
    world, operator = _october(session, clock)
    first = _adjust(session, clock, operator, "K-1", 500, organisation_id=world.beta.id)
    again = _adjust(session, clock, operator, "K-1", 500, organisation_id=world.beta.id)
    assert not again.created
    assert again.adjustment.id == first.adjustment.id
    count = session.scalar(select(func.count()).select_from(Adjustment))
    journals = session.scalar(
        select(func.count())
        .select_from(LedgerJournal)
        .where(LedgerJournal.kind == JournalKind.ADJUSTMENT)
    )
    assert (count, journals) == (1, 1)
    with pytest.raises(Conflict) as raised:
        _adjust(session, clock, operator, "K-1", 501, organisation_id=world.beta.id)
    assert raised.value.field == "idempotency_key"


def test_subsidy_adjustments_stay_within_the_cap_and_above_zero(
    session: Session, clock: ManualClock
) -> None:
    world, operator = _october(session, clock)
    award_b = world.award_b
    consumed = consumed_by_award(session, [award_b.id])[award_b.id]
    left = award_b.cap_minor - consumed

    def subsidy(key: str, amount: int) -> PostedAdjustment:
        return _adjust(
            session,
            clock,
            operator,
            key,
            amount,
            target=AdjustmentTarget.SUBSIDY,
            award_id=award_b.id,
        )

    for key, amount in (("OVER", left + 1), ("UNDER", -consumed - 1)):
        with pytest.raises(BudgetExceeded) as raised:
            subsidy(key, amount)
        assert raised.value.field == "amount_minor"
    assert subsidy("EXACT", left).created  # up to the cap exactly is allowed
    assert consumed_by_award(session, [award_b.id])[award_b.id] == award_b.cap_minor
    assert session.scalar(select(func.count()).select_from(Adjustment)) == 1


def test_an_ended_award_takes_no_subsidy_adjustment(session: Session, clock: ManualClock) -> None:
    world, operator = _october(session, clock)
    world.award_a.status = AwardStatus.EXPIRED
    session.flush()
    with pytest.raises(Conflict) as raised:
        _adjust(
            session,
            clock,
            operator,
            "LATE",
            -100,
            target=AdjustmentTarget.SUBSIDY,
            award_id=world.award_a.id,
        )
    assert raised.value.field == "award_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"amount": 0}, "amount_minor"),
        ({"period": "2026-13"}, "period"),
        ({"period": "2027-01"}, "period"),
        ({"key": ""}, "idempotency_key"),
        ({"key": "x" * 101}, "idempotency_key"),
        ({"target": AdjustmentTarget.SUBSIDY}, "award_id"),
        ({"org": None}, "organisation_id"),
        ({"other_award": True}, "award_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    session: Session, clock: ManualClock, change: dict[str, object], field: str
) -> None:
    world, operator = _october(session, clock)
    fields: dict[str, Any] = {"organisation_id": world.alpha.id}
    if "org" in change:
        fields = {}
    if "other_award" in change:
        fields["award_id"] = world.award_b.id  # Beta's award on Alpha's receivable
    for name in ("reason", "period"):
        if name in change:
            fields[name] = change[name]
    with pytest.raises(ValidationFailed) as raised:
        _adjust(
            session,
            clock,
            operator,
            str(change.get("key", "BAD")),
            int(str(change.get("amount", -100))),
            target=AdjustmentTarget(str(change.get("target", "receivable"))),
            **fields,
        )
    assert raised.value.field == field
    assert session.scalar(select(func.count()).select_from(Adjustment)) == 0


@pytest.mark.parametrize("role", [Role.SCHEME_OFFICER, Role.FUNDER, Role.COMMITTEE_MEMBER])
def test_only_operators_adjust(session: Session, clock: ManualClock, role: Role) -> None:
    world, _ = _october(session, clock)
    with pytest.raises(PermissionDenied):
        _adjust(
            session, clock, _staff(session, clock, role), "P", -1, organisation_id=world.alpha.id
        )


def test_golden_an_adjusted_month_reconciles_invoices_with_the_ledger(
    session: Session, clock: ManualClock
) -> None:
    """Invoice totals = the receivable's ledger movements; statements = subsidy receivable."""
    world, operator = _october(session, clock)
    _adjust(session, clock, operator, "GW-A", -1_000, organisation_id=world.alpha.id)
    _adjust(
        session,
        clock,
        operator,
        "FIX-A",
        250,
        organisation_id=world.alpha.id,
        award_id=world.award_a.id,
        reason="co-payment under-billed on job 4",
    )
    _adjust(session, clock, operator, "FIX-B", 99, organisation_id=world.beta.id)
    _adjust(
        session,
        clock,
        operator,
        "OUT-B",
        -2_000,
        target=AdjustmentTarget.SUBSIDY,
        award_id=world.award_b.id,
        reason="outage credited",
    )
    report = close_period(session, clock, "2026-10")
    alpha, beta, sub_a, sub_b = (_doc(session, n) for n in report.documents)
    ref_a = world.award_a.reference
    assert _lines(alpha) == [
        (ref_a, 75_600, 50_000, 25_600),
        ("pay-as-you-go", 9_800, 0, 9_800),
        ("Adjustments", -750, 0, -750),
    ]
    assert (alpha.list_minor, alpha.subsidy_minor, alpha.due_minor) == (84_650, 50_000, 34_650)
    assert _lines(beta)[-1] == ("Adjustments", 99, 0, 99)
    assert beta.due_minor == 22_401 + 99
    assert _lines(sub_a) == [(ref_a, 75_600, 50_000, 25_600)]  # no subsidy adjustment on A
    assert _lines(sub_b)[-1] == ("Adjustments", -2_000, -2_000, 0)
    assert sub_b.subsidy_minor == 201_608 - 2_000

    ledger = balance_map(session)
    november_job = {"beta_due": 280, "b_subsidy": 2_520}  # job 11 ends 1 Nov: not October's
    assert ledger[f"receivable:{world.alpha.id}"] == alpha.due_minor
    assert ledger[f"receivable:{world.beta.id}"] - november_job["beta_due"] == beta.due_minor
    assert (
        ledger[f"subsidy_receivable:{world.award_b.id}"] - november_job["b_subsidy"]
        == sub_b.subsidy_minor
    )
    assert ledger[f"subsidy_receivable:{world.award_a.id}"] == sub_a.subsidy_minor
    assert unbalanced_journals(session) == []
    assert "Adjustments,,0,0.0000,-7.50,0.00,-7.50,0.00,,\n" in document_csv(alpha)
    assert session.scalar(select(func.count()).select_from(AdjustmentBilling)) == 4
    # Closing again bills nothing twice.
    assert close_period(session, clock, "2026-10").documents == []


def test_an_adjustment_to_a_closed_month_goes_on_the_next_open_months_invoice(
    session: Session, clock: ManualClock
) -> None:
    world, operator = _october(session, clock)
    close_period(session, clock, "2026-10")
    late = _adjust(session, clock, operator, "LATE-A", -300, organisation_id=world.alpha.id)
    assert late.adjustment.billing_period == "2026-11"
    assert close_period(session, clock, "2026-10").documents == []  # October stays as issued
    clock.set(datetime(2026, 12, 2, tzinfo=UTC))
    november = close_period(session, clock, "2026-11")
    invoices = [
        d
        for d in (_doc(session, n) for n in november.documents)
        if d.kind is DocumentKind.INVOICE and d.organisation_id == world.alpha.id
    ]
    assert len(invoices) == 1  # Alpha had no November usage: the invoice is the credit alone
    assert _lines(invoices[0]) == [("Adjustments 2026-10", -300, 0, -300)]
    views = list_adjustments(session, organisation_id=world.alpha.id)
    assert [(v.adjustment.idempotency_key, v.document_number) for v in views] == [
        ("LATE-A", invoices[0].number)
    ]
    assert close_period(session, clock, "2026-11").documents == []


def test_a_refused_adjustment_is_a_domain_error_with_a_field(
    session: Session, clock: ManualClock
) -> None:
    """Every refusal is typed (the API renders it as problem+json naming the field)."""
    world, operator = _october(session, clock)
    with pytest.raises(DomainError) as raised:
        _adjust(session, clock, operator, "X", 10, organisation_id=world.alpha.id, period="bad")
    assert (raised.value.status_code, raised.value.field) == (422, "period")


def test_a_subsidy_adjustment_between_two_batches_of_one_run_binds_the_later_batches(
    session: Session, clock: ManualClock
) -> None:
    """One ``billing post`` run carries each award's cap state across its batches; an operator's
    subsidy adjustment committed between two batches must be seen by the next one."""
    world = World(session, clock)
    clock.set(NOV_2)
    ingest_usage(session, clock, world.october())
    operator = _staff(session, clock)
    state = RatingState()
    first = post_usage(session, clock, batch_size=7, state=state)  # jobs 1-7: award B has job 7
    assert first.records == 7
    award_b = world.award_b
    consumed = consumed_by_award(session, [award_b.id])[award_b.id]
    _adjust(
        session,
        clock,
        operator,
        "OUTAGE-FILLS-B",
        award_b.cap_minor - consumed,
        target=AdjustmentTarget.SUBSIDY,
        award_id=award_b.id,
    )
    while post_usage(session, clock, batch_size=7, state=state).records:
        pass
    assert consumed_by_award(session, [award_b.id])[award_b.id] == award_b.cap_minor
    later = session.execute(
        select(UsageCharge.kind, UsageCharge.subsidy_minor).where(
            UsageCharge.award_id == award_b.id, UsageCharge.job_id.in_(["10", "11"])
        )
    ).all()
    assert later
    assert all(sub == 0 for _, sub in later)
    assert {kind for kind, _ in later} <= {ChargeKind.OVER_CAP, ChargeKind.REFUSED}
    assert unbalanced_journals(session) == []
