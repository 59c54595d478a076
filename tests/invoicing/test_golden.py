"""A hand-checked month: October 2026 of the two-award world (tests/factories/billing.py).

Price: HK$28.00 per H800 GPU-hour = 2,800 cents; charge = GPU-seconds × 2800 / 3600, half-up.

Alpha Labs — award A (70 %, cap 50,000 cents, 1–20 Oct):
  job 1  8 GPU × 1 h   = 28,800 GPU-s → 22,400 ¢; 70 % = 15,680 subsidy, 6,720 due
         (consumed 15,680)
  job 2  4 GPU × 2.5 h = 36,000 GPU-s → 28,000 ¢; 19,600 subsidy, 8,400 due (consumed 35,280)
  job 3  8 GPU × 1 h   → 22,400 ¢; 70 % would be 15,680 but only 50,000 − 35,280 = 14,720 of
         the cap is left: 14,720 subsidy, 7,680 due (cap exhausted)
  job 4  1 GPU × 1 h   → 2,800 ¢; beyond the cap: 0 subsidy, 2,800 due
  job 5  NODE_FAIL 8 GPU × 0.5 h → would be 11,200 ¢: credited, not charged
  award A line: 5 jobs, 111,600 GPU-s = 31.0000 GPU-h, list 75,600, subsidy 50,000,
         due 25,600, credited 11,200
  job 6  own account, 2 GPU × 45 min = 5,400 GPU-s → 4,200 ¢ pay-as-you-go
  job 9  award A's account but ends 25 Oct (after the award) → full list price
         1 GPU × 2 h → 5,600 ¢ pay-as-you-go
  pay-as-you-go line: 2 jobs, 12,600 GPU-s = 3.5000 GPU-h, list 9,800, due 9,800
  invoice total: list 85,400, subsidy 50,000, due 35,400

Beta University — award B (90 %, cap 1,000,000 cents):
  job 7  1 GPU × 6 s → 6 × 2800 / 3600 = 4.67 → 5 ¢; 90 % = 4.5 → half-down 4; due 1
  job 8  scavenger (× 0.5): 9 GPU-s × 1400 / 3600 = 3.5 → half-up 4 ¢; 90 % = 3.6 → 4; due 0
  job 10 8 GPU × 10 h = 288,000 GPU-s → 224,000 ¢; 201,600 subsidy; 22,400 due
  job 11 ends 1 Nov 00:00:00 — November (half-open months): not on this invoice
  award B line: 3 jobs, 288,015 GPU-s = 80.0042 GPU-h, list 224,009, subsidy 201,608,
         due 22,401
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv, document_html
from computeport.kit.clock import ManualClock
from computeport.ledger.queries import balance_map, consumed_by_award, unbalanced_journals
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument, DocumentKind
from tests.factories.billing import World

ISSUE = datetime(2026, 11, 1, tzinfo=UTC)


def _close(session: Session, clock: ManualClock) -> tuple[World, list[BillingDocument]]:
    world = World(session, clock)
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    ingest_usage(session, clock, world.october())
    post_all(session, clock)
    report = close_period(session, clock, "2026-10", issue_date=ISSUE)
    docs = [
        session.scalars(select(BillingDocument).where(BillingDocument.number == n)).one()
        for n in report.documents
    ]
    return world, docs


def _lines(doc: BillingDocument) -> list[tuple[str, str, int, int, int, int, int, int]]:
    return [
        (
            ln.award_reference,
            ln.accelerator_type,
            ln.jobs,
            ln.gpu_seconds,
            ln.list_minor,
            ln.subsidy_minor,
            ln.due_minor,
            ln.credited_minor,
        )
        for ln in doc.lines
    ]


def test_the_hand_checked_month(session: Session, clock: ManualClock) -> None:
    world, docs = _close(session, clock)
    ref_a, ref_b = world.award_a.reference, world.award_b.reference
    assert [(d.number, d.kind, d.party_name) for d in docs] == [
        ("INV-2026-10-0001", DocumentKind.INVOICE, "Alpha Labs"),
        ("INV-2026-10-0002", DocumentKind.INVOICE, "Beta University"),
        ("SUB-2026-10-0001", DocumentKind.SUBSIDY_STATEMENT, f"{ref_a} — Alpha Labs"),
        ("SUB-2026-10-0002", DocumentKind.SUBSIDY_STATEMENT, f"{ref_b} — Beta University"),
    ]
    alpha, beta, sub_a, sub_b = docs
    assert _lines(alpha) == [
        (ref_a, "h800", 5, 111_600, 75_600, 50_000, 25_600, 11_200),
        ("pay-as-you-go", "h800", 2, 12_600, 9_800, 0, 9_800, 0),
    ]
    assert (alpha.list_minor, alpha.subsidy_minor, alpha.due_minor) == (85_400, 50_000, 35_400)
    assert _lines(beta) == [(ref_b, "h800", 3, 288_015, 224_009, 201_608, 22_401, 0)]
    assert (beta.list_minor, beta.subsidy_minor, beta.due_minor) == (224_009, 201_608, 22_401)
    assert _lines(sub_a) == [(ref_a, "h800", 5, 111_600, 75_600, 50_000, 25_600, 11_200)]
    assert sub_b.subsidy_minor == 201_608
    assert alpha.due_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_the_month_reconciles_with_the_ledger(session: Session, clock: ManualClock) -> None:
    world, _docs = _close(session, clock)
    balances = balance_map(session)
    # November's job 11 (8 cents... 2,800 list, 90 % = 2,520 subsidy, 280 due) is posted too.
    assert balances["revenue:gpu"] == -(85_400 + 224_009 + 2_800)
    assert balances[f"receivable:{world.alpha.id}"] == 35_400
    assert balances[f"receivable:{world.beta.id}"] == 22_401 + 280
    consumed = consumed_by_award(session, [world.award_a.id, world.award_b.id])
    assert consumed == {world.award_a.id: 50_000, world.award_b.id: 201_608 + 2_520}
    assert unbalanced_journals(session) == []


def test_csv_of_the_first_invoice(session: Session, clock: ManualClock) -> None:
    world, docs = _close(session, clock)
    ref_a = world.award_a.reference
    assert document_csv(docs[0]) == (
        "number,INV-2026-10-0001\n"
        "kind,invoice\n"
        "party,Alpha Labs\n"
        "period,2026-10\n"
        "sequence,0\n"
        "issued,2026-11-01\n"
        "due,2026-12-01\n"
        "currency,HKD\n"
        "\n"
        "award,accelerator,jobs,gpu_hours,list,subsidy,amount_due,credited,"
        "price_per_gpu_hour,price_from\n"
        f"{ref_a},h800,5,31.0000,756.00,500.00,256.00,112.00,28.00,2024-10-01T00:00:00Z\n"
        "pay-as-you-go,h800,2,3.5000,98.00,0.00,98.00,0.00,28.00,2024-10-01T00:00:00Z\n"
        "total,,7,34.5000,854.00,500.00,354.00,112.00,,\n"
    )


def test_documents_render_byte_for_byte_again(session: Session, clock: ManualClock) -> None:
    _, docs = _close(session, clock)
    doc = docs[0]
    html = document_html(doc)
    assert "INV-2026-10-0001" in html
    assert "HK$354.00" in html
    assert document_html(doc) == html
    assert doc.sha256 == hashlib.sha256(document_csv(doc).encode()).hexdigest()
