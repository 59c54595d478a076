"""The billing desk pages: who may open them, what they show, and the adjustment form."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.billing.payments import record_payment
from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.models.adjustment import Adjustment
from computeport.models.invoicing import BillingDocument, DocumentKind
from computeport.models.metering import QuarantineReason, UsageQuarantine
from computeport.web.views import billing as views_billing
from tests.factories.billing import World
from tests.factories.metering import record
from tests.web.fixtures import Browser, People

DOC_NUMBER_RE = re.compile(r"<td><code>((?:INV|SUB|CN)-[\w-]+)</code></td>")
PAGES = ("/billing", "/billing/ageing", "/billing/ledger", "/billing/adjustments")


def _closed_october(session: Session, clock: ManualClock) -> World:
    """The golden October closed, plus one record held back for an unknown account."""
    world = World(session, clock)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    records = [*world.october(), record(99, "nobody", end=datetime(2026, 10, 3, tzinfo=UTC))]
    ingest_usage(session, clock, records)
    post_all(session, clock)
    close_period(session, clock, "2026-10", issue_date=datetime(2026, 11, 1, tzinfo=UTC))
    session.flush()
    return world


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Adjustment)) or 0)


def test_an_operator_sees_documents_ageing_quarantine_and_balances(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _closed_october(session, clock)
    assert session.scalar(
        select(func.count())
        .select_from(UsageQuarantine)
        .where(UsageQuarantine.reason == QuarantineReason.UNKNOWN_ACCOUNT)
    )
    browser.login(people.operator.email)
    home = browser.client.get("/").text
    assert 'href="/billing"' in home
    docs = browser.client.get("/billing").text
    for number in ("INV-2026-10-0001", "INV-2026-10-0002", "SUB-2026-10-0001"):
        assert number in docs
    assert "HK$354.00" in docs  # Alpha's invoice, as hand-checked in the golden test
    filtered = browser.client.get("/billing?status=statement&period=2026-10").text
    assert "SUB-2026-10-0001" in filtered
    assert "INV-2026-10-0001" not in filtered
    ageing = browser.client.get("/billing/ageing").text
    assert "Alpha Labs" in ageing
    assert "HK$578.01" in ageing
    quarantine = browser.client.get("/billing/quarantine").text
    assert "Unknown account" in quarantine
    assert "99" in quarantine
    ledger = browser.client.get("/billing/ledger").text
    assert "Every journal balances" in ledger
    assert "Alpha Labs" in ledger


def test_the_funder_reads_without_the_form_and_applicants_are_refused(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _closed_october(session, clock)
    browser.login(people.funder.email)
    for page in PAGES:
        assert browser.client.get(page).status_code == 200, page
    assert 'id="adjustment-form"' not in browser.client.get("/billing/adjustments").text
    assert browser.client.get("/billing/quarantine").status_code == 403
    refused = browser.post_form(
        "/billing/adjustments", {"amount_minor": "-1"}, from_page="/billing/adjustments"
    )
    assert getattr(refused, "status_code", None) == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/")})
    browser.login(people.applicant_a.email)
    assert 'href="/billing"' not in browser.client.get("/").text
    for page in PAGES:
        assert browser.client.get(page).status_code == 403, page
    assert _count(session) == 0


def _form(world: World, **change: str) -> dict[str, str]:
    data = {
        "target": "receivable",
        "organisation_id": str(world.alpha.id),
        "award_id": "",
        "amount_minor": "-12.50",
        "period": "2026-10",
        "reason": "goodwill: slow queue",
        "idempotency_key": "WEB-1",
    }
    data.update(change)
    return data


def test_an_operator_posts_an_adjustment_once_even_when_the_form_is_sent_twice(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    world = _closed_october(session, clock)
    browser.login(people.operator.email)
    for _ in range(2):
        posted = browser.post_form(
            "/billing/adjustments", _form(world), from_page="/billing/adjustments"
        )
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == "/billing/adjustments?posted=WEB-1"
    assert _count(session) == 1
    page = browser.client.get("/billing/adjustments?posted=WEB-1").text
    assert "Adjustment WEB-1 posted." in page
    assert "-HK$12.50" in page
    assert "with the 2026-11 close" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount_minor": "12.345"}, "amount_minor", "at most two decimals"),
        ({"amount_minor": "0"}, "amount_minor", "non-zero"),
        ({"reason": " "}, "reason", "required"),
        ({"period": "October"}, "period", "2026-10"),
        ({"target": "subsidy", "organisation_id": ""}, "award_id", "names its award"),
        ({"target": "subsidy", "award_id": "AWARD_B"}, "award_id", "another organisation"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_writes_nothing(
    browser: Browser,
    people: People,
    session: Session,
    clock: ManualClock,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    world = _closed_october(session, clock)
    if change.get("award_id") == "AWARD_B":
        change = {**change, "award_id": str(world.award_b.id)}
    browser.login(people.operator.email)
    response = browser.post_form(
        "/billing/adjustments", _form(world, **change), from_page="/billing/adjustments"
    )
    assert response.status_code == 400
    html = response.text
    error = html.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error next to {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert f'aria-describedby="{field}-error"' in html
    assert _count(session) == 0


def test_a_post_without_the_csrf_token_is_refused(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    world = _closed_october(session, clock)
    browser.login(people.operator.email)
    response = browser.client.post("/billing/adjustments", data=_form(world))
    assert response.status_code == 403
    assert _count(session) == 0


def test_the_desk_reads_in_traditional_chinese(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    _closed_october(session, clock)
    browser.login(people.operator.email)
    switched = browser.post_form(
        "/lang", {"locale": "zh-Hant", "next": "/billing"}, from_page="/billing"
    )
    assert switched.status_code == 303
    page = browser.client.get("/billing/adjustments").text
    assert '<html lang="zh-Hant">' in page
    for text in ("帳務處", "記入調整", "所調整月份", "機構應收帳款"):
        assert text in page
    assert "未付" in browser.client.get("/billing").text  # October's invoices: open, not yet due


def test_with_nothing_closed_the_desk_says_when_documents_come(
    browser: Browser, people: People
) -> None:
    browser.login(people.operator.email)
    assert "they are issued when a month closes" in browser.client.get("/billing").text


def test_the_list_filters_counts_and_totals_in_the_database_a_page_at_a_time(
    browser: Browser,
    people: People,
    session: Session,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Status is computed by the query, so a filter, the count and the totals cover every
    matching document, not only those on the page shown."""
    _closed_october(session, clock)
    invoices = session.scalars(
        select(BillingDocument)
        .where(BillingDocument.kind == DocumentKind.INVOICE, BillingDocument.due_minor > 0)
        .order_by(BillingDocument.number)
    ).all()
    assert len(invoices) >= 2
    paid_one = invoices[0]
    record_payment(
        session, clock, number=paid_one.number, amount_minor=paid_one.due_minor, reference="T-1"
    )
    clock.set(max(d.due_at for d in invoices) + timedelta(days=1))
    session.flush()
    browser.login(people.operator.email)

    overdue = browser.client.get("/billing?status=overdue").text
    assert paid_one.number not in overdue
    for doc in invoices[1:]:
        assert doc.number in overdue
    assert f"({len(invoices) - 1})" in overdue  # the count of what matches
    paid = browser.client.get("/billing?status=paid").text
    assert paid_one.number in paid
    assert f"HK${paid_one.due_minor / 100:,.2f}" in paid

    every = session.scalars(select(BillingDocument)).all()
    monkeypatch.setattr(views_billing, "PAGE", 2)
    seen: list[str] = []
    page = browser.client.get("/billing").text
    for number in range(1, len(every)):
        seen += DOC_NUMBER_RE.findall(page)
        assert f"of {len(every)}" in page
        assert f"HK${sum(d.due_minor for d in every) / 100:,.2f}" in page  # totals of all
        if 'rel="next"' not in page:
            break
        page = browser.client.get(f"/billing?page={number + 1}").text
    assert sorted(seen) == sorted(d.number for d in every)
    past_the_end = browser.client.get("/billing?page=999").text
    assert 'rel="next"' not in past_the_end
    assert 'rel="prev"' in past_the_end
    assert browser.client.get("/billing?page=abc").status_code == 200
    assert browser.client.get("/billing?page=" + "9" * 5000).status_code == 200  # int() refused


def test_an_unreadable_accounting_record_is_held_on_the_quarantine_page(
    browser: Browser, people: People, session: Session, clock: ManualClock
) -> None:
    # What Slurm ingest hands over when neither sacct form can read a job: its key and why.
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    why = "sacct --json: field 'state.current' is missing; sacct --parsable2: field 'End' is 'x'"
    held = replace(record(30, "aiss-a", end=datetime(2026, 10, 3, tzinfo=UTC)), unreadable=why)
    assert ingest_usage(session, clock, [held]).quarantined == {"unreadable_record": 1}
    session.flush()
    browser.login(people.operator.email)
    page = browser.client.get("/billing/quarantine").text
    assert "Unreadable record" in page
    assert "<code>30</code>" in page
    assert "field &#39;End&#39; is &#39;x&#39;" in page  # the field and why, escaped
    browser.post_form("/lang", {"locale": "zh-Hant", "next": "/billing"}, from_page="/billing")
    assert "記錄無法讀取" in browser.client.get("/billing/quarantine").text
