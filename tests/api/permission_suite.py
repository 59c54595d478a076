"""An inheritable API permission suite (after NetBox's ``APITestCase`` mixins).

Every resource's API test class inherits :class:`PermissionSuite`, lists its case names and
builds each case; the suite then checks, for every case:

- anonymous → 401 problem+json; a malformed or unknown token → 401;
- authenticated with the wrong role → 403 (when the case names such an actor);
- an applicant of another organisation → 404 (or the status the case says) — rows of other
  organisations are hidden, not merely refused;
- the allowed actor → the expected 2xx;
- no refused request writes anything (row counts of every table are unchanged).

Example::

    class TestOrganisationApi(PermissionSuite):
        cases = ("get",)

        def build(self, name: str, world: World) -> Case:
            owner = world.actors.applicant()
            org_id = next(iter(owner.subject.organisation_ids))
            return Case(
                "GET", f"/api/v1/organisations/{org_id}", allowed=owner,
                wrong_role=None, other_org=world.actors.applicant(),
            )

Extra tests may sit in the same class; only tests that take ``case_name`` are parametrised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computeport.db.base import Base
from tests.api.fixtures import Actor, World

PROBLEM = "application/problem+json"


class Response(Protocol):
    """What the checks read of a response.

    Structural, because the Starlette test client answers with ``httpx2`` responses while a
    test that talks to a real server (a browser test's identity provider) gets ``httpx`` ones:
    the two classes are unrelated but read alike.
    """

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


@dataclass
class Case:
    """One request and who may or may not make it."""

    method: str
    path: str
    allowed: Actor
    json: Any = None
    files: Any = None
    data: Any = None
    expect: int = 200
    wrong_role: Actor | None = None
    """An authenticated actor whose role does not allow this: expects 403."""
    other_org: Actor | None = None
    """An applicant of an unrelated organisation: expects ``other_org_status``."""
    other_org_status: int = 404
    wrong_role_status: int = 403


def send(client: TestClient, case: Case, headers: dict[str, str] | None) -> Response:
    return client.request(
        case.method,
        case.path,
        json=case.json,
        files=case.files,
        data=case.data,
        headers=headers or {},
    )


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table: a refused request must leave every count unchanged."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


class PermissionSuite:
    """Inherit, set ``cases`` and implement :meth:`build`."""

    cases: ClassVar[tuple[str, ...]] = ()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrise the suite's tests (those taking ``case_name``) by ``cases``."""
        if "case_name" in metafunc.fixturenames:
            metafunc.parametrize("case_name", type(self).cases)

    def build(self, name: str, world: World) -> Case:
        raise NotImplementedError

    def _refused(
        self,
        client: TestClient,
        world: World,
        case: Case,
        headers: dict[str, str] | None,
        status: int,
        *,
        audited: int = 0,
    ) -> dict[str, Any]:
        """Refused with ``status``, leaving nothing behind but ``audited`` audit rows (a failed
        token check is audited: ``identity.throttling``)."""
        before = row_counts(world.session)
        body = assert_problem(send(client, case, headers), status)
        world.session.expire_all()
        expected = {**before, "audit_record": before["audit_record"] + audited}
        assert row_counts(world.session) == expected, "a refused request wrote rows"
        return body

    def test_anonymous_is_401(self, case_name: str, world: World, client: TestClient) -> None:
        case = self.build(case_name, world)
        self._refused(client, world, case, None, 401)

    def test_bad_token_is_401(self, case_name: str, world: World, client: TestClient) -> None:
        case = self.build(case_name, world)
        forged = "cpt_00000000_" + "A" * 43
        for token in (forged, "not-a-token"):
            self._refused(client, world, case, {"Authorization": f"Bearer {token}"}, 401, audited=1)

    def test_wrong_role_is_403(self, case_name: str, world: World, client: TestClient) -> None:
        case = self.build(case_name, world)
        if case.wrong_role is None:
            pytest.skip("every authenticated role may make this request")
        self._refused(client, world, case, case.wrong_role.headers, case.wrong_role_status)

    def test_other_organisation_is_hidden(
        self, case_name: str, world: World, client: TestClient
    ) -> None:
        case = self.build(case_name, world)
        if case.other_org is None:
            pytest.skip("not an organisation-scoped request")
        self._refused(client, world, case, case.other_org.headers, case.other_org_status)

    def test_allowed_succeeds(self, case_name: str, world: World, client: TestClient) -> None:
        case = self.build(case_name, world)
        response = send(client, case, case.allowed.headers)
        assert response.status_code == case.expect, response.text
