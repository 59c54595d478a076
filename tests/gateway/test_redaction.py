"""The recogniser of HKID numbers, Hong Kong phone numbers and e-mail addresses
(:mod:`computeport.gateway.redaction`): generated valid HKIDs are always caught and a wrong
check digit never is; phones and e-mails in their written forms are caught; amounts, dates,
invoice numbers, card numbers and other ordinary numbers are left alone."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computeport.gateway.privacy import redact_body
from computeport.gateway.redaction import (
    PersonalData,
    Redactions,
    hkid_check_digit,
    redact_text,
)

letters = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=2)
six_digits = st.text(alphabet=string.digits, min_size=6, max_size=6)
CHECKS = [str(d) for d in range(10)] + ["A"]


def _written(prefix: str, digits: str, check: str, bracket: bool) -> str:
    return f"{prefix}{digits}({check})" if bracket else f"{prefix}{digits}{check}"


def _counted(text: str) -> tuple[str, dict[PersonalData, int]]:
    found = Redactions()
    return redact_text(text, found), found.counts


def test_published_examples_of_the_check_digit() -> None:
    """A123456(3) and the two-letter form are the forms published with the algorithm."""
    assert hkid_check_digit("A", "123456") == "3"
    assert hkid_check_digit("AB", "987654") == "3"
    assert hkid_check_digit("G", "123456") == "A"  # a remainder of 1 gives the letter A


@given(letters, six_digits, st.booleans(), st.booleans(), st.sampled_from(["", "My ID is ", "("]))
def test_a_valid_hkid_is_always_caught(
    prefix: str, digits: str, bracket: bool, lower: bool, before: str
) -> None:
    check = hkid_check_digit(prefix, digits)
    hkid = _written(prefix.lower() if lower else prefix, digits, check, bracket)
    text = f"{before}{hkid}, thanks."
    redacted, counts = _counted(text)
    assert counts == {PersonalData.HKID: 1}
    assert redacted == f"{before}[REDACTED_HKID], thanks."


@given(letters, six_digits, st.sampled_from(CHECKS), st.booleans())
def test_a_wrong_check_digit_is_never_caught(
    prefix: str, digits: str, check: str, bracket: bool
) -> None:
    if check == hkid_check_digit(prefix, digits):
        check = CHECKS[(CHECKS.index(check) + 1) % len(CHECKS)]
    text = f"Part {_written(prefix, digits, check, bracket)} is in stock."
    assert _counted(text) == (text, {})


@pytest.mark.parametrize(
    "phone",
    [
        "2345 6789",
        "9876-5432",
        "61234567",
        "+852 6123 4567",
        "+85261234567",
        "852-3123-4567",
        "(852) 5123 4567",
        "852 91234567",
    ],
)
def test_hong_kong_phone_numbers_are_caught(phone: str) -> None:
    redacted, counts = _counted(f"Call me on {phone}.")
    assert (redacted, counts) == ("Call me on [REDACTED_PHONE].", {PersonalData.PHONE: 1})


@pytest.mark.parametrize(
    "text",
    [
        "The invoice total is HK$23456789 this year.",
        "Budget: HKD 56781234, and USD 71234567.",
        "Invoice 23456789 is due; ref: 61234567; order #55556666; a/c 91234567.",
        "Born on 20191231, the file dated 2026-12-04 at 23:45.",
        "Card 5555 5555 5555 4444 expires 12/29.",
        "Pi is 3.23456789 and the count is 1234567890.",
        "A number starting with 1 or 4: 12345678, 41234567.",
        "Nine digits 234567890, seven digits 2345678, amount 23,456,789.",
        "Price 23456789.50 and ratio 2345/6789.",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert _counted(text) == (text, {})


@pytest.mark.parametrize(
    "email", ["chan.tai-man@gov.hk", "a+tag@dpo.gov.hk", "Mary_Wong99@example.com.hk"]
)
def test_email_addresses_are_caught(email: str) -> None:
    redacted, counts = _counted(f"Write to {email}, please.")
    assert (redacted, counts) == ("Write to [REDACTED_EMAIL], please.", {PersonalData.EMAIL: 1})


@pytest.mark.parametrize(
    "text", ["twitter @handle", "user@localhost", "a @ b.com", "x@y.c0m", "2 @ 3 = ok"]
)
def test_things_that_are_not_email_addresses_are_left_alone(text: str) -> None:
    assert _counted(text) == (text, {})


def test_identifiers_written_against_chinese_characters_are_caught() -> None:
    """Chinese runs words together: a boundary must be ASCII, not Unicode's \\w."""
    text = "請致電91234567或電郵chan@dpo.gov.hk查詢，身份證號碼A123456(3)。"
    redacted, counts = _counted(text)
    assert (
        redacted == "請致電[REDACTED_PHONE]或電郵[REDACTED_EMAIL]查詢，身份證號碼[REDACTED_HKID]。"
    )
    assert counts == {PersonalData.PHONE: 1, PersonalData.EMAIL: 1, PersonalData.HKID: 1}


