"""An organisation with an active award on the virtual cluster, and its applicant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from computeport.award.desired import desired_state
from computeport.backends import reconcile
from computeport.backends.sim import SimBackend
from computeport.models.award import Award, AwardLine, AwardStatus
from computeport.models.identity import Role
from tests.api.fixtures import Actor, World
from tests.billing import support
from tests.factories.sequence import unique


@dataclass
class Awarded:
    award: Award
    owner: Actor


def awarded(
    world: World,
    sim: SimBackend,
    *,
    gpu_hours: int = 1000,
    status: AwardStatus = AwardStatus.ACTIVE,
    role: Role = Role.ORG_ADMIN,
) -> Awarded:
    session: Session = world.session
    clock = world.clock
    org = world.actors.organisation()
    sch = support.scheme(session, clock)
    account = unique("aw").replace("-", "_").lower()
    award = support.award(
        session,
        clock,
        sch,
        org,
        account,
        starts=clock.now() - timedelta(days=30),
        ends=clock.now() + timedelta(days=300),
    )
    award.status = status
    session.add(AwardLine(award_id=award.id, accelerator_type="h800", gpu_hours=gpu_hours))
    session.flush()
    owner = world.actors.applicant(org, role=role)
    reconcile(sim, desired_state(session, clock.now()))
    return Awarded(award, owner)


def job_body(award: Award, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "award_id": str(award.id),
        "gpus": 8,
        "time_limit_minutes": 60,
        "expected_run_seconds": 1800,
    }
    body.update(extra)
    return body
