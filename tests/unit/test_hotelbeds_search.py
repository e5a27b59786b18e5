"""What a caller may search for: plain dates, and today as the earliest time zone has it."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from seawall.providers.hotelbeds.search import BOOKING_WINDOW_DAYS, AvailabilitySearch


def search(check_in: object, check_out: str) -> AvailabilitySearch:
    return AvailabilitySearch.model_validate(
        {"check_in": check_in, "check_out": check_out, "rooms": [{"adults": 2}], "hotels": [1]}
    )


def test_tonights_check_in_is_allowed_wherever_it_is_still_today() -> None:
    earliest = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)).date()  # UTC-12's today
    assert search(earliest.isoformat(), (earliest + dt.timedelta(days=1)).isoformat()).check_in == earliest
    with pytest.raises(ValidationError, match="must not be in the past"):
        search((earliest - dt.timedelta(days=1)).isoformat(), earliest.isoformat())


@pytest.mark.parametrize(
    "written",
    [
        "2035-06-01T00:00:00+14:00",
        "2035-06-01T00:00:00",
        "20350601",
        "2035-6-1",
        2064096000,
        2064096000.0,
        "\uff12\uff10\uff13\uff15-06-01",  # fullwidth digits
    ],
)
def test_a_date_is_yyyy_mm_dd_and_nothing_else(written: object) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        search(written, "2035-06-05")


def test_check_in_is_at_most_the_booking_window_ahead() -> None:
    last = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)).date() + dt.timedelta(days=BOOKING_WINDOW_DAYS)
    assert search(last.isoformat(), (last + dt.timedelta(days=1)).isoformat()).check_in == last
    after = last + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match=f"at most {BOOKING_WINDOW_DAYS} days ahead"):
        search(after.isoformat(), (after + dt.timedelta(days=1)).isoformat())
