"""An organisation's data policy through the REST API and the CLI: set by operators only, sites
checked against the inventory (the field named, nothing written), audited; deployments tagged
with inventory sites."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from computeport.audit.service import history
from computeport.db.engine import make_engine
from computeport.models.centre import CentreSite
from computeport.models.data_policy import DataPolicy
from computeport.models.identity import Role
from computeport.models.inference import ModelUpstream
from tests.api.fixtures import Actors, World
from tests.api.permission_suite import Case, PermissionSuite
from tests.support.cli import count_rows, run, sqlite_cli


def add_sites(session: Session, *keys: str) -> None:
    for key in keys:
        session.add(CentreSite(key=key, name=key.title(), status="operating"))
    session.flush()


class TestDataPolicyPermissions(PermissionSuite):
    cases = ("get", "put")

    def build(self, name: str, world: World) -> Case:
        add_sites(world.session, "cyberport")
        org = world.actors.organisation()
        path = f"/api/v1/organisations/{org.id}/data-policy"
        if name == "get":
            return Case(
                "GET", path, allowed=world.actors.applicant(org), other_org=world.actors.applicant()
            )
        return Case(
            "PUT",
            path,
            allowed=world.actors.staff(Role.OPERATOR),
            json={"redact": True, "allowed_sites": ["cyberport"]},
            wrong_role=world.actors.applicant(org),
            other_org=world.actors.applicant(),
            other_org_status=403,
        )


def test_an_operator_sets_the_policy_and_the_department_reads_it(
    client: TestClient, actors: Actors, session: Session
) -> None:
    add_sites(session, "cyberport", "sandy-ridge")
    org = actors.organisation()
    operator = actors.staff(Role.OPERATOR)
    admin = actors.applicant(org)
    url = f"/api/v1/organisations/{org.id}/data-policy"
    before = client.get(url, headers=admin.headers).json()
    assert (before["redact"], before["allowed_sites"]) == (False, None)  # the defaults
    body = {"redact": True, "allowed_sites": ["cyberport", " cyberport"]}
    r = client.put(url, json=body, headers=operator.headers)
    assert r.status_code == 200, r.text
    assert client.get(url, headers=admin.headers).json() == {
        "organisation_id": str(org.id),
        "redact": True,
        "allowed_sites": ["cyberport"],
    }
    row = session.scalar(select(DataPolicy).where(DataPolicy.organisation_id == org.id))
    assert row is not None
    audit = history(session, "data_policy", row.id)
    assert [(a.action, a.actor_id, a.reason) for a in audit] == [
        ("data_policy_set", operator.user.id, "redaction on; sites: cyberport")
    ]
    r = client.put(url, json={"redact": False, "allowed_sites": None}, headers=operator.headers)
    assert r.json()["allowed_sites"] is None
    assert len(history(session, "data_policy", row.id)) == 2


def test_who_may_set_and_read_and_bad_sites_are_named(
    client: TestClient, actors: Actors, session: Session
) -> None:
    add_sites(session, "cyberport")
    org = actors.organisation()
    url = f"/api/v1/organisations/{org.id}/data-policy"
    body = {"redact": True, "allowed_sites": ["cyberport"]}
    assert client.put(url, json=body, headers=actors.applicant(org).headers).status_code == 403
    assert client.get(url, headers=actors.applicant().headers).status_code == 404
    operator = actors.staff(Role.OPERATOR)
    r = client.put(url, json={**body, "allowed_sites": ["mars"]}, headers=operator.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "allowed_sites"
    assert "mars" in r.json()["detail"]
    r = client.put(url, json={**body, "allowed_sites": []}, headers=operator.headers)
    assert r.status_code == 422
    assert session.scalar(select(DataPolicy).where(DataPolicy.organisation_id == org.id)) is None


def test_deployments_are_tagged_with_inventory_sites(
    client: TestClient, actors: Actors, session: Session
) -> None:
    add_sites(session, "cyberport", "sandy-ridge")
    operator = actors.staff(Role.OPERATOR)
    body = {
        "name": "qwen",
        "organisation_id": str(actors.organisation().id),
        "accelerator_type": "h800",
        "site": "cyberport",
        "upstreams": [
            "http://10.0.0.5:8000/v1",
            {"url": "http://10.9.0.5:8000/v1", "site": "sandy-ridge"},
        ],
    }
    r = client.post("/api/v1/model-deployments", json=body, headers=operator.headers)
    assert r.status_code == 201, r.text
    assert r.json()["sites"] == {
        "http://10.0.0.5:8000/v1": "cyberport",
        "http://10.9.0.5:8000/v1": "sandy-ridge",
    }
    r = client.post(
        "/api/v1/model-deployments",
        json={**body, "name": "other", "site": "atlantis"},
        headers=operator.headers,
    )
    assert r.status_code == 422
    assert r.json()["field"] == "site"
    urls = session.scalars(select(ModelUpstream.base_url))
    assert sorted(urls) == ["http://10.0.0.5:8000/v1", "http://10.9.0.5:8000/v1"]


def test_operators_tag_the_upstreams_of_an_existing_deployment(
    client: TestClient, actors: Actors, session: Session
) -> None:
    add_sites(session, "cyberport")
    operator = actors.staff(Role.OPERATOR)
    body = {
        "name": "legacy",
        "organisation_id": str(actors.organisation().id),
        "accelerator_type": "h800",
        "upstreams": ["http://10.0.0.5:8000/v1", "http://10.0.0.6:8000/v1"],
    }
    created = client.post("/api/v1/model-deployments", json=body, headers=operator.headers)
    assert created.json()["sites"] == dict.fromkeys(body["upstreams"])  # registered untagged
    url = f"/api/v1/model-deployments/{created.json()['id']}/sites"
    tag = {"sites": {"http://10.0.0.5:8000/v1/": "cyberport"}}
    assert client.put(url, json=tag, headers=actors.applicant().headers).status_code == 403
    r = client.put(url, json=tag, headers=operator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sites"] == {
        "http://10.0.0.5:8000/v1": "cyberport",
        "http://10.0.0.6:8000/v1": None,
    }
    for bad in ({"http://10.0.0.6:8000/v1": "atlantis"}, {"http://elsewhere/v1": "cyberport"}):
        r = client.put(url, json={"sites": bad}, headers=operator.headers)
        assert r.status_code == 422
        assert r.json()["field"] == "sites"
    tagged = session.scalars(select(ModelUpstream.site_key).order_by(ModelUpstream.base_url))
    assert list(tagged) == ["cyberport", None]  # the refused changes wrote nothing
    audit = history(session, "model_deployment", uuid.UUID(created.json()["id"]))
    assert [a.action for a in audit] == ["upstream_sites_set"]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return sqlite_cli(tmp_path, monkeypatch)


def _cli_sites(*keys: str) -> None:
    engine = make_engine(os.environ["COMPUTEPORT_DATABASE_URL"])
    try:
        with Session(engine) as session, session.begin():
            add_sites(session, *keys)
    finally:
        engine.dispose()


def test_the_cli_sets_and_shows_the_policy_and_tags_upstreams(cli: CliRunner) -> None:
    _cli_sites("cyberport", "sandy-ridge")
    run(cli, "org", "create", "Digital Policy Office", "--category", "government")
    dpo = "Digital Policy Office"
    assert "redaction off; served from any site" in run(cli, "gateway", "policy", "show", dpo)
    out = run(cli, "gateway", "policy", "set", dpo, "--redact", "--site", "cyberport")
    assert "redaction on; served from cyberport" in out
    assert "redaction on; served from cyberport" in run(cli, "gateway", "policy", "show", dpo)
    out = run(cli, "gateway", "policy", "set", dpo, "--site", "moon", code=2)
    assert "allowed_sites" in out
    assert "moon" in out
    assert "redaction on" in run(cli, "gateway", "policy", "show", dpo)  # nothing written
    out = run(cli, "gateway", "deploy", "m", "--org", dpo, "--site", "cyberport",
              "--upstream", "http://a/v1", "--upstream", "sandy-ridge=http://b/v1")  # fmt: skip
    assert "2 upstream(s)" in out
    out = run(cli, "gateway", "deploy", "n", "--org", dpo, "--upstream", "moon=http://c/v1",
              code=2)  # fmt: skip
    assert "site" in out
    assert "moon" in out
    assert count_rows(ModelUpstream) == 2
    assert count_rows(DataPolicy) == 1
    out = run(cli, "gateway", "deploy", "old", "--org", dpo, "--upstream", "http://d/v1")
    assert "at cyberport" in run(cli, "gateway", "site", "old", "--site", "cyberport")
    out = run(cli, "gateway", "site", "old", "--site", "moon", code=2)
    assert "moon" in out
    assert "no deployment" in run(cli, "gateway", "site", "nope", "--site", "cyberport", code=2)
