"""The OpenAPI schema states what the server accepts (issue 19: schemathesis found requests the
schema allowed and the server refused): decimal strings carry a pattern the server applies too,
integers may arrive as integral JSON numbers (``8.0``), and an update's field that refuses
``null`` is not documented as nullable."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from computeport.application.schemas import (
    NOT_NULL_UPDATES,
    ApplicationCreate,
    ApplicationUpdate,
)
from computeport.application.service import NOT_NULL_FIELDS
from computeport.award.schemas import DecisionIn
from computeport.identity.schemas import EMAIL_PATTERN, UserCreate
from computeport.identity.service import EMAIL_RE
from computeport.review.schemas import ScoreItem
from computeport.scheme.schemas import CriterionIn, SchemeUpdate


def _property(schema: dict[str, Any], model: str, name: str) -> dict[str, Any]:
    prop: dict[str, Any] = schema["components"]["schemas"][model]["properties"][name]
    return prop


def _string_variant(prop: dict[str, Any]) -> dict[str, Any]:
    variants = prop.get("anyOf", [prop])
    found: list[dict[str, Any]] = [v for v in variants if v.get("type") == "string"]
    assert len(found) == 1, prop
    assert not any(v.get("type") == "number" for v in variants), "decimals travel as strings"
    return found[0]


DECIMALS = [
    ("SchemeCreate", "max_rate"),
    ("SchemeUpdate", "max_rate"),
    ("SchemeCreate", "default_rate"),
    ("CriterionIn", "weight"),
    ("DecisionIn", "subsidy_rate"),
]


@pytest.mark.parametrize(("model", "name"), DECIMALS)
def test_decimal_strings_are_documented_with_the_pattern_the_server_applies(
    app: FastAPI, model: str, name: str
) -> None:
    pattern = _string_variant(_property(app.openapi(), model, name))["pattern"]
    for refused in ("", "1.5", "0.123456789", "-0", "1e-1", " 0.5", "0x1"):
        assert not re.search(pattern, refused), refused
    for accepted in ("0", "1", "0.25", "1.00000000", "0.12345678"):
        assert re.search(pattern, accepted), accepted


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (SchemeUpdate, {"max_rate": ""}, "max_rate"),
        (SchemeUpdate, {"max_rate": 0.5}, "max_rate"),
        (SchemeUpdate, {"max_rate": "1.5"}, "max_rate"),
        (CriterionIn, {"key": "k", "name": "K", "weight": ""}, "weight"),
        (DecisionIn, {"outcome": "approve", "subsidy_rate": ""}, "subsidy_rate"),
    ],
)
def test_the_server_refuses_what_the_pattern_refuses(
    model: type[BaseModel], body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(json.dumps(body))
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


def test_the_server_takes_what_the_pattern_takes() -> None:
    decision = DecisionIn.model_validate_json('{"outcome": "approve", "subsidy_rate": "0.75"}')
    assert decision.subsidy_rate == Decimal("0.75")
    assert SchemeUpdate.model_validate_json('{"max_rate": "1.00"}').max_rate == Decimal(1)


def _application(**change: Any) -> str:
    body = {
        "scheme_id": "00000000-0000-0000-0000-000000000001",
        "organisation_id": "00000000-0000-0000-0000-000000000002",
        "title": "T",
        "sector": "ai",
        "accelerator_type": "h800",
        "gpus": 8,
        "gpu_hours": 100,
        "duration_months": 6,
    }
    return json.dumps(body | change)


def test_integral_numbers_are_integers_as_json_schema_says(app: FastAPI) -> None:
    gpus = _property(app.openapi(), "ApplicationCreate", "gpus")
    assert (gpus["type"], gpus["minimum"], gpus["maximum"]) == ("integer", 1, 100_000)
    created = ApplicationCreate.model_validate_json(_application(gpus=65536.0, gpu_hours=1e3))
    assert (created.gpus, created.gpu_hours) == (65536, 1000)
    assert type(created.gpus) is int
    assert ScoreItem.model_validate_json('{"score": 3.0}').score == 3
    assert ApplicationUpdate.model_validate_json('{"gpus": 16.0}').gpus == 16


@pytest.mark.parametrize("gpus", [8.5, "8", True, None])
def test_what_is_not_an_integer_is_still_refused(gpus: object) -> None:
    with pytest.raises(ValidationError) as refused:
        ApplicationCreate.model_validate_json(_application(gpus=gpus))
    assert [e["loc"] for e in refused.value.errors()] == [("gpus",)]


def test_update_fields_that_refuse_null_are_not_documented_as_nullable(app: FastAPI) -> None:
    assert set(NOT_NULL_UPDATES) == NOT_NULL_FIELDS
    schema = app.openapi()
    for name in NOT_NULL_UPDATES:
        prop = _property(schema, "ApplicationUpdate", name)
        variants = prop.get("anyOf", [prop])
        assert {"type": "null"} not in variants, name
        assert "default" not in prop, name
    nullable = _property(schema, "ApplicationUpdate", "call_id")
    assert {"type": "null"} in nullable["anyOf"]


def test_the_email_pattern_is_the_one_the_service_applies(app: FastAPI) -> None:
    assert EMAIL_RE.pattern == EMAIL_PATTERN
    assert _property(app.openapi(), "UserCreate", "email")["pattern"] == EMAIL_PATTERN
    body = {"email": "000", "display_name": "A", "posix_username": "a"}
    with pytest.raises(ValidationError) as refused:
        UserCreate.model_validate_json(json.dumps(body))
    assert [e["loc"] for e in refused.value.errors()] == [("email",)]


def test_a_zero_adjustment_is_refused_by_the_schema_as_by_the_service(app: FastAPI) -> None:
    assert _property(app.openapi(), "AdjustmentIn", "amount_minor")["not"] == {"const": 0}
