"""Read endpoints that serialise their own response keep the documented response schema.

``GET /awards``, ``/awards/{id}``, ``/schemes``, ``/envelope`` and ``/organisations`` return a
ready ``Response`` (``json_response``) instead of a model FastAPI would validate again; the
OpenAPI document must still describe their bodies by the response models, so clients generated
from it do not change.  The bodies themselves are checked by each domain's API tests.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter

from computeport.http.deps import json_response

DOCUMENTED = [
    ("/api/v1/awards", {"type": "array", "items": {"$ref": "#/components/schemas/AwardRead"}}),
    ("/api/v1/awards/{award_id}", {"$ref": "#/components/schemas/AwardRead"}),
    ("/api/v1/schemes", {"type": "array", "items": {"$ref": "#/components/schemas/SchemeRead"}}),
    ("/api/v1/envelope", {"$ref": "#/components/schemas/EnvelopeRead"}),
    (
        "/api/v1/organisations",
        {"type": "array", "items": {"$ref": "#/components/schemas/OrganisationRead"}},
    ),
]


def test_the_response_models_are_still_documented(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path, schema in DOCUMENTED:
        documented = paths[path]["get"]["responses"]["200"]["content"]["application/json"]
        assert {k: v for k, v in documented["schema"].items() if k != "title"} == schema, path


class _Shape(BaseModel):
    name: str
    amount_minor: int


def test_json_response_is_the_adapters_json() -> None:
    adapter = TypeAdapter(list[_Shape])
    response = json_response(adapter, [_Shape(name="ü", amount_minor=-1)])
    assert response.media_type == "application/json"
    assert response.headers["content-type"] == "application/json"
    assert response.body == b'[{"name":"\xc3\xbc","amount_minor":-1}]'
