"""Rating per site: a record names its cluster, the inventory places the cluster at a site, and
the record is rated by the most specific price in force at its end (cluster > site > centre)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.billing.posting import post_all
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.invoicing.close import close_period
from computeport.invoicing.render import document_csv, document_html
from computeport.kit.clock import ManualClock
from computeport.kit.money import charge_minor
from computeport.metering.ingest import ingest_usage
from computeport.models.invoicing import BillingDocument
from computeport.models.metering import UsageCharge
from computeport.pricing.book import PriceBook
from computeport.pricing.service import (
    PRICING_EPOCH,
    price_in_force,
    seed_assumed_prices,
    set_price,
)
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import scheme as fs

BASE = datetime(2026, 1, 1, tzinfo=UTC)

TWO_SITES = """\
[accelerators.h800]
vendor = "NVIDIA"
model = "H800"
memory_gb = 80
peak_pflops = 0.99

[sites.cyberport]
name = "Cyberport"

[sites.sandy-ridge]
name = "Sandy Ridge"

[clusters.alpha]
site = "cyberport"
backend = "sim"

[clusters.alpha.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 4

[clusters.ridge-a]
site = "sandy-ridge"
backend = "sim"

[clusters.ridge-a.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 4

[clusters.ridge-b]
site = "sandy-ridge"
backend = "sim"

[clusters.ridge-b.partitions.gpu]
accelerator = "h800"
gpus_per_node = 8
nodes = 2
"""
"""Cyberport with one cluster, Sandy Ridge with two."""

SITE_OF = {"alpha": "cyberport", "ridge-a": "sandy-ridge", "ridge-b": "sandy-ridge"}
CLUSTERS = [*SITE_OF, "aisc"]  # aisc: a cluster the inventory does not list (today's one)


def _load_sites(session: Session, clock: ManualClock) -> None:
    load_inventory(
        session, parse_inventory(TWO_SITES), actor_id=None, at=clock.now(), source="t.toml"
    )
    session.flush()


def test_a_site_price_rates_every_cluster_there(session: Session, clock: ManualClock) -> None:
    _load_sites(session, clock)
    centre = set_price(session, clock, "h800", Decimal("28.00"), PRICING_EPOCH)
    site = set_price(session, clock, "h800", Decimal("36.00"), BASE, site="sandy-ridge")
    own = set_price(session, clock, "h800", Decimal("40.00"), BASE, cluster="ridge-b")
    later = BASE + timedelta(days=3)
    assert price_in_force(session, "h800", later, cluster="ridge-a").id == site.id
    assert price_in_force(session, "h800", later, cluster="ridge-b").id == own.id
    assert price_in_force(session, "h800", later, cluster="alpha").id == centre.id
    assert price_in_force(session, "h800", later, cluster="aisc").id == centre.id
    # Before the site's price starts, its clusters pay the centre's.
    assert price_in_force(session, "h800", BASE - timedelta(seconds=1), cluster="ridge-a").id == (
        centre.id
    )


def test_without_an_inventory_the_cluster_then_the_centre_price_applies(
    session: Session, clock: ManualClock
) -> None:
    centre = set_price(session, clock, "h800", Decimal("28.00"), PRICING_EPOCH)
    set_price(session, clock, "h800", Decimal("36.00"), BASE, site="sandy-ridge")
    own = set_price(session, clock, "h800", Decimal("40.00"), BASE, cluster="aisc")
    book = PriceBook.load(session)
    assert book.site_of("aisc") is None
    assert book.at("h800", (BASE + timedelta(days=1)).timestamp(), cluster="aisc") == (
        price_in_force(session, "h800", BASE + timedelta(days=1), cluster="aisc")
    )
    assert price_in_force(session, "h800", BASE, cluster="aisc").id == own.id
    assert price_in_force(session, "h800", BASE, cluster="ridge-a").id == centre.id


_scope = st.sampled_from(
    [("sandy-ridge", None), ("cyberport", None), (None, "ridge-b"), (None, "alpha"), (None, "aisc")]
)
_prices = st.lists(
    st.tuples(
        _scope,
        st.integers(min_value=1, max_value=200 * 24),  # hours after BASE
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda p: (p[0], p[1]),
)
_jobs = st.lists(
    # (cluster, which price the job ends near, minutes from its start, GPUs)
    st.tuples(
        st.sampled_from(CLUSTERS), st.integers(0, 7), st.integers(-120, 120), st.integers(1, 16)
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(prices=_prices, jobs=_jobs)
def test_a_record_is_rated_by_the_most_specific_price_in_force_at_its_end(
    session: Session,
    clock: ManualClock,
    prices: list[tuple[tuple[str | None, str | None], int, Decimal]],
    jobs: list[tuple[str, int, int, int]],
) -> None:
    nested = session.begin_nested()
    try:
        clock.set(BASE + timedelta(days=400))
        _load_sites(session, clock)
        fi.organisation_row(session, clock, "Site org", "siteorg")
        first = set_price(session, clock, "h800", Decimal("28.00"), PRICING_EPOCH)
        versions: list[tuple[tuple[str | None, str | None], datetime, uuid.UUID, Decimal]]
        versions = [((None, None), PRICING_EPOCH, first.id, Decimal("28.00"))]
        for (site, cluster), hours, price in sorted(prices, key=lambda p: p[1]):
            start = BASE + timedelta(hours=hours)
            v = set_price(session, clock, "h800", price, start, site=site, cluster=cluster)
            versions.append(((site, cluster), start, v.id, price))
        starts = [v[1] for v in versions[1:]]
        ends = [(c, starts[n % len(starts)] + timedelta(minutes=m), g) for c, n, m, g in jobs]
        records = [
            fm.record(i, "siteorg", end=end, gpus=g, qos="normal", cluster=c)
            for i, (c, end, g) in enumerate(ends)
        ]
        ingest_usage(session, clock, records)
        post_all(session, clock)
        charges = {(c.cluster, c.job_id): c for c in session.scalars(select(UsageCharge))}
        assert len(charges) == len(records)
        for i, (cluster, end, gpus) in enumerate(ends):
            # Most specific scope first; within a scope, the last version starting by the end.
            expected = None
            for scope in ((None, cluster), (SITE_OF.get(cluster), None), (None, None)):
                in_force = [v for v in versions if v[0] == scope and v[1] <= end]
                if in_force:
                    expected = in_force[-1]
                    break
            assert expected is not None
            charge = charges[(cluster, str(i))]
            assert charge.price_version_id == expected[2]
            assert charge.list_minor == charge_minor(gpus * 3600, expected[3] * 100)
    finally:
        nested.rollback()
        session.expire_all()


def test_an_invoice_line_names_the_site_of_its_price(session: Session, clock: ManualClock) -> None:
    _load_sites(session, clock)
    org = fi.organisation(session, at=clock.now())
    fw.award(session, clock, fs.scheme_row(session, clock), org, "ridge-acct")
    seed_assumed_prices(session, clock)
    site = set_price(session, clock, "h800", Decimal("36.00"), BASE, site="sandy-ridge")
    clock.set(datetime(2026, 11, 2, tzinfo=UTC))
    end = datetime(2026, 10, 9, tzinfo=UTC)
    clusters = ("alpha", "ridge-a", "ridge-b")
    records = [fm.record(i, "ridge-acct", end=end, cluster=c) for i, c in enumerate(clusters)]
    ingest_usage(session, clock, records)
    post_all(session, clock)
    number = close_period(session, clock, "2026-10").documents[0]
    doc = session.scalars(select(BillingDocument).where(BillingDocument.number == number)).one()
    lines = sorted((ln.jobs, ln.unit_price, ln.price_version_id) for ln in doc.lines)
    assert lines[0][:2] == (1, Decimal("28.00"))  # alpha, at Cyberport: the centre's price
    assert lines[1] == (2, Decimal("36.00"), site.id)  # both Sandy Ridge clusters
    csv_text = document_csv(doc)
    assert csv_text.splitlines()[9].endswith(",price_per_gpu_hour,price_from,price_applies_to")
    assert csv_text.count(",36.00,2026-01-01T00:00:00Z,sandy-ridge\n") == 1
    assert csv_text.count(",28.00,2024-10-01T00:00:00Z,\n") == 1
    assert doc.sha256 == hashlib.sha256(csv_text.encode()).hexdigest()
    assert "from 2026-01-01 at sandy-ridge" in document_html(doc)
