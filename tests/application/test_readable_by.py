"""Property: application lists never leak — for any subject, ``list_applications`` returns
exactly the applications the visibility rule allows, and ``get_application`` agrees."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from computeport.application import service
from computeport.application.errors import ApplicationNotFound, DeclarationRequired
from computeport.identity.subject import Subject
from computeport.models.application import Application
from computeport.models.identity import ORGANISATION_ROLES, STAFF_ROLES, Role
from computeport.models.review import AssignmentStatus, ReviewAssignment
from tests.factories import application as fa
from tests.factories import identity as fi
from tests.factories import scheme as fs

ORGS = 3
APPS_PER_ORG = 2
READ_ALL = {Role.SCHEME_OFFICER, Role.COMMITTEE_MEMBER, Role.OPERATOR}
REVIEWER_SEES = {AssignmentStatus.ACTIVE, AssignmentStatus.SUBMITTED}

subjects = st.fixed_dictionaries(
    {
        "staff": st.frozensets(st.sampled_from(sorted(STAFF_ROLES))),
        "orgs": st.dictionaries(
            st.integers(0, ORGS - 1), st.sampled_from(sorted(ORGANISATION_ROLES)), max_size=ORGS
        ),
        "assignments": st.dictionaries(
            st.integers(0, ORGS * APPS_PER_ORG - 1),
            st.sampled_from(list(AssignmentStatus)),
            max_size=3,
        ),
    }
)


def expected_visible(
    subject: Subject, apps: list[Application], assignments: dict[int, AssignmentStatus]
) -> set[uuid.UUID]:
    if subject.staff_roles & READ_ALL:
        return {a.id for a in apps}
    seen = {a.id for a in apps if a.organisation_id in subject.organisation_ids}
    if Role.REVIEWER in subject.staff_roles:
        seen |= {apps[i].id for i, status in assignments.items() if status in REVIEWER_SEES}
    return seen


@pytest.fixture
def world(session: Session) -> tuple[list[uuid.UUID], list[Application]]:
    scheme = fs.scheme(session)
    orgs = [fi.organisation(session) for _ in range(ORGS)]
    apps = [
        fa.application(session, scheme=scheme, organisation=org)
        for org in orgs
        for _ in range(APPS_PER_ORG)
    ]
    return [o.id for o in orgs], apps


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=subjects)
def test_lists_never_leak(
    session: Session,
    world: tuple[list[uuid.UUID], list[Application]],
    spec: dict[str, Any],
) -> None:
    org_ids, apps = world
    savepoint = session.begin_nested()
    try:
        user = fi.user(session)
        for index, status in spec["assignments"].items():
            session.add(
                ReviewAssignment(
                    application_id=apps[index].id,
                    reviewer_id=user.id,
                    status=status,
                    created_at=fa.T,
                )
            )
        session.flush()
        subject = Subject(
            user.id,
            user.email,
            spec["staff"],
            {org_ids[i]: frozenset({role}) for i, role in spec["orgs"].items()},
        )
        expected = expected_visible(subject, apps, spec["assignments"])
        listed = {a.id for a in service.list_applications(session, subject, limit=1000)}
        assert listed & {a.id for a in apps} == expected
        for index, app in enumerate(apps):
            if app.id in expected:
                assert service.get_application(session, subject, app.id).id == app.id
                continue
            awaiting = (
                Role.REVIEWER in subject.staff_roles
                and spec["assignments"].get(index) is AssignmentStatus.AWAITING_DECLARATION
            )
            with pytest.raises(DeclarationRequired if awaiting else ApplicationNotFound):
                service.get_application(session, subject, app.id)
    finally:
        savepoint.rollback()
