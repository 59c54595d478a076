"""The recogniser of personal data in prompts: Hong Kong identity card numbers, Hong Kong phone
numbers and e-mail addresses, each replaced by a typed placeholder.

Why a recogniser of our own, this narrow: a department turns redaction on so that these three
kinds of identifier never leave the gateway, and it must be able to read exactly what is caught
(docs/gateway.md, "Data protection").  A general PII model would catch more and explain less,
and would put a second model on every request's path.  The rules:

- **HKID**: one or two letters, six digits, and a check digit (0–9 or A), the check digit in
  brackets or not (``A123456(7)``, ``AB987654(3)``, ``A1234567``), letters in either case.  The
  check digit must be right (weights 9…2 over the letters' values A=10…Z=35, a missing second
  letter counting 36, and the digits; the sum with the check digit is a multiple of 11): a
  product code shaped like an HKID with a wrong check digit is left alone.
- **Phone**: eight digits starting with 2, 3, 5, 6, 7, 8 or 9 (Hong Kong's fixed and mobile
  ranges), optionally after ``+852`` / ``852`` / ``(852)``, written whole or as two groups of
  four split by a space or a hyphen.  Not caught: a run inside a longer number or a card number
  (digits, ``.`` ``,`` ``/`` or a joining space/hyphen and a digit next to it), an amount (a
  currency sign or code just before it), a reference (``invoice``, ``inv``, ``ref``, ``order``,
  ``account``, ``a/c`` or ``#`` just before it), and a bare eight-digit run that reads as a date
  ``YYYYMMDD`` (1900–2099) — a phone number written so is missed; with a prefix or a split it is
  caught.
- **E-mail**: ``local@domain.tld`` with the usual characters and a letters-only top-level domain.

Placeholders carry no digit and no ``@``, so one kind's placeholder is never caught as another;
e-mail addresses go first (their local part may hold digits), then HKIDs, then phones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class PersonalData(StrEnum):
    """A kind of identifier the recogniser catches; its placeholder names it."""

    EMAIL = "EMAIL"
    HKID = "HKID"
    PHONE = "PHONE"

    @property
    def placeholder(self) -> str:
        return f"[REDACTED_{self.value}]"


# Boundaries are ASCII on purpose: Chinese text runs words together ("請致電91234567"), and a
# Unicode \w boundary would hide every identifier written against a Chinese character.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9_-])"
)
_HKID = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2})([0-9]{6})\s?(?:\(([0-9Aa])\)|([0-9Aa]))(?![A-Za-z0-9])"
)
_PHONE = re.compile(
    r"(?<![A-Za-z0-9_+])(?:(?:\+852|\(852\)|852)[\s-]?)?([235-9][0-9]{3})([\s-]?)([0-9]{4})"
    r"(?![A-Za-z0-9_])"
)
_BEFORE_AMOUNT_OR_REFERENCE = re.compile(
    r"(?:[$¥€£#]|\b(?:hkd|usd|rmb|cny|eur|gbp|invoice|inv|ref|order|account|acct|a/c)\.?)"
    r"\s*(?:no\.?|number)?\s*[:#]?\s*$",
    re.IGNORECASE,
)


def hkid_check_digit(letters: str, digits: str) -> str:
    """The check digit ('0'–'9' or 'A') of an HKID's one or two letters and six digits."""
    letters = letters.upper()
    values = [36] if len(letters) == 1 else []
    values += [ord(c) - ord("A") + 10 for c in letters]
    values += [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def _hkid_valid(m: re.Match[str]) -> bool:
    given = (m.group(3) or m.group(4)).upper()
    return hkid_check_digit(m.group(1), m.group(2)) == given


def _is_date(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return 1900 <= int(digits[:4]) <= 2099


def _phone_valid(m: re.Match[str], text: str) -> bool:
    start, end = m.span()
    prev, prev2 = text[start - 1 : start], text[max(0, start - 2) : max(0, start - 1)]
    if prev and (prev in _JOINS_BEFORE or ((prev == "-" or prev.isspace()) and prev2.isdigit())):
        return False  # the end of a longer number, a decimal or a card number
    after = text[end : end + 2]
    if len(after) == 2 and after[1].isdigit() and (after[0] in ".,/:-" or after[0].isspace()):
        return False  # the start of a decimal, a date, a time or a card number
    if _BEFORE_AMOUNT_OR_REFERENCE.search(text, max(0, start - 24), start):
        return False
    bare = m.group(0) == m.group(1) + m.group(3)
    return not (bare and _is_date(m.group(0)))


_JOINS_BEFORE = frozenset("0123456789.,/")


_RULES: tuple[tuple[PersonalData, re.Pattern[str], Callable[[re.Match[str], str], bool]], ...] = (
    (PersonalData.EMAIL, _EMAIL, lambda m, text: True),
    (PersonalData.HKID, _HKID, lambda m, text: _hkid_valid(m)),
    (PersonalData.PHONE, _PHONE, _phone_valid),
)


@dataclass
class Redactions:
    """How many identifiers of each kind were replaced (counts only, never the values)."""

    counts: dict[PersonalData, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, kind: PersonalData, n: int) -> None:
        if n:
            self.counts[kind] = self.counts.get(kind, 0) + n


def redact_text(text: str, found: Redactions | None = None) -> str:
    """``text`` with every recognised identifier replaced by its kind's placeholder."""
    for kind, pattern, valid in _RULES:
        if kind is PersonalData.EMAIL and "@" not in text:
            continue  # a substring test is ~50× cheaper than the scan it saves
        pieces: list[str] = []
        last = hits = 0
        for m in pattern.finditer(text):
            if valid(m, text):
                pieces += [text[last : m.start()], kind.placeholder]
                last = m.end()
                hits += 1
        if hits:
            text = "".join(pieces) + text[last:]
            if found is not None:
                found.add(kind, hits)
    return text


__all__ = ["PersonalData", "Redactions", "hkid_check_digit", "redact_text"]
