"""Every error leaves the API as problem+json: domain errors, validation errors, unknown routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from computeport.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from computeport.kit.errors import BudgetExceeded


class Body(BaseModel):
    gpus: int = Field(gt=0)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    def create(body: Body) -> dict[str, int]:
        if body.gpus > 10:
            raise BudgetExceeded("only 10 GPUs left in the envelope", field="gpus")
        return {"gpus": body.gpus}

    return app


def test_domain_error_is_a_409_problem_naming_the_field() -> None:
    response = TestClient(make_app()).post("/things", json={"gpus": 11})
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"].endswith("/budget-exceeded")
    assert body["detail"] == "only 10 GPUs left in the envelope"
    assert body["errors"] == [{"field": "gpus", "message": "only 10 GPUs left in the envelope"}]


def test_validation_error_names_the_field() -> None:
    response = TestClient(make_app()).post("/things", json={"gpus": -1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert [e["field"] for e in response.json()["errors"]] == ["gpus"]


def test_malformed_json_is_a_400() -> None:
    response = TestClient(make_app()).post(
        "/things", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid input"


def test_unknown_route_is_a_404_problem() -> None:
    response = TestClient(make_app()).get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
