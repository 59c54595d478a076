"""The rate card in billing: every charge is rated by the version in force at its job's end, and
a price change within a month splits the month's invoice lines by version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.posting import post_all
from computeport.identity.subject import Subject
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv
from computeport.kit.clock import ManualClock
from computeport.kit.money import charge_minor
from computeport.metering.ingest import ingest_usage
from computeport.metering.quarantine import release_quarantine
from computeport.models.identity import Role
from computeport.models.metering import QuarantineReason, UsageCharge, UsageQuarantine
from computeport.models.pricing import PriceKind
from computeport.pricing.approval import PriceChangeRequest, approve_change, draft_change
from computeport.pricing.service import PRICING_EPOCH, seed_assumed_prices, set_price
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import scheme as fs

MID_OCTOBER = datetime(2026, 10, 15, tzinfo=UTC)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def _staff(session: Session, clock: ManualClock, role: Role) -> Subject:
    return fi.subject(session, fi.user(session, roles=(role,), at=clock.now()))


def test_a_mid_month_change_splits_the_invoice_by_version(
    session: Session, clock: ManualClock
) -> None:
    org = fi.organisation(session, at=clock.now())
    award = fw.award(session, clock, fs.scheme_row(session, clock), org, "split-acct")
    seed_assumed_prices(session, clock)
    operator = _staff(session, clock, Role.OPERATOR)
    officer = _staff(session, clock, Role.SCHEME_OFFICER)
    change = draft_change(
        session,
        clock,
        operator,
        PriceChangeRequest(PriceKind.GPU_HOUR, "h800", Decimal("30.00"), MID_OCTOBER, "new tariff"),
    )
    new = approve_change(session, clock, officer, change.id)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    ends = [datetime(2026, 10, 9, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)]
    ends += [datetime(2026, 10, 20, tzinfo=UTC)]
    ingest_usage(session, clock, [fm.record(i, "split-acct", end=e) for i, e in enumerate(ends)])
    post_all(session, clock)
    invoice = close_period(session, clock, "2026-10").documents[0]
    from computeport.models.invoicing import BillingDocument

    doc = session.scalars(select(BillingDocument).where(BillingDocument.number == invoice)).one()
    lines = [(ln.award_reference, ln.jobs, ln.list_minor, ln.unit_price) for ln in doc.lines]
    assert lines == [
        (award.reference, 2, 2 * 22_400, Decimal("28.00")),  # 8 GPU-h each at HK$28.00
        (award.reference, 1, 24_000, Decimal("30.00")),  # from the 15th: HK$30.00
    ]
    assert doc.lines[1].price_version_id == new.id
    assert doc.lines[1].price_from == MID_OCTOBER
    assert sum(ln.list_minor for ln in doc.lines) == doc.list_minor
    csv_text = document_csv(doc)
    assert "price_per_gpu_hour,price_from" in csv_text
    assert csv_text.count(",28.00,2024-10-01T00:00:00Z") == 1
    assert csv_text.count(",30.00,2026-10-15T00:00:00Z") == 1


def test_an_unpriced_type_is_held_with_the_fix_then_released_once_priced(
    session: Session, clock: ManualClock
) -> None:
    fi.organisation_row(session, clock, "New kit org", "newkit")
    seed_assumed_prices(session, clock)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    end = datetime(2026, 10, 20, tzinfo=UTC)
    ingest_usage(session, clock, [fm.record(1, "newkit", end=end, gpu_type="b200")])
    held = session.scalars(select(UsageQuarantine)).one()
    assert held.reason == QuarantineReason.UNKNOWN_ACCELERATOR
    assert "computeport prices draft gpu-hour b200" in held.detail
    assert "computeport billing quarantine --release" in held.detail
    # The first price of a type never priced may start in the past: nothing was rated at it.
    operator = _staff(session, clock, Role.OPERATOR)
    officer = _staff(session, clock, Role.SCHEME_OFFICER)
    change = draft_change(
        session,
        clock,
        operator,
        PriceChangeRequest(
            PriceKind.GPU_HOUR, "b200", Decimal("45.00"), datetime(2026, 10, 1, tzinfo=UTC), "new"
        ),
    )
    version = approve_change(session, clock, officer, change.id)
    assert release_quarantine(session, clock).released == 1
    post_all(session, clock)
    charge = session.scalars(select(UsageCharge)).one()
    assert (charge.price_version_id, charge.list_minor) == (version.id, 36_000)


_changes = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=300 * 24),  # hours after BASE
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda c: c[0],
)
_jobs = st.lists(
    # (which change the job ends near, minutes from it: -3 h … +3 h, GPUs): the ends cluster
    # around the instants a version starts, where "in force at the job's end" is decided.
    st.tuples(st.integers(0, 4), st.integers(-180, 180), st.integers(1, 16)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=_changes, jobs=_jobs)
def test_every_charge_is_rated_by_the_version_in_force_at_its_end(
    session: Session,
    clock: ManualClock,
    changes: list[tuple[int, Decimal]],
    jobs: list[tuple[int, int, int]],
) -> None:
    nested = session.begin_nested()
    try:
        clock.set(BASE + timedelta(days=400))
        fi.organisation_row(session, clock, "Property org", "prop")
        first = set_price(session, clock, "h800", Decimal("28.00"), PRICING_EPOCH)
        versions = [(PRICING_EPOCH, first.id, Decimal("28.00"))]
        for hours, price in sorted(changes):
            v = set_price(session, clock, "h800", price, BASE + timedelta(hours=hours))
            versions.append((v.valid_from, v.id, price))
        starts = [v[0] for v in versions[1:]]
        ends = [(starts[n % len(starts)] + timedelta(minutes=m), g) for n, m, g in jobs]
        records = [
            fm.record(i, "prop", end=end, gpus=g, qos="normal") for i, (end, g) in enumerate(ends)
        ]
        ingest_usage(session, clock, records)
        post_all(session, clock)
        charges = {c.job_id: c for c in session.scalars(select(UsageCharge))}
        assert len(charges) == len(records)
        for i, (end, gpus) in enumerate(ends):
            # The version in force: the last one starting at or before the end (half-open).
            _, version_id, price = [v for v in versions if v[0] <= end][-1]
            charge = charges[str(i)]
            assert charge.price_version_id == version_id
            assert charge.list_minor == charge_minor(gpus * 3600, price * 100)
    finally:
        nested.rollback()
        session.expire_all()
