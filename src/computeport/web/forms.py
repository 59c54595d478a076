"""Reading posted forms: typed values out, and an error next to each field that was wrong.

A page validates what the browser sent (types, ranges, required fields) with :class:`Form`, then
calls the service through :meth:`Form.attempt`: in a savepoint, so a refused call leaves nothing
behind; a :class:`~computeport.kit.errors.DomainError` naming a field is shown next to that
field too (:meth:`Form.absorb`), anything else at the top of the form.  The page then redirects
on success or shows the form again with its errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from computeport.kit.errors import DomainError
from computeport.kit.inputs import is_storable
from computeport.kit.money import MAX_AMOUNT_MINOR
from computeport.web.formatting import HONG_KONG
from computeport.web.i18n import Translate

WHOLE_NUMBER = re.compile(r"-?[0-9]{1,30}")
"""What a person types as a whole number: ASCII digits (Python's ``int`` also takes ``1_0``
and other scripts' digits)."""
AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")
"""An amount of HK$ as typed, once separators are gone: digits, at most two decimals (no
exponent, ``NaN`` or underscore, which ``Decimal`` would take)."""
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
"""Dates a person may pick: a centre's calls, awards and reports fall well inside."""


def amount_minor(value: str) -> int | None:
    """``1,250.50`` (signed, ``HK$`` allowed) → cents, or ``None`` when it is no exact amount
    of cents within :data:`MAX_AMOUNT_MINOR` (never via float; the pattern refuses ``NaN`` and
    ``1e999999`` before any arithmetic, which they would break)."""
    text = value.replace(",", "").replace("HK$", "").strip()
    if not AMOUNT.fullmatch(text):
        return None
    cents = int(Decimal(text) * 100)
    return cents if abs(cents) <= MAX_AMOUNT_MINOR else None


T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """What :meth:`Form.attempt` returns when the service call went through: its result."""

    value: T


@dataclass
class Form:
    """A posted form being read; ``errors`` maps field names to messages for people."""

    data: FormData
    _: Translate
    errors: dict[str, str] = field(default_factory=dict)
    form_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.form_error is None

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def text(self, name: str, *, required: bool = False, max_length: int = 20000) -> str:
        value = self.raw(name)
        if required and not value:
            self.errors[name] = self._("This field is required.")
        elif not is_storable(value):
            self.errors[name] = self._("This text contains a character that cannot be stored.")
        elif len(value) > max_length:
            self.errors[name] = self._("At most {n} characters.", n=max_length)
        return value

    def integer(
        self, name: str, *, minimum: int, maximum: int, required: bool = True
    ) -> int | None:
        value = self.raw(name).replace(",", "")
        if not value:
            if required:
                self.errors[name] = self._("This field is required.")
            return None
        if not WHOLE_NUMBER.fullmatch(value):
            self.errors[name] = self._("Enter a whole number.")
            return None
        number = int(value)
        if not minimum <= number <= maximum:
            self.errors[name] = self._(
                "Enter a number from {lo} to {hi}.", lo=f"{minimum:,}", hi=f"{maximum:,}"
            )
            return None
        return number

    def money_minor(self, name: str, *, required: bool = True) -> int | None:
        """HK$ as typed by a person (``1,250,000.50``) → cents; never via float."""
        value = self.raw(name)
        if not value:
            if required:
                self.errors[name] = self._("This field is required.")
            return None
        cents = amount_minor(value)
        if cents is None or cents <= 0:
            self.errors[name] = self._("Enter a positive amount with at most two decimals.")
            return None
        return cents

    def decimal(self, name: str, *, minimum: Decimal, maximum: Decimal) -> Decimal | None:
        value = self.raw(name)
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.errors[name] = self._("Enter a number.")
            return None
        if not number.is_finite() or not minimum <= number <= maximum:
            self.errors[name] = self._("Enter a number from {lo} to {hi}.", lo=minimum, hi=maximum)
            return None
        return number

    def hk_date(self, name: str, *, required: bool = True) -> datetime | None:
        """A date picked in Hong Kong → the aware UTC instant of its midnight (HKT)."""
        value = self.raw(name)
        if not value:
            if required:
                self.errors[name] = self._("This field is required.")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = self._("Enter a date as YYYY-MM-DD.")
            return None
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            self.errors[name] = self._(
                "Enter a date from {lo} to {hi}.", lo=EARLIEST_DAY, hi=LATEST_DAY
            )
            return None
        return datetime.combine(day, time(0), tzinfo=HONG_KONG).astimezone(UTC)

    def choice(self, name: str, options: Iterable[str], *, required: bool = True) -> str | None:
        value = self.raw(name)
        allowed = list(options)
        if not value and not required:
            return None
        if value not in allowed:
            self.errors[name] = self._("Choose one of the options.")
            return None
        return value

    def attempt(
        self,
        session: Session | None,
        fields: Iterable[str],
        action: Callable[[], T],
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> Done[T] | None:
        """Run the service call ``action`` if the form read cleanly; ``Done(result)`` when it
        went through, ``None`` when the form had errors or the service refused.

        The call runs in a savepoint of ``session`` (``None``: it writes no rows, e.g. a
        cluster call), so a refusal rolls back what it flushed and the page's unit of work
        can still commit.  A :class:`DomainError` is absorbed: shown at its field among
        ``fields`` (``aliases`` maps a service's field name to the form's), else at the top.
        """
        if not self.ok:
            return None
        try:
            if session is None:
                return Done(action())
            with session.begin_nested():
                return Done(action())
        except DomainError as error:
            self.absorb(error, fields, aliases)
            return None

    def absorb(
        self,
        error: DomainError,
        known_fields: Iterable[str],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """Show a service's error next to its field when the form has that field."""
        known = set(known_fields)
        full = error.field or ""
        full = (aliases or {}).get(full, full)
        name = full.split(".")[-1]
        target = full if full in known else name if name in known else None
        if target is None:
            self.form_error = error.message
            return
        message = error.message
        for prefix in (f"{full}: ", f"{name}: "):
            message = message.removeprefix(prefix)
        self.errors[target] = message
