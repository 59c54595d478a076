"""The award API: the permission suite on every resource, and the errors a client sees."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Unpack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from computeport.models.award import Award
from computeport.models.identity import Organisation, Role
from computeport.progress.service import ReportIn, reports_of, submit_report
from tests.api.fixtures import Actor, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem
from tests.factories import award as fw


def _iso(body: dict[str, Any]) -> dict[str, Any]:
    wire: dict[str, Any] = json.loads(json.dumps(body, default=lambda v: v.isoformat()))
    return wire


class _Setup:
    def __init__(self, world: World) -> None:
        self.world = world
        self.scheme = fw.scheme(world.session)
        self.owner: Actor = world.actors.applicant()
        self.org = world.session.get_one(
            Organisation, next(iter(self.owner.subject.organisation_ids))
        )
        self.committee = world.actors.staff(Role.COMMITTEE_MEMBER)

    def award(self, cap_minor: int = 10_000_000_00, **terms: Unpack[fw.ApprovalTerms]) -> Award:
        terms.setdefault("tranche_shares_bp", [5000, 5000])
        return fw.approved_award(
            self.world.session,
            self.world.clock,
            self.scheme,
            cap_minor,
            organisation=self.org,
            **terms,
        )


class TestAwardApiPermissions(PermissionSuite):
    cases = (
        "decide",
        "list",
        "get",
        "amendments",
        "amend",
        "terminate",
        "envelope",
        "reports",
        "submit_report",
        "review_report",
    )

    def build(self, name: str, world: World) -> Case:
        s = _Setup(world)
        other = world.actors.applicant()
        if name == "decide":
            app = fw.application(world.session, s.scheme, s.org)
            return Case(
                "POST",
                f"/api/v1/applications/{app.id}/decision",
                allowed=s.committee,
                json=_iso(fw.approval()),
                wrong_role=world.actors.staff(Role.SCHEME_OFFICER),
                other_org=other,
                other_org_status=403,
            )
        award = s.award()
        if name == "list":
            return Case("GET", "/api/v1/awards", allowed=s.owner)
        if name == "get":
            return Case(
                "GET",
                f"/api/v1/awards/{award.id}",
                allowed=s.owner,
                wrong_role=world.actors.staff(Role.REVIEWER),
                wrong_role_status=404,
                other_org=other,
            )
        if name == "amendments":
            return Case(
                "GET", f"/api/v1/awards/{award.id}/amendments", allowed=s.owner, other_org=other
            )
        if name == "amend":
            return Case(
                "POST",
                f"/api/v1/awards/{award.id}/amendments",
                allowed=s.committee,
                json={"kind": "top_up", "reason": "phase 2", "cap_delta_minor": 100},
                expect=201,
                wrong_role=s.owner,
                other_org=other,
                other_org_status=403,
            )
        if name == "terminate":
            return Case(
                "POST",
                f"/api/v1/awards/{award.id}/terminate",
                allowed=s.committee,
                json={"reason": "project ended"},
                wrong_role=world.actors.staff(Role.FUNDER),
                other_org=other,
                other_org_status=403,
            )
        if name == "envelope":
            return Case(
                "GET",
                f"/api/v1/envelope?scheme={s.scheme.code}",
                allowed=world.actors.staff(Role.FUNDER),
                wrong_role=s.owner,
            )
        first = reports_of(world.session, award.id)[0]
        if name == "reports":
            return Case(
                "GET", f"/api/v1/awards/{award.id}/reports", allowed=s.owner, other_org=other
            )
        if name == "submit_report":
            return Case(
                "POST",
                f"/api/v1/reports/{first.id}/submission",
                allowed=s.owner,
                json={"papers": 1, "narrative": "trained"},
                wrong_role=s.committee,
                other_org=other,
            )
        assert name == "review_report"
        submit_report(
            world.session, first.id, ReportIn(narrative="done"), s.owner.user.id, world.clock
        )
        return Case(
            "POST",
            f"/api/v1/reports/{first.id}/review",
            allowed=s.committee,
            json={"outcome": "accept"},
            wrong_role=s.owner,
            other_org=other,
            other_org_status=403,
        )


def _count(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(Award)) or 0


class TestAwardApiBehaviour:
    def test_approve_returns_the_award_with_released_hours(
        self, world: World, client: TestClient
    ) -> None:
        s = _Setup(world)
        app = fw.application(world.session, s.scheme, s.org)
        body = _iso(fw.approval(gpu_hours=1000, tranche_shares_bp=[5000, 5000]))
        response = client.post(
            f"/api/v1/applications/{app.id}/decision", json=body, headers=s.committee.headers
        )
        assert response.status_code == 200, response.text
        out = response.json()
        assert out["application_status"] == "approved"
        award = out["award"]
        assert Decimal(award["subsidy_rate"]) == Decimal("0.7")
        assert award["lines"] == [
            {"accelerator_type": "h800", "gpu_hours": 1000, "released_gpu_hours": 500}
        ]
        assert [t["state"] for t in award["tranches"]] == ["released", "pending"]
        assert award["starts_at"].endswith("Z")

    def test_the_list_shows_each_award_as_its_own_page_does(
        self, world: World, client: TestClient
    ) -> None:
        """The list loads all awards' tranches at once; each entry must equal the detail."""
        s = _Setup(world)
        for shares in ([5000, 5000], [2000, 8000], None):
            app = fw.application(world.session, s.scheme, s.org)
            approval = fw.approval(gpu_hours=999)
            if shares is not None:
                approval["tranche_shares_bp"] = shares
            body = _iso(approval)
            decided = client.post(
                f"/api/v1/applications/{app.id}/decision", json=body, headers=s.committee.headers
            )
            assert decided.status_code == 200, decided.text
        listed = client.get("/api/v1/awards", headers=s.owner.headers).json()
        assert sorted(len(a["tranches"]) for a in listed) == [1, 2, 2]
        for award in listed:
            alone = client.get(f"/api/v1/awards/{award['id']}", headers=s.owner.headers)
            assert alone.json() == award

    def test_over_the_envelope_is_409_problem_with_remaining(
        self, world: World, client: TestClient
    ) -> None:
        s = _Setup(world)
        s.scheme.envelope_minor = 1_000_00
        app = fw.application(world.session, s.scheme, s.org)
        response = client.post(
            f"/api/v1/applications/{app.id}/decision",
            json=_iso(fw.approval(cap_minor=1_000_01)),
            headers=s.committee.headers,
        )
        problem = assert_problem(response, 409)
        assert problem["remaining_minor"] == 1_000_00
        assert "HK$1,000.00 remaining" in problem["detail"]
        assert _count(world) == 0

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"subsidy_rate": "0.95", "rate_reason": "x"}, "subsidy_rate"),
            ({"subsidy_rate": 0.8, "rate_reason": "x"}, "subsidy_rate"),
            ({"subsidy_rate": "0.8"}, "rate_reason"),
            ({"cap_minor": -5}, "cap_minor"),
            ({"lines": [{"accelerator_type": "h800", "gpu_hours": 0}]}, "lines.0.gpu_hours"),
            (
                {"lines": [{"accelerator_type": "quantum", "gpu_hours": 1}]},
                "lines.0.accelerator_type",
            ),
        ],
    )
    def test_bad_terms_are_422_naming_the_field(
        self, world: World, client: TestClient, change: dict[str, object], field: str
    ) -> None:
        s = _Setup(world)
        app = fw.application(world.session, s.scheme, s.org)
        body = _iso(fw.approval())
        body.update(change)
        response = client.post(
            f"/api/v1/applications/{app.id}/decision", json=body, headers=s.committee.headers
        )
        problem = assert_problem(response, 422)
        assert field in [e["field"] for e in problem["errors"]], problem
        assert _count(world) == 0

    def test_malformed_json_is_400(self, world: World, client: TestClient) -> None:
        s = _Setup(world)
        app = fw.application(world.session, s.scheme, s.org)
        response = client.post(
            f"/api/v1/applications/{app.id}/decision",
            content=b"{not json",
            headers={**s.committee.headers, "content-type": "application/json"},
        )
        assert_problem(response, 400)

    def test_other_organisations_see_no_awards_in_the_list(
        self, world: World, client: TestClient
    ) -> None:
        s = _Setup(world)
        s.award()
        stranger = world.actors.applicant()
        assert client.get("/api/v1/awards", headers=stranger.headers).json() == []
        assert len(client.get("/api/v1/awards", headers=s.owner.headers).json()) == 1
        officer = world.actors.staff(Role.SCHEME_OFFICER)
        assert len(client.get("/api/v1/awards", headers=officer.headers).json()) == 1

    def test_accepting_a_report_releases_the_next_tranche(
        self, world: World, client: TestClient
    ) -> None:
        s = _Setup(world)
        award = s.award(gpu_hours=1000)
        report = reports_of(world.session, award.id)[0]
        r = client.post(
            f"/api/v1/reports/{report.id}/submission",
            json={"models_released": 1, "narrative": "v1 trained"},
            headers=s.owner.headers,
        )
        assert r.status_code == 200, r.text
        r = client.post(
            f"/api/v1/reports/{report.id}/review",
            json={"outcome": "accept"},
            headers=s.committee.headers,
        )
        assert r.json()["status"] == "accepted"
        got = client.get(f"/api/v1/awards/{award.id}", headers=s.owner.headers).json()
        assert got["lines"][0]["released_gpu_hours"] == 1000

    def test_envelope_figures(self, world: World, client: TestClient) -> None:
        s = _Setup(world)
        s.award(cap_minor=123_00)
        funder = world.actors.staff(Role.FUNDER)
        body = client.get(f"/api/v1/envelope?scheme={s.scheme.code}", headers=funder.headers).json()
        assert body["committed_minor"] == 123_00
        assert body["remaining_minor"] == body["total_minor"] - 123_00
        assert body["consumed_minor"] == 0
        enterprise = next(c for c in body["by_category"] if c["category"] == "enterprise")
        assert enterprise == {
            "category": "enterprise",
            "awards": 1,
            "committed_minor": 123_00,
            "consumed_minor": 0,
        }
