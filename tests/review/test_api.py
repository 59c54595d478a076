"""Review API: the permission suite, and the declare-before-you-see rule over HTTP."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from computeport.identity.service import subject_for
from computeport.models.application import ApplicationStatus
from computeport.models.identity import Role
from computeport.review import service
from tests.api.fixtures import Actor, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem, row_counts
from tests.factories import application as fa
from tests.factories import review as fr
from tests.factories import scheme as fs

S = ApplicationStatus
SEVENS = {"scores": {c.key: {"score": 7} for c in fs.AISS_RUBRIC}}


def _reviewer_with_assignment(world: World, *, declared: bool) -> tuple[Actor, str, str]:
    """A reviewer actor, an assignment id and its application id (under review)."""
    app = fa.application(world.session, status=S.UNDER_REVIEW)
    reviewer = world.actors.staff(Role.REVIEWER)
    assignment = fr.assignment(world.session, app, reviewer.user, declared=declared)
    return reviewer, str(assignment.id), str(app.id)


class TestReviewPermissions(PermissionSuite):
    cases = ("assign", "panel", "mine", "declare", "score", "submit", "withdraw")

    def build(self, name: str, world: World) -> Case:
        a, s = world.actors, world.session
        match name:
            case "assign":
                app = fa.application(s, status=S.SUBMITTED)
                candidate = fr.reviewer(s)
                return Case(
                    "POST",
                    f"/api/v1/applications/{app.id}/reviewers",
                    json={"reviewer_id": str(candidate.id)},
                    allowed=a.staff(Role.SCHEME_OFFICER),
                    wrong_role=a.staff(Role.REVIEWER),
                    expect=201,
                )
            case "panel":
                app = fa.application(s, status=S.UNDER_REVIEW)
                return Case(
                    "GET",
                    f"/api/v1/applications/{app.id}/reviews",
                    allowed=a.staff(Role.COMMITTEE_MEMBER),
                    wrong_role=a.staff(Role.REVIEWER),
                )
            case "mine":
                return Case("GET", "/api/v1/review-assignments", allowed=a.staff(Role.REVIEWER))
            case "declare":
                reviewer, assignment_id, _ = _reviewer_with_assignment(world, declared=False)
                return Case(
                    "POST",
                    f"/api/v1/review-assignments/{assignment_id}/declaration",
                    json={"has_conflict": False},
                    allowed=reviewer,
                    wrong_role=a.staff(Role.REVIEWER),
                    wrong_role_status=404,
                )
            case "score":
                reviewer, assignment_id, _ = _reviewer_with_assignment(world, declared=True)
                return Case(
                    "PUT",
                    f"/api/v1/review-assignments/{assignment_id}/scores",
                    json=SEVENS,
                    allowed=reviewer,
                    wrong_role=a.staff(Role.REVIEWER),
                    wrong_role_status=404,
                )
            case "submit":
                reviewer, assignment_id, _ = _reviewer_with_assignment(world, declared=True)
                service.score(
                    s,
                    subject_for(s, reviewer.user),
                    uuid.UUID(assignment_id),
                    {k: service.ScoreInput(6) for k in SEVENS["scores"]},
                    at=fa.T,
                )
                return Case(
                    "POST",
                    f"/api/v1/review-assignments/{assignment_id}/submit",
                    json={},
                    allowed=reviewer,
                    wrong_role=a.staff(Role.REVIEWER),
                    wrong_role_status=404,
                )
            case _:
                _reviewer, assignment_id, _ = _reviewer_with_assignment(world, declared=False)
                return Case(
                    "POST",
                    f"/api/v1/review-assignments/{assignment_id}/withdraw",
                    json={"reason": "workload"},
                    allowed=a.staff(Role.SCHEME_OFFICER),
                    wrong_role=a.staff(Role.COMMITTEE_MEMBER),
                )


class TestDeclareBeforeSeeing:
    def test_get_is_403_until_declared_then_200(self, client: TestClient, world: World) -> None:
        reviewer, assignment_id, app_id = _reviewer_with_assignment(world, declared=False)
        problem = assert_problem(
            client.get(f"/api/v1/applications/{app_id}", headers=reviewer.headers), 403
        )
        assert "declare" in problem["detail"]
        assert problem["assignment_id"] == assignment_id
        before = row_counts(world.session)
        problem = assert_problem(
            client.put(
                f"/api/v1/review-assignments/{assignment_id}/scores",
                json=SEVENS,
                headers=reviewer.headers,
            ),
            403,
        )
        assert row_counts(world.session) == before
        declared = client.post(
            f"/api/v1/review-assignments/{assignment_id}/declaration",
            json={"has_conflict": False},
            headers=reviewer.headers,
        )
        assert declared.json()["status"] == "active"
        assert (
            client.get(f"/api/v1/applications/{app_id}", headers=reviewer.headers).status_code
            == 200
        )

    def test_out_of_range_score_is_422_naming_the_criterion(
        self, client: TestClient, world: World
    ) -> None:
        reviewer, assignment_id, _ = _reviewer_with_assignment(world, declared=True)
        problem = assert_problem(
            client.put(
                f"/api/v1/review-assignments/{assignment_id}/scores",
                json={"scores": {"alignment": {"score": 11}}},
                headers=reviewer.headers,
            ),
            422,
        )
        assert problem["errors"][0]["field"] == "scores.alignment.score"
