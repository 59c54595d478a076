"""The billing world of the golden tests: two organisations, two awards, one priced month.

``T0`` is the first instant of that month (1 Oct 2026, UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from computeport.backends import AccountingRecord, JobState
from computeport.kit.clock import ManualClock
from tests.factories import award as fw
from tests.factories import identity as fi
from tests.factories import metering as fm
from tests.factories import pricing as fp
from tests.factories import scheme as fs
from tests.factories.sequence import unique

T0 = datetime(2026, 10, 1, tzinfo=UTC)


class World:
    """The hand-checked month of the golden tests (numbers worked out in test_golden.py).

    - Alpha Labs: award A (account ``aiss-a``, 70 %, cap HK$500.00, 1–20 Oct 2026, payg
      over the cap) and its own account ``alpha`` (pay-as-you-go);
    - Beta University: award B (account ``aiss-b``, 90 %, cap HK$10,000.00, all of 2026).
    Price: the assumed H800 list price, HK$28.00 per GPU-hour; scavenger QOS at half price.
    """

    def __init__(
        self,
        session: Session,
        clock: ManualClock,
        ref_a: str | None = None,
        ref_b: str | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.scheme = fs.scheme_row(session, clock)
        self.alpha = fi.organisation_row(session, clock, "Alpha Labs", "alpha")
        self.beta = fi.organisation_row(session, clock, "Beta University", "beta")
        self.award_a = fw.award(
            session,
            clock,
            self.scheme,
            self.alpha,
            "aiss-a",
            rate="0.7",
            cap_minor=50_000,
            starts=datetime(2026, 10, 1, tzinfo=UTC),
            ends=datetime(2026, 10, 20, tzinfo=UTC),
            reference=ref_a or f"GOLD-{unique(''):0>4}-1",
        )
        self.award_b = fw.award(
            session,
            clock,
            self.scheme,
            self.beta,
            "aiss-b",
            rate="0.9",
            cap_minor=1_000_000,
            starts=datetime(2026, 1, 1, tzinfo=UTC),
            ends=datetime(2027, 1, 1, tzinfo=UTC),
            reference=ref_b or f"GOLD-{unique(''):0>4}-2",
        )
        fp.prices(session, clock)

    def october(self) -> list[AccountingRecord]:
        def d(day: int, hour: int = 12) -> datetime:
            return datetime(2026, 10, day, hour, tzinfo=UTC)

        return [
            fm.record(1, "aiss-a", end=d(2), gpus=8, seconds=3600),
            fm.record(2, "aiss-a", end=d(3), gpus=4, seconds=9000),
            fm.record(3, "aiss-a", end=d(4), gpus=8, seconds=3600),
            fm.record(4, "aiss-a", end=d(5), gpus=1, seconds=3600),
            fm.record(
                5,
                "aiss-a",
                end=d(6),
                gpus=8,
                seconds=1800,
                state=JobState.NODE_FAIL,
                chargeable=False,
            ),
            fm.record(6, "alpha", end=d(7), gpus=2, seconds=2700),
            fm.record(7, "aiss-b", end=d(8), gpus=1, seconds=6),
            fm.record(8, "aiss-b", end=d(9), gpus=1, seconds=9, qos="scavenger"),
            fm.record(9, "aiss-a", end=d(25), gpus=1, seconds=7200),
            fm.record(10, "aiss-b", end=d(28), gpus=8, seconds=36000),
            fm.record(11, "aiss-b", end=datetime(2026, 11, 1, tzinfo=UTC), gpus=1, seconds=3600),
        ]