def test_every_kind_in_one_text_is_counted_by_kind() -> None:
    text = "A123456(3) on 9123 4567 or ada@dpo.gov.hk; also 2345-6789 (invoice 23456789)."
    redacted, counts = _counted(text)
    assert redacted == (
        "[REDACTED_HKID] on [REDACTED_PHONE] or [REDACTED_EMAIL]; "
        "also [REDACTED_PHONE] (invoice 23456789)."
    )
    assert counts == {PersonalData.HKID: 1, PersonalData.PHONE: 2, PersonalData.EMAIL: 1}


def test_every_prompt_field_of_every_route_is_redacted_and_nothing_else() -> None:
    secret = "A123456(3)"
    chat = {
        "model": "m",
        "user": secret,  # not prompt text: passed as it is
        "messages": [
            {"role": "system", "content": f"id {secret}"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"mail ada@dpo.gov.hk, id {secret}"},
                    {"type": "image_url", "image_url": {"url": "https://x/9123-4567.png"}},
                ],
            },
            {"role": "assistant", "content": None},
        ],
    }
    body, found = redact_body("chat.completions", chat)
    assert body["messages"][0]["content"] == "id [REDACTED_HKID]"
    assert body["messages"][1]["content"][0]["text"] == "mail [REDACTED_EMAIL], id [REDACTED_HKID]"
    assert body["messages"][1]["content"][1] == chat["messages"][1]["content"][1]  # type: ignore[index]
    assert body["messages"][2] == {"role": "assistant", "content": None}
    assert body["user"] == secret
    assert found.total == 3
    body, found = redact_body("completions", {"model": "m", "prompt": [f"id {secret}", "ok"]})
    assert body["prompt"] == ["id [REDACTED_HKID]", "ok"]
    assert found.total == 1
    body, found = redact_body("embeddings", {"model": "m", "input": [[1, 2], f"{secret}"]})
    assert body["input"] == [[1, 2], "[REDACTED_HKID]"]
    assert found.total == 1
    body, found = redact_body("audio.transcriptions", {"model": "m", "prompt": secret})
    assert body["prompt"] == secret
    assert found.total == 0


phone_like = st.from_regex(r"[235-9][0-9]{7}", fullmatch=True)


@given(phone_like, st.sampled_from(["HK$", "HK$ ", "HKD ", "invoice ", "Invoice no. ", "#"]))
def test_an_amount_or_a_reference_shaped_like_a_phone_is_never_caught(
    digits: str, before: str
) -> None:
    text = f"See {before}{digits} today."
    assert _counted(text) == (text, {})


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_a_date_written_yyyymmdd_is_never_caught(day: date) -> None:
    text = f"Filed on {day:%Y%m%d} and {day:%Y-%m-%d}."
    assert _counted(text) == (text, {})


@given(phone_like)
def test_the_same_digits_as_a_phone_are_caught(digits: str) -> None:
    """The negatives above are the context, not the digits: bare and prefixed they are caught
    (a bare run that reads as a date excepted, as documented)."""
    redacted, _ = _counted(f"Tel +852 {digits}.")
    assert redacted == "Tel [REDACTED_PHONE]."
