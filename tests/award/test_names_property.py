"""Property: organisations and awards made in one instant still get Slurm names of their own.

The defect this guards: an organisation's parent account was ``org_<first 12 hex of its id>``,
the millisecond of a UUIDv7, so a seed that made organisations within one millisecond put
them under one Slurm parent.  Here the wall clock *and* the id clock are frozen (every id shares
its first 12 hex digits), names are drawn to slug alike (``"a A"``, ``"A-a"``…), and reconcile's
desired state must still give each organisation its own parent and each award its own account
and QOS — on SQLite and PostgreSQL (the ``session`` fixture runs on both).
"""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

import computeport.kit.ids
from computeport.award.desired import desired_state_from_awards
from computeport.backends import CreateQos
from computeport.backends.plan import ActualState, plan_changes
from computeport.identity.service import create_organisation
from computeport.kit.clock import ManualClock
from computeport.kit.slurm_names import MAX_GENERATED, SLURM_NAME_RE
from computeport.models.identity import OrganisationCategory
from tests.factories import award as builders

FROZEN_NS = 1_790_000_000_123_456_789  # one instant, to the nanosecond

# Few characters, so that different names often slug alike ("a a" and "A-A" → "a_a").
names = st.text(alphabet="aA -", min_size=1, max_size=6).filter(lambda n: n.strip())
organisations = st.lists(
    st.tuples(names, st.integers(min_value=1, max_value=3)),
    min_size=2,
    max_size=6,
    unique_by=lambda org: org[0].strip(),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(organisations)
def test_same_instant_organisations_and_awards_get_their_own_names(
    session: Session, clock: ManualClock, orgs: list[tuple[str, int]]
) -> None:
    frozen = SimpleNamespace(time_ns=lambda: FROZEN_NS)
    savepoint = session.begin_nested()  # each example starts from the same empty state
    try:
        with mock.patch.object(computeport.kit.ids, "time", frozen):
            scheme = builders.scheme(session)
            made = []
            for name, award_count in orgs:
                org = create_organisation(
                    session, name=name, category=OrganisationCategory.ENTERPRISE, at=clock.now()
                )
                awards = [
                    builders.approved_award(session, clock, scheme, organisation=org)
                    for _ in range(award_count)
                ]
                made.append((org, awards))
        assert len({org.id.hex[:12] for org, _ in made}) == 1  # the old rule would collide

        desired = desired_state_from_awards(session, builders.START)
        by_account = {a.account_name: a for a in desired.allocations}
        parents = {org.slurm_account for org, _ in made}
        assert len(parents) == len(made)  # one parent per organisation
        for org, awards in made:
            for award in awards:
                assert by_account[award.slurm_account].org_account == org.slurm_account
        accounts = [a.account_name for a in desired.allocations]
        assert len(accounts) == len(set(accounts)) == sum(n for _, n in orgs)
        plan = plan_changes(desired, ActualState({}, {}, frozenset(), {}))
        qos = [c.name for c in plan.changes if isinstance(c, CreateQos)]
        assert sorted(qos) == sorted(set(qos)) == sorted(accounts)  # each award its own QOS
        assert not set(accounts) & parents
        for name in [*accounts, *parents]:
            assert SLURM_NAME_RE.match(name), name
            assert len(name) <= MAX_GENERATED, name
    finally:
        savepoint.rollback()
