"""Request-body types whose OpenAPI schema says exactly what the server accepts.

A client generated from ``/openapi.json`` (or a fuzzer such as schemathesis) must not be able to
send what the server refuses, nor the server take what the schema forbids:

- :data:`Fraction`: a rate or weight in [0, 1] as a *string* of digits with at most 8
  decimals, e.g. ``"0.25"``.  Exact decimals never travel as JSON numbers (a float is not
  exact); the pattern is the whole rule, so ``""`` and ``"1.5"`` are refused by the schema as
  by the server.  Python callers may pass a ``Decimal`` (checked by the service).
- integers: JSON Schema counts ``65536.0`` as an integer too, so every request body takes an
  integral number where it wants an ``int`` (``kit.inputs.InputModel``); a string or a
  boolean is still refused, as ``type: integer`` says.
- :func:`not_nullable`: an update body's field that may be omitted but not set to ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeAlias

from pydantic import PlainValidator, WithJsonSchema

FRACTION_PATTERN = r"^(0(\.[0-9]{1,8})?|1(\.0{1,8})?)$"
"""0 to 1 inclusive, at most 8 decimals: what the database's rate columns hold."""


def _fraction(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and re.fullmatch(FRACTION_PATTERN, value):
        return Decimal(value)
    raise ValueError(
        'a fraction from 0 to 1 as a string of digits, e.g. "0.25" (at most 8 decimals)'
    )


Fraction: TypeAlias = Annotated[
    Decimal,
    PlainValidator(_fraction),
    WithJsonSchema(
        {"type": "string", "pattern": FRACTION_PATTERN, "examples": ["0.25"]}, mode="validation"
    ),
]


def not_nullable(*names: str) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that documents ``names`` as optional but never ``null``
    (the service refuses ``null`` for them: a draft cannot lose its accelerator type)."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            field = schema.get("properties", {}).get(name)
            if field is None:
                continue
            variants = [v for v in field.pop("anyOf", []) if v != {"type": "null"}]
            if len(variants) == 1:
                field.update(variants[0])
            elif variants:
                field["anyOf"] = variants
            if field.get("default", 0) is None:
                del field["default"]

    return edit


__all__ = ["FRACTION_PATTERN", "Fraction", "not_nullable"]
