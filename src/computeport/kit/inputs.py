"""The base of every request body: text in it can be stored by both databases.

PostgreSQL refuses a NUL character in text and psycopg cannot encode a lone UTF-16 surrogate
(``"\\ud800"`` is valid JSON); SQLite takes both silently.  Left to the database either is a 500
on PostgreSQL and a row that cannot be moved to it later, so any string in a request — nested
in lists and objects too — is checked while it is validated, and refused naming its field.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, field_validator, model_validator


def is_storable(value: Any) -> bool:
    """Whether ``value`` (a string, or strings nested in lists and dicts) can be stored."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return all(is_storable(v) for v in value)
    if isinstance(value, dict):
        return all(is_storable(k) and is_storable(v) for k, v in value.items())
    return True


def _bare(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _holds_int(annotation: Any) -> bool:
    """``int`` or ``int | None`` (either possibly ``Annotated``)."""
    if get_origin(annotation) in (Union, UnionType):
        return {_bare(a) for a in get_args(annotation)} == {int, type(None)}
    return _bare(annotation) is int


def _int_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that hold an ``int`` (or ``int | None``)."""
    return frozenset(n for n, f in model.model_fields.items() if _holds_int(f.annotation))


class InputModel(BaseModel):
    """A request body (or query model); see the module's docstring.

    Integers: JSON Schema counts ``8.0`` as an integer (``type: integer`` admits it), so a
    strict ``int`` field takes an integral JSON number as that integer; ``8.5``, ``"8"`` and
    ``true`` are still refused, as the schema says.
    """

    @model_validator(mode="before")
    @classmethod
    def _integral_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = _int_fields(cls)
        integral = {
            k: int(v)
            for k, v in data.items()
            if k in names and isinstance(v, float) and v.is_integer()
        }
        return {**data, **integral} if integral else data

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        if not is_storable(value):
            raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
        return value


__all__ = ["InputModel", "is_storable"]
