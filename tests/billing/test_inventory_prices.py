"""Every accelerator type the inventory's clusters run needs a GPU-hour price in force.

The shipped Cyberport file against rate cards built on both engines: what is missing is named
at the line of the partition's ``accelerator`` key, a planned cluster is checked at its
commissioning date, a site's price covers only that site, and a retired cluster needs none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from computeport.billing.inventory_prices import price_problems, rate_card_for, require_prices
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.errors import InventoryInvalid
from computeport.kit.clock import ManualClock
from computeport.models.pricing import PriceKind
from computeport.pricing.service import append_version
from tests.inventory.inventory_files import cyberport_text, line_number

TODAY = date(2026, 10, 1)


def _price(
    session: Session,
    kind_of: str,
    start: date,
    *,
    site: str | None = None,
    cluster: str | None = None,
) -> None:
    append_version(
        session,
        ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
        PriceKind.GPU_HOUR,
        kind_of,
        Decimal("30"),
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        site=site,
        cluster=cluster,
    )


def _problems(session: Session, text: str) -> list[str]:
    decl = parse_inventory(text, "centre.toml")
    found = price_problems(decl, text, rate_card_for(session, decl), TODAY)
    return [p.render("centre.toml") for p in found]


def test_require_prices_raises_with_every_problem(session: Session) -> None:
    text = cyberport_text()
    with pytest.raises(InventoryInvalid) as refused:
        require_prices(session, parse_inventory(text), text, "centre.toml", TODAY)
    assert refused.value.message == "\n".join(_problems(session, text))
    assert refused.value.field == "clusters.cyberport-h800.partitions.gpu.accelerator"


def test_an_empty_rate_card_names_every_partition_at_its_line(session: Session) -> None:
    text = cyberport_text()
    found = _problems(session, text)
    h800, accel = 'accelerator = "h800"', 'accelerator = "cn-accel-a"'
    assert [p.split(": ")[0] for p in found] == [
        f"centre.toml:{line_number(text, h800, 1)}",
        f"centre.toml:{line_number(text, h800, 2)}",
        f"centre.toml:{line_number(text, accel)}",
    ]
    assert found[0].split(": ")[1] == "clusters.cyberport-h800.partitions.gpu.accelerator"
    assert "'h800' on 2026-10-01 (cluster cyberport-h800, site cyberport)" in found[0]
    # the planned cluster is checked on its commissioning date, not today
    assert "'cn-accel-a' on 2027-07-01 (cluster sandy-ridge-a, site sandy-ridge)" in found[2]


def test_a_price_drafted_ahead_covers_a_planned_cluster_from_its_commissioning(
    session: Session,
) -> None:
    text = cyberport_text()
    _price(session, "h800", date(2024, 10, 1))
    assert len(_problems(session, text)) == 1  # cn-accel-a still has none

    _price(session, "cn-accel-a", date(2027, 7, 2), site="sandy-ridge")
    late = _problems(session, text)
    assert len(late) == 1
    assert "on 2027-07-01" in late[0]  # from the day after: still missing on the day

    _price(session, "cn-accel-a", date(2027, 6, 1), cluster="sandy-ridge-a")  # the cluster's own
    assert _problems(session, text) == []


def test_a_site_price_covers_only_its_own_site(session: Session) -> None:
    _price(session, "h800", date(2024, 10, 1))
    _price(session, "cn-accel-a", date(2024, 10, 1), site="cyberport")
    found = _problems(session, cyberport_text())
    assert len(found) == 1
    assert "clusters.sandy-ridge-a.partitions.gpu.accelerator" in found[0]


@pytest.mark.parametrize(("status", "missing"), [("retired", 0), ("active", 1)])
def test_a_retired_cluster_needs_no_price(session: Session, status: str, missing: int) -> None:
    _price(session, "h800", date(2024, 10, 1))
    text = (
        cyberport_text()
        .replace(
            'status = "planned"\ncommissioned = 2027', f'status = "{status}"\ncommissioned = 2027'
        )
        .replace('status = "planned"\nopened', 'status = "active"\nopened')
    )
    assert len(_problems(session, text)) == missing
