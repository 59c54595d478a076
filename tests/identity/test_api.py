"""Identity API behaviour beyond permissions: tokens shown once, bad input, /me."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.identity import Membership, Role
from tests.api.fixtures import Actors
from tests.api.permission_suite import assert_problem


class TestTokensApi:
    def test_token_is_shown_once_then_revocable(self, client: TestClient, actors: Actors) -> None:
        me = actors.nobody()
        created = client.post("/api/v1/tokens", json={"name": "laptop"}, headers=me.headers)
        assert created.status_code == 201
        secret = created.json()["token"]
        listed = client.get("/api/v1/tokens", headers=me.headers).json()
        assert all("token" not in t for t in listed)
        new_headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/me", headers=new_headers).status_code == 200
        revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=me.headers)
        assert revoked.status_code == 200
        assert_problem(client.get("/api/v1/me", headers=new_headers), 401)

    def test_me_lists_roles(self, client: TestClient, actors: Actors) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER, Role.REVIEWER)
        body = client.get("/api/v1/me", headers=officer.headers).json()
        assert body["staff_roles"] == ["reviewer", "scheme_officer"]
        assert body["organisations"] == {}


class TestBadInput:
    def test_unknown_category_names_the_field(self, client: TestClient, actors: Actors) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        body = assert_problem(
            client.post(
                "/api/v1/organisations",
                json={"name": "X", "category": "pirate"},
                headers=officer.headers,
            ),
            422,
        )
        assert body["errors"][0]["field"] == "category"

    def test_malformed_json_is_400(self, client: TestClient, actors: Actors) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        response = client.post(
            "/api/v1/organisations",
            content=b'{"name": ',
            headers={**officer.headers, "content-type": "application/json"},
        )
        assert_problem(response, 400)

    def test_duplicate_organisation_is_409(self, client: TestClient, actors: Actors) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        payload = {"name": "Same Name Ltd", "category": "enterprise"}
        assert (
            client.post("/api/v1/organisations", json=payload, headers=officer.headers).status_code
            == 201
        )
        body = assert_problem(
            client.post("/api/v1/organisations", json=payload, headers=officer.headers), 409
        )
        assert body["field"] == "name"


class TestWhoGrantsWhat:
    """A scheme officer staffs panels and applicant organisations; only operators make
    operators, officers and funders (no one raises rights above their own)."""

    def test_an_officer_cannot_raise_anyone_above_itself(
        self, client: TestClient, actors: Actors
    ) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        someone = actors.nobody()
        for target in (officer, someone):
            for role in ("operator", "scheme_officer", "funder"):
                assert_problem(
                    client.post(
                        f"/api/v1/users/{target.user.id}/roles",
                        json={"role": role},
                        headers=officer.headers,
                    ),
                    403,
                )
        me = client.get("/api/v1/me", headers=officer.headers).json()
        assert me["staff_roles"] == ["scheme_officer"]

    def test_an_officer_staffs_the_panels_and_an_operator_grants_anything(
        self, client: TestClient, actors: Actors
    ) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        operator = actors.staff(Role.OPERATOR)
        someone = actors.nobody()
        url = f"/api/v1/users/{someone.user.id}/roles"
        for role in ("reviewer", "committee_member"):
            granted = client.post(url, json={"role": role}, headers=officer.headers)
            assert granted.status_code == 201, granted.text
        granted = client.post(url, json={"role": "funder"}, headers=operator.headers)
        assert granted.status_code == 201, granted.text
        roles = client.get("/api/v1/me", headers=someone.headers).json()["staff_roles"]
        assert roles == ["committee_member", "funder", "reviewer"]

    def test_an_officer_cannot_take_an_operator_s_role_away(
        self, client: TestClient, actors: Actors, session: Session
    ) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        operator = actors.staff(Role.OPERATOR)
        membership = session.scalars(
            select(Membership).where(Membership.user_id == operator.user.id)
        ).one()
        assert_problem(
            client.delete(f"/api/v1/memberships/{membership.id}", headers=officer.headers), 403
        )
        assert client.get("/api/v1/me", headers=operator.headers).json()["staff_roles"] == [
            "operator"
        ]

    def test_no_one_but_an_operator_grants_roles_to_themselves(
        self, client: TestClient, actors: Actors
    ) -> None:
        officer = actors.staff(Role.SCHEME_OFFICER)
        org = actors.organisation()
        own = f"/api/v1/users/{officer.user.id}/roles"
        for role in ("committee_member", "reviewer"):
            assert_problem(client.post(own, json={"role": role}, headers=officer.headers), 403)
        assert_problem(
            client.post(
                f"/api/v1/organisations/{org.id}/memberships",
                json={"user_id": str(officer.user.id), "role": "org_admin"},
                headers=officer.headers,
            ),
            403,
        )
        assert client.get("/api/v1/me", headers=officer.headers).json()["staff_roles"] == [
            "scheme_officer"
        ]
        operator = actors.staff(Role.OPERATOR)
        granted = client.post(
            f"/api/v1/users/{operator.user.id}/roles",
            json={"role": "funder"},
            headers=operator.headers,
        )
        assert granted.status_code == 201, granted.text

    def test_an_organisation_enrols_no_staff_account(
        self, client: TestClient, actors: Actors
    ) -> None:
        admin = actors.applicant()
        (org_id,) = admin.subject.organisation_ids
        url = f"/api/v1/organisations/{org_id}/memberships"
        reviewer = actors.staff(Role.REVIEWER)
        newcomer = actors.nobody()
        assert_problem(
            client.post(
                url,
                json={"user_id": str(reviewer.user.id), "role": "member"},
                headers=admin.headers,
            ),
            403,
        )
        joined = client.post(
            url, json={"user_id": str(newcomer.user.id), "role": "member"}, headers=admin.headers
        )
        assert joined.status_code == 201, joined.text
        assert client.get("/api/v1/me", headers=reviewer.headers).json()["organisations"] == {}
