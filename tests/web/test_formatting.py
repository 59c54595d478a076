"""How people read values: HK$ with separators, Hong Kong time, durations; the envelope forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import FormData

from computeport.kit.money import MAX_AMOUNT_MINOR
from computeport.web import formatting as f
from computeport.web.forms import Form, amount_minor
from computeport.web.i18n import translator
from computeport.web.views.forecast import exhaustion_date


def test_money_has_thousands_separators_and_cents() -> None:
    assert f.money(123_456_789_01) == "HK$123,456,789.01"
    assert f.money(-5) == "-HK$0.05"
    assert f.money(None) == "—"


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (3_000_000_000_00, "HK$3B"),
        (2_678_000_000_00, "HK$2.68B"),
        (312_500_000_00, "HK$312.5M"),
        (48_000_00, "HK$48,000"),
        (-1_500_000_00, "-HK$1.5M"),
    ],
)
def test_money_short_for_headlines(cents: int, text: str) -> None:
    assert f.money_short(cents) == text


def test_times_are_shown_in_hong_kong() -> None:
    when = datetime(2026, 10, 1, 16, 30, tzinfo=UTC)
    assert f.hk_time(when) == "2026-10-02 00:30 HKT"
    assert f.hk_date(when) == "2026-10-02"
    assert f.utc_iso(when) == "2026-10-01T16:30:00Z"
    with pytest.raises(ValueError, match="naive"):
        f.hk_time(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("seconds", "text"), [(42, "42s"), (125, "2m 05s"), (3 * 3600 + 60, "3h 01m"), (90000, "1d 1h")]
)
def test_durations(seconds: int, text: str) -> None:
    assert f.duration(seconds) == text


def test_gpu_hours_and_percent() -> None:
    assert f.gpu_hours(7_200_000) == "2,000"
    assert f.percent(Decimal("0.8123")) == "81.2%"
    assert f.percent(0.5) == "50.0%"


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_money_round_trips_through_the_form_reader(cents: int) -> None:
    text = f.money(cents)
    form = Form(FormData({"cap": text.removeprefix("HK$")}), translator("en"))
    parsed = form.money_minor("cap", required=True)
    if cents == 0:
        assert parsed is None  # a cap must be positive
        assert "cap" in form.errors
    else:
        assert parsed == cents


def test_form_money_refuses_fractions_of_a_cent_and_words() -> None:
    form = Form(FormData({"a": "1.005", "b": "lots"}), translator("en"))
    assert form.money_minor("a") is None
    assert form.money_minor("b") is None
    assert set(form.errors) == {"a", "b"}


def test_forecast_at_the_recent_pace() -> None:
    today = date(2026, 1, 1)
    # 100 left at 10 a month over the last three months → 10 × 30.44 = 304 days.
    assert exhaustion_date(200_00, 100_00, [5_00, 10_00, 10_00, 10_00], today) == date(2026, 11, 1)
    assert exhaustion_date(100, 0, [0, 0], today) is None
    assert exhaustion_date(100, 100, [50], today) == today


@pytest.mark.parametrize(
    "typed",
    ["1e999999", "sNaN", "NaN", "Infinity", "-1e999999", "1e20", "1_0", "١٢", "1.2.3"],
)
def test_form_numbers_refuse_what_would_break_arithmetic(typed: str) -> None:
    """Each of these was a 500 (Decimal overflow, a signalling NaN in arithmetic) or was taken
    by Python's ``int`` (``1_0``, other scripts' digits); now each is an error at its field."""
    form = Form(FormData({"money": typed, "whole": typed}), translator("en"))
    assert form.money_minor("money") is None
    assert form.integer("whole", minimum=0, maximum=10**9) is None
    assert set(form.errors) == {"money", "whole"}
    assert amount_minor(typed) is None


@pytest.mark.parametrize("typed", ["0001-01-01", "1899-12-31", "9999-12-31", "2100-01-01"])
def test_form_dates_outside_the_centre_s_years_are_refused(typed: str) -> None:
    """Year 1 in Hong Kong time overflowed on conversion to UTC (a 500), and a year-1 award was
    accepted; the picker's range is 2000-2099."""
    form = Form(FormData({"day": typed}), translator("en"))
    assert form.hk_date("day") is None
    assert "2000-01-01" in form.errors["day"]


def test_form_amounts_keep_their_sign_and_cents() -> None:
    assert amount_minor("-1,250.50") == -125_050
    assert amount_minor("HK$ 3,000,000,000.00") == 300_000_000_000
    assert amount_minor("100000000000.01") is None  # beyond HK$100 billion
