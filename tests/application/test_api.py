"""Application API: the permission suite on every resource, bad input, attachments, estimates."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from computeport.models.application import ApplicationStatus
from computeport.models.identity import Role
from computeport.models.scheme import Scheme
from tests.api.fixtures import Actor, Actors, World
from tests.api.permission_suite import Case, PermissionSuite, assert_problem, row_counts
from tests.factories import application as fa
from tests.factories import scheme as fs

S = ApplicationStatus
PDF = b"%PDF-1.7\n" + b"x" * 100


def owned(world: World, status: ApplicationStatus = S.DRAFT) -> tuple[Actor, Any]:
    """An applicant (org admin) and an application of its organisation in ``status``."""
    org = world.actors.organisation()
    owner = world.actors.applicant(org)
    app = fa.application(world.session, organisation=org, applicant=owner.subject, status=status)
    return owner, app


def create_body(world: World, owner: Actor, **over: Any) -> dict[str, Any]:
    scheme = fs.scheme(world.session)
    body: dict[str, Any] = {
        "scheme_id": str(scheme.id),
        "organisation_id": str(next(iter(owner.subject.organisation_ids))),
        "title": "Cantonese LLM",
        "sector": "public services",
        "accelerator_type": "h800",
        "gpus": 64,
        "gpu_hours": 60000,
        "duration_months": 6,
        "model_parameters": 7_000_000_000,
        "dataset_tokens": 2_000_000_000_000,
    }
    body.update(over)
    return body


class TestApplicationPermissions(PermissionSuite):
    cases = (
        "list", "get", "create", "update", "submit", "start_review", "history",
        "upload", "attachments", "estimate",
    )  # fmt: skip

    def build(self, name: str, world: World) -> Case:
        a = world.actors
        owner, app = owned(world, S.SUBMITTED if name == "start_review" else S.DRAFT)
        base = f"/api/v1/applications/{app.id}"
        stranger = a.applicant()
        match name:
            case "list":
                return Case("GET", "/api/v1/applications", allowed=owner)
            case "get":
                return Case("GET", base, allowed=owner, other_org=stranger)
            case "create":
                return Case(
                    "POST",
                    "/api/v1/applications",
                    json=create_body(world, owner),
                    allowed=owner,
                    wrong_role=a.staff(Role.SCHEME_OFFICER),
                    other_org=stranger,
                    expect=201,
                )
            case "update":
                return Case(
                    "PATCH",
                    base,
                    json={"gpus": 32},
                    allowed=owner,
                    wrong_role=a.staff(Role.SCHEME_OFFICER),
                    other_org=stranger,
                )
            case "submit":
                fs.call(world.session, world.session.get_one(Scheme, app.scheme_id))
                return Case(
                    "POST",
                    f"{base}/transitions",
                    json={"to": "submitted"},
                    allowed=owner,
                    wrong_role=a.staff(Role.SCHEME_OFFICER),
                    other_org=stranger,
                )
            case "start_review":
                return Case(
                    "POST",
                    f"{base}/transitions",
                    json={"to": "under_review"},
                    allowed=a.staff(Role.SCHEME_OFFICER),
                    wrong_role=owner,
                    other_org=stranger,
                )
            case "history":
                return Case(
                    "GET",
                    f"{base}/history",
                    allowed=a.staff(Role.COMMITTEE_MEMBER),
                    other_org=stranger,
                )
            case "upload":
                return Case(
                    "POST",
                    f"{base}/attachments",
                    data={"kind": "proposal"},
                    files={"file": ("proposal.pdf", PDF, "application/pdf")},
                    allowed=owner,
                    wrong_role=a.staff(Role.SCHEME_OFFICER),
                    other_org=stranger,
                    expect=201,
                )
            case "attachments":
                return Case("GET", f"{base}/attachments", allowed=owner, other_org=stranger)
            case _:
                return Case(
                    "GET",
                    "/api/v1/estimates/gpu-hours?model_parameters=7000000000&tokens=2000000000000",
                    allowed=a.nobody(),
                )


class TestApplicationApi:
    def test_create_shows_reference_and_estimate(self, client: TestClient, world: World) -> None:
        owner = world.actors.applicant()
        response = client.post(
            "/api/v1/applications", json=create_body(world, owner), headers=owner.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["reference"].endswith("-2026-0001")
        assert body["status"] == "draft"
        assert body["estimate"]["gpu_hours"] == 58953
        assert body["estimate"]["requested_to_estimate"] == "1.02"

    @pytest.mark.parametrize(
        ("over", "field"),
        [
            ({"gpus": 100_001}, "gpus"),
            ({"gpus": -4}, "gpus"),
            ({"gpus": "8"}, "gpus"),
            ({"gpu_hours": 1.5}, "gpu_hours"),
            ({"accelerator_type": "tpu-v5"}, "accelerator_type"),
            ({"precision": "fp4"}, "precision"),
            ({"duration_months": 0}, "duration_months"),
            ({"title": ""}, "title"),
            ({"scheme_id": "not-a-uuid"}, "scheme_id"),
            ({"surprise": 1}, "surprise"),
        ],
    )
    def test_bad_input_is_422_naming_the_field_and_writes_nothing(
        self, client: TestClient, world: World, over: dict[str, Any], field: str
    ) -> None:
        owner = world.actors.applicant()
        body = create_body(world, owner, **over)
        before = row_counts(world.session)
        problem = assert_problem(
            client.post("/api/v1/applications", json=body, headers=owner.headers), 422
        )
        assert field in {e["field"] for e in problem["errors"]}
        assert row_counts(world.session) == before

    def test_malformed_json_is_400(self, client: TestClient, actors: Actors) -> None:
        owner = actors.applicant()
        response = client.post(
            "/api/v1/applications",
            content=b'{"title": "x",',
            headers={**owner.headers, "content-type": "application/json"},
        )
        assert_problem(response, 400)

    def test_illegal_transition_is_409_naming_both_states(
        self, client: TestClient, world: World
    ) -> None:
        _owner, app = owned(world)
        committee = world.actors.staff(Role.COMMITTEE_MEMBER)
        before = row_counts(world.session)
        problem = assert_problem(
            client.post(
                f"/api/v1/applications/{app.id}/transitions",
                json={"to": "recommended"},
                headers=committee.headers,
            ),
            409,
        )
        assert problem["from_state"] == "draft"
        assert problem["to_state"] == "recommended"
        assert row_counts(world.session) == before

    def test_walk_from_draft_to_recommendation(self, client: TestClient, world: World) -> None:
        owner, app = owned(world)
        fs.call(world.session, world.session.get_one(Scheme, app.scheme_id))
        officer = world.actors.staff(Role.SCHEME_OFFICER)
        committee = world.actors.staff(Role.COMMITTEE_MEMBER)
        url = f"/api/v1/applications/{app.id}/transitions"
        steps = [
            (owner, "submitted", ""),
            (officer, "under_review", ""),
            (officer, "revision_requested", "halve the GPU count"),
            (owner, "under_review", "halved"),
            (committee, "recommended", "strong"),
        ]
        for actor, to, reason in steps:
            response = client.post(url, json={"to": to, "reason": reason}, headers=actor.headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == to
        history = client.get(f"/api/v1/applications/{app.id}/history", headers=owner.headers)
        assert [h["to_state"] for h in history.json()] == ["draft"] + [s[1] for s in steps]
        assert history.json()[3]["reason"] == "halve the GPU count"

    def test_estimate_endpoint_rejects_unknown_accelerator(
        self, client: TestClient, actors: Actors
    ) -> None:
        who = actors.nobody()
        problem = assert_problem(
            client.get(
                "/api/v1/estimates/gpu-hours?model_parameters=1000&tokens=1000&accelerator_type=x1",
                headers=who.headers,
            ),
            422,
        )
        assert problem["errors"][0]["field"] == "accelerator_type"


class TestAttachments:
    def _upload(
        self, client: TestClient, actor: Actor, app_id: Any, content: bytes, ctype: str
    ) -> Any:
        return client.post(
            f"/api/v1/applications/{app_id}/attachments",
            data={"kind": "budget"},
            files={"file": ("f", io.BytesIO(content), ctype)},
            headers=actor.headers,
        )

    def test_upload_stores_by_checksum_and_downloads(
        self, client: TestClient, world: World
    ) -> None:
        import hashlib

        owner, app = owned(world)
        response = self._upload(client, owner, app.id, PDF, "application/pdf")
        assert response.status_code == 201, response.text
        sha = hashlib.sha256(PDF).hexdigest()
        assert response.json()["sha256"] == sha
        stored = world.settings.attachments_dir / sha[:2] / sha[2:4] / sha
        assert stored.read_bytes() == PDF
        assert list((world.settings.attachments_dir / "tmp").iterdir()) == []
        got = client.get(
            f"/api/v1/applications/{app.id}/attachments/{response.json()['id']}/content",
            headers=owner.headers,
        )
        assert got.content == PDF

    @pytest.mark.parametrize(
        ("content", "ctype", "status"),
        [
            (b"MZ\x90\x00" * 10, "application/x-msdownload", 415),
            (b"hello", "text/plain", 415),
            (b"not a pdf at all", "application/pdf", 422),
            (b"", "application/pdf", 422),
            (b"%PDF-" + b"x" * (64 * 1024), "application/pdf", 413),
        ],
    )
    def test_refused_uploads_leave_nothing(
        self, client: TestClient, world: World, content: bytes, ctype: str, status: int
    ) -> None:
        owner, app = owned(world)
        before = row_counts(world.session)
        problem = assert_problem(self._upload(client, owner, app.id, content, ctype), status)
        assert problem["field"] == "file"
        assert row_counts(world.session) == before
        root = world.settings.attachments_dir
        assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []

    def test_no_uploads_after_submission(self, client: TestClient, world: World) -> None:
        owner, app = owned(world, S.SUBMITTED)
        assert_problem(self._upload(client, owner, app.id, PDF, "application/pdf"), 409)
