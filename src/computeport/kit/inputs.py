"""The base of every request body: text in it can be stored by both databases.

PostgreSQL refuses a NUL character in text and psycopg cannot encode a lone UTF-16 surrogate
(``"\\ud800"`` is valid JSON); SQLite takes both silently.  Left to the database either is a 500
on PostgreSQL and a row that cannot be moved to it later, so any string in a request — nested
in lists and objects too — is checked while it is validated, and refused naming its field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


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


class InputModel(BaseModel):
    """A request body (or query model); see the module's docstring."""

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        if not is_storable(value):
            raise ValueError("contains a character that cannot be stored (NUL or a lone surrogate)")
        return value


__all__ = ["InputModel", "is_storable"]
