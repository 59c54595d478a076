"""A 405 lists in ``Allow`` every method the path serves (RFC 9110 §15.5.6), however many routes
serve it: Starlette answered from the first route alone (``OPTIONS /api/v1/applications`` said
``GET`` although ``POST`` is documented)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from computeport.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


def test_a_path_served_by_two_routes_allows_both() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things")
    def read() -> list[int]:
        return []

    @app.post("/things")
    def make() -> int:
        return 1

    answer = TestClient(app).delete("/things")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert answer.headers["allow"] == "GET, POST"


def test_every_documented_path_allows_what_the_schema_documents(
    app: FastAPI, client: TestClient
) -> None:
    """For each path of ``/openapi.json``, a method it does not serve answers 405 whose
    ``Allow`` holds every method the schema documents for it."""
    paths = app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        documented = {m.upper() for m in operations if m != "parameters"}
        concrete = path.replace("{", "").replace("}", "")  # any segment text reaches the route
        answer = client.request("OPTIONS", concrete)
        assert answer.status_code == 405, path
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert documented <= allowed, (path, documented - allowed)
        checked += 1
    assert checked > 40
