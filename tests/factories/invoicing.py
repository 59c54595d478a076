"""Invoicing through the API: an organisation with an award, a month of usage (October 2026)
and that period closed, so it has an invoice and its scheme a statement."""

from __future__ import annotations

from datetime import UTC, datetime

from computeport.billing.posting import post_all
from computeport.invoicing.close import close_period
from computeport.metering.ingest import ingest_usage
from tests.api.fixtures import Actor, World
from tests.factories import award as fw
from tests.factories import metering as fm
from tests.factories import pricing as fp
from tests.factories import scheme as fs


class Billed:
    """An organisation with an award, a month of usage and a closed period."""

    def __init__(self, world: World) -> None:
        self.org = world.actors.organisation()
        self.owner: Actor = world.actors.applicant(self.org)
        sch = fs.scheme_row(world.session, world.clock)
        self.award = fw.award(
            world.session, world.clock, sch, self.org, f"api-{self.org.id.hex[:8]}"
        )
        fp.prices(world.session, world.clock)
        world.clock.set(datetime(2026, 11, 2, tzinfo=UTC))
        end = datetime(2026, 10, 9, tzinfo=UTC)
        ingest_usage(
            world.session,
            world.clock,
            [fm.record(i, self.award.slurm_account, end=end.replace(hour=i)) for i in range(3)],
        )
        post_all(world.session, world.clock)
        report = close_period(world.session, world.clock, "2026-10")
        self.invoice, self.statement = report.documents
        world.session.flush()
