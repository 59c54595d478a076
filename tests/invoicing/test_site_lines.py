"""An invoice shows a line per site and accelerator type, even when the centre's one price
rated both sites; clusters at one site merge into its line; a cluster the inventory does not
place keeps a line without a site; a document with no site keeps the layout it had."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv, document_html
from computeport.kit.clock import ManualClock
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument, DocumentKind
from computeport.pricing.service import seed_assumed_prices
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import scheme as fs
from tests.pricing.test_site_rating import _load_sites

END = datetime(2026, 10, 9, tzinfo=UTC)


def _documents(session: Session, clock: ManualClock, clusters: list[str]) -> list[BillingDocument]:
    org = fi.organisation(session, at=clock.now())
    fw.award(session, clock, fs.scheme_row(session, clock), org, "site-acct")
    seed_assumed_prices(session, clock)  # the centre's price only
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    records = [
        fm.record(i, "site-acct", end=END, cluster=c, gpus=i + 1) for i, c in enumerate(clusters)
    ]
    ingest_usage(session, clock, records)
    post_all(session, clock)
    numbers = close_period(session, clock, "2026-10").documents
    return [
        session.scalars(select(BillingDocument).where(BillingDocument.number == n)).one()
        for n in numbers
    ]


def test_a_line_per_site_at_the_centre_price(session: Session, clock: ManualClock) -> None:
    _load_sites(session, clock)
    docs = _documents(session, clock, ["alpha", "ridge-a", "ridge-b", "aisc"])
    invoice = next(d for d in docs if d.kind == DocumentKind.INVOICE)
    statement = next(d for d in docs if d.kind == DocumentKind.SUBSIDY_STATEMENT)
    for doc in (invoice, statement):
        lines = [(ln.site, ln.jobs, ln.gpu_seconds) for ln in doc.lines]
        assert lines == [
            (None, 1, 4 * 3600),  # aisc: no site (first: an empty site sorts first)
            ("cyberport", 1, 1 * 3600),
            ("sandy-ridge", 2, (2 + 3) * 3600),  # ridge-a and ridge-b in one line
        ]
        assert len({ln.price_version_id for ln in doc.lines}) == 1  # one price rated all
        assert sum(ln.list_minor for ln in doc.lines) == doc.list_minor
        assert sum(ln.subsidy_minor for ln in doc.lines) == doc.subsidy_minor
        assert sum(ln.due_minor for ln in doc.lines) == doc.due_minor
    rows = list(csv.reader(io.StringIO(document_csv(invoice))))
    assert rows[9][:3] == ["award", "site", "accelerator"]
    assert [r[1] for r in rows[10:13]] == ["", "cyberport", "sandy-ridge"]
    assert rows[13][0] == "total"
    assert len(rows[13]) == len(rows[9])
    html = document_html(invoice)
    assert "<th>Site</th>" in html
    assert "<td>sandy-ridge</td>" in html


def test_without_an_inventory_the_document_keeps_its_layout(
    session: Session, clock: ManualClock
) -> None:
    (invoice, *_rest) = _documents(session, clock, ["aisc", "other"])
    assert [(ln.site, ln.jobs) for ln in invoice.lines] == [(None, 2)]  # one line, as before
    header = document_csv(invoice).splitlines()[9]
    assert header.startswith("award,accelerator,")
    assert "<th>Site</th>" not in document_html(invoice)
