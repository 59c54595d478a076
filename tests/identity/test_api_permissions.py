"""Identity resources under the permission suite."""

from __future__ import annotations

from computeport.models.identity import Role
from tests.api.fixtures import World
from tests.api.permission_suite import Case, PermissionSuite


class TestOrganisationPermissions(PermissionSuite):
    cases = ("list", "get", "create", "add_member", "remove_member")

    def build(self, name: str, world: World) -> Case:
        a = world.actors
        owner = a.applicant()
        org_id = next(iter(owner.subject.organisation_ids))
        if name == "list":
            return Case("GET", "/api/v1/organisations", allowed=owner)
        if name == "get":
            return Case(
                "GET", f"/api/v1/organisations/{org_id}", allowed=owner, other_org=a.applicant()
            )
        if name == "create":
            return Case(
                "POST",
                "/api/v1/organisations",
                json={"name": "Harbour AI Ltd", "category": "enterprise"},
                allowed=a.staff(Role.SCHEME_OFFICER),
                wrong_role=a.staff(Role.FUNDER),
                expect=201,
            )
        if name == "remove_member":
            member = a.applicant(a._orgs[0], role=Role.MEMBER)
            membership_id = next(
                m.id for m in member.user.memberships if m.organisation_id == org_id
            )
            return Case(
                "DELETE",
                f"/api/v1/memberships/{membership_id}",
                allowed=owner,
                wrong_role=member,
                other_org=a.applicant(),
                expect=204,
            )
        newcomer = a.nobody()
        return Case(
            "POST",
            f"/api/v1/organisations/{org_id}/memberships",
            json={"user_id": str(newcomer.user.id), "role": "member"},
            allowed=owner,
            wrong_role=a.applicant(a._orgs[0], role=Role.MEMBER),
            other_org=a.applicant(),
            expect=201,
        )


class TestUserPermissions(PermissionSuite):
    cases = ("create", "grant")

    def build(self, name: str, world: World) -> Case:
        a = world.actors
        if name == "create":
            return Case(
                "POST",
                "/api/v1/users",
                json={
                    "email": "new@example.org",
                    "display_name": "New",
                    "posix_username": "newbie",
                },
                allowed=a.staff(Role.OPERATOR),
                wrong_role=a.applicant(),
                expect=201,
            )
        target = a.nobody()
        return Case(
            "POST",
            f"/api/v1/users/{target.user.id}/roles",
            json={"role": "reviewer"},
            allowed=a.staff(Role.SCHEME_OFFICER),
            wrong_role=a.staff(Role.REVIEWER),
            expect=201,
        )


class TestTokenPermissions(PermissionSuite):
    cases = ("list", "create")

    def build(self, name: str, world: World) -> Case:
        a = world.actors
        if name == "list":
            return Case("GET", "/api/v1/tokens", allowed=a.nobody())
        return Case("POST", "/api/v1/tokens", json={"name": "ci"}, allowed=a.nobody(), expect=201)
