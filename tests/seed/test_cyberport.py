"""The Cyberport seed: what it loads, that it is labelled, and that a second run changes nothing."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.db.base import Base
from computeport.envelope.service import envelope_figures, get_scheme
from computeport.identity.passwords import verify_password
from computeport.identity.service import authenticate_token
from computeport.kit.clock import ManualClock
from computeport.models.application import Application, ApplicationStatus
from computeport.models.award import Award, EnvelopeMovement
from computeport.models.identity import Organisation, OrganisationCategory, Role, User
from computeport.models.progress import AwardTranche
from computeport.models.review import AssignmentStatus, ReviewAssignment
from computeport.models.scheme import Call
from computeport.seed.cyberport import DATA, seed_cyberport
from computeport.seed.demo import demo_logins
from computeport.seed.names import organisation_names


def _counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in Base.metadata.sorted_tables
    }


@pytest.mark.slow
def test_seed_loads_the_scenario_and_is_idempotent(session: Session, clock: ManualClock) -> None:
    first = seed_cyberport(session)
    assert first.changed
    scheme = get_scheme(session, code="AISS")

    # the scheme, as the facts give it
    assert scheme.envelope_minor == 3_000_000_000_00
    assert (scheme.default_rate, scheme.max_rate) == (Decimal("0.70"), Decimal("0.90"))
    assert (scheme.period_end.year - scheme.period_start.year, scheme.period_start.month) == (3, 10)
    assert set(scheme.eligible_categories) == {c.value for c in OrganisationCategory}
    weights = {c.key: (c.weight, c.is_assumption) for c in scheme.criteria}
    assert weights["alignment"] == (Decimal("0.25"), False)
    assert weights["compute_reasonableness"] == (Decimal("0.20"), False)
    assert sum(w for w, _ in weights.values()) == 1
    assert all(
        assumed
        for k, (_, assumed) in weights.items()
        if k not in {"alignment", "compute_reasonableness"}
    )
    calls = list(session.scalars(select(Call).where(Call.scheme_id == scheme.id)))
    assert any(c.closes_at is None for c in calls)  # rolling

    # a few hundred invented organisations of all four categories, labelled as assumptions
    orgs = list(session.scalars(select(Organisation)))
    assert 300 <= len(orgs) <= 400
    # one Slurm parent account each, though a seed makes many within one millisecond (issue 19)
    assert len({o.slurm_account for o in orgs}) == len(orgs)
    assert set(Counter(o.category for o in orgs)) == set(OrganisationCategory)
    assert all(o.is_assumption for o in orgs)

    # ~20 applications in realistic states, 10 awards over HK$300M
    apps = list(session.scalars(select(Application).where(Application.scheme_id == scheme.id)))
    states = Counter(a.status for a in apps)
    assert 20 <= len(apps) <= 25
    assert states[ApplicationStatus.APPROVED] == 10
    assert {
        ApplicationStatus.RECOMMENDED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.REJECTED,
    } <= set(states)
    awards = list(session.scalars(select(Award).where(Award.scheme_id == scheme.id)))
    assert len(awards) == 10
    total = sum(a.cap_minor for a in awards)
    assert 300_000_000_00 < total < 500_000_000_00
    assert {line.accelerator_type for a in awards for line in a.lines} == {"h800"}
    exceptional = [a for a in awards if a.subsidy_rate > scheme.default_rate]
    assert exceptional
    assert all(a.rate_reason for a in exceptional)
    figures = envelope_figures(session, scheme)
    moved = session.scalar(select(func.sum(EnvelopeMovement.delta_minor)))
    assert figures.committed_minor == total == moved
    assert figures.remaining_minor == scheme.envelope_minor - total

    # demo logins work: every role's token; one password (argon2 is slow on purpose)
    for login in demo_logins():
        subject = authenticate_token(session, login.token, clock.now())
        assert subject.has_role(login.role)
    admin = demo_logins()[-2]
    user = session.scalars(select(User).where(User.email == admin.email)).one()
    assert user.password_hash is not None
    assert verify_password(user.password_hash, admin.password)

    # the committee has a panel of submitted reviews for what it decided; the demo reviewer has work
    reviewed = {
        a.id
        for a in apps
        if a.status in (ApplicationStatus.APPROVED, ApplicationStatus.RECOMMENDED)
    }
    submitted = Counter(
        r.application_id
        for r in session.scalars(
            select(ReviewAssignment).where(ReviewAssignment.status == AssignmentStatus.SUBMITTED)
        )
    )
    assert all(submitted[a] == 3 for a in reviewed)
    demo_reviewer = next(d for d in demo_logins() if d.role is Role.REVIEWER)
    waiting = session.scalars(
        select(ReviewAssignment)
        .join(User, User.id == ReviewAssignment.reviewer_id)
        .where(
            User.email == demo_reviewer.email,
            ReviewAssignment.status == AssignmentStatus.AWAITING_DECLARATION,
        )
    ).all()
    assert waiting

    # running again changes nothing
    before = _counts(session)
    second = seed_cyberport(session)
    assert not second.changed
    assert _counts(session) == before


@pytest.mark.slow
def test_every_project_of_the_file_is_seeded_as_written(session: Session) -> None:
    """The data file round-trips: each project's row carries the file's values, and the
    committed total is the sum of the approved caps (HK$322M)."""
    seed_cyberport(session)
    scheme = get_scheme(session, code=DATA.scheme.code)
    apps = {
        a.title: a
        for a in session.scalars(select(Application).where(Application.scheme_id == scheme.id))
    }
    assert set(apps) == {p.title for p in DATA.projects}
    awards = {a.application_id: a for a in session.scalars(select(Award))}
    for project in DATA.projects:
        app = apps[project.title]
        org = session.get_one(Organisation, app.organisation_id)
        assert (app.status, app.sector, app.gpus) == (project.status, project.sector, project.gpus)
        assert (app.duration_months, app.created_at) == (project.months, project.created_at)
        assert app.model_parameters == project.model_parameters
        assert org.category is project.category
        if project.organisation is not None:
            assert org.name == project.organisation
        award = awards.get(app.id)
        if project.status is not ApplicationStatus.APPROVED:
            assert award is None
            continue
        assert award is not None
        assert award.cap_minor == project.cap_hkd * 100
        assert award.subsidy_rate == (project.rate or DATA.scheme.default_rate)
        assert award.rate_reason == project.rate_reason
        shares = session.scalars(
            select(AwardTranche.share_bp)
            .where(AwardTranche.award_id == award.id)
            .order_by(AwardTranche.sequence)
        ).all()
        assert tuple(shares) == project.tranches
    committed = sum(p.cap_hkd for p in DATA.projects) * 100
    assert committed == 322_000_000_00
    assert envelope_figures(session, scheme).committed_minor == committed


def test_names_are_deterministic_and_unique() -> None:
    names = [n for n, _, _ in organisation_names()]
    assert names == [n for n, _, _ in organisation_names()]
    assert len(set(names)) == len(names)
