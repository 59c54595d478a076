"""On the real local Slurm cluster: organisations made in one instant get a parent each.

The defect (issue 19): two organisations created in the same millisecond both derived
``org_<first 12 hex of the id>`` and ended up under one Slurm parent account.  Here two
organisations are registered with the wall clock and the id clock frozen (their ids share the
first 12 hex digits), each gets an award, ``desired_state_from_awards`` is reconciled onto the
cluster, and ``sacctmgr`` itself must show two parents: each organisation's stored name.  The
test removes what it made (reconcile to nothing) however it ends.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from unittest import mock

import pytest
from sqlalchemy.orm import Session

import computeport.kit.ids
from computeport.award.desired import desired_state_from_awards
from computeport.backends import DesiredState, reconcile
from computeport.backends.slurm import SlurmBackend
from computeport.identity.service import create_organisation
from computeport.kit.clock import ManualClock
from computeport.models.identity import OrganisationCategory
from tests.factories import award as builders
from tests.support.slurm import local_slurm_backend

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]


@pytest.fixture
def backend() -> SlurmBackend:
    return local_slurm_backend()


def test_two_organisations_seeded_together_get_two_parents(
    session: Session, clock: ManualClock, backend: SlurmBackend
) -> None:
    frozen = SimpleNamespace(time_ns=lambda: 1_790_000_000_123_456_789)
    with mock.patch.object(computeport.kit.ids, "time", frozen):
        scheme = builders.scheme(session)
        orgs = [
            create_organisation(
                session, name=name, category=OrganisationCategory.RD_CENTRE, at=clock.now()
            )
            for name in ("Harbourview Generative AI R&D Centre", "Jadesampan AI Limited")
        ]
        awards = [builders.approved_award(session, clock, scheme, organisation=o) for o in orgs]
    assert orgs[0].id.hex[:12] == orgs[1].id.hex[:12]  # one millisecond, as in a seed

    ours = {a.slurm_account for a in awards}
    everything = desired_state_from_awards(session, builders.START)
    desired = DesiredState(tuple(a for a in everything.allocations if a.account_name in ours))
    try:
        reconcile(backend, desired)
        text = backend.runner.run(
            ["sacctmgr", "--parsable2", "--noheader", "show", "assoc",
             f"cluster={backend.cluster}", "format=Account,User,ParentName"]
        ).stdout  # fmt: skip
        rows = [line.split("|") for line in text.splitlines() if line]
        parent_of = {acc: parent for acc, user, parent in rows if acc in ours and not user}
        pairs = zip(awards, orgs, strict=True)
        assert parent_of == {a.slurm_account: o.slurm_account for a, o in pairs}
        assert len(set(parent_of.values())) == 2
        tops = {acc: parent for acc, user, parent in rows if not user}
        assert all(tops[o.slurm_account] == "root" for o in orgs)
        assert backend.plan(desired).empty
    finally:
        deadline = time.monotonic() + 60  # bounded: a deferred removal is retried, no sleep
        while reconcile(backend, DesiredState()).deferred and time.monotonic() < deadline:
            pass
