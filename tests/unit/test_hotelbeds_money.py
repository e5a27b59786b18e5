"""Money from Hotelbeds, however it wrote it, with the currency's minor digits everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from seawall.providers.hotelbeds.models import Availability, Booking, money


def booking(total: Any, currency: str = "EUR", cancellation: Any = None) -> Booking:
    hotel: dict[str, Any] = {"code": 1, "name": "H", "checkIn": "2035-06-01", "checkOut": "2035-06-02"}
    if cancellation is not None:
        hotel["cancellationAmount"] = cancellation
    hotel["rooms"] = [
        {
            "code": "DBL",
            "rates": [{"net": total, "cancellationPolicies": [{"amount": 76.8, "from": "2035-05-31T23:59:00+01:00"}]}],
        }
    ]
    return Booking.model_validate(
        {
            "reference": "1-1",
            "clientReference": "C",
            "status": "CONFIRMED",
            "totalNet": total,
            "currency": currency,
            "hotel": hotel,
        }
    )


@pytest.mark.parametrize(
    ("written", "currency", "read"),
    [
        (384.1, "EUR", "384.10"),
        ("384.1", "EUR", "384.10"),
        (384, "EUR", "384.00"),
        (1500, "JPY", "1500"),
        (12.5, "KWD", "12.500"),
    ],
)
def test_an_amount_has_its_currencys_minor_digits(written: Any, currency: str, read: str) -> None:
    assert str(booking(written, currency).total_net) == read
    assert str(money(written, currency)) == read


def test_every_amount_of_a_booking_and_a_search_answer_is_written_alike() -> None:
    made = booking(384.1, cancellation=0.0)
    dumped = made.model_dump(mode="json")
    assert dumped["total_net"] == "384.10"
    assert dumped["hotel"]["cancellation_amount"] == "0.00"
    assert dumped["hotel"]["rooms"][0]["rates"][0]["net"] == "384.10"
    assert [policy.amount for policy in made.cancellation_policies] == [Decimal("76.80")]
    assert Booking.model_validate_json(made.model_dump_json()) == made  # read back from the bookings table: the same
    found = Availability.model_validate(
        {
            "hotels": [
                {
                    "code": 1,
                    "name": "H",
                    "currency": "EUR",
                    "minRate": "384.1",
                    "rooms": [{"code": "DBL", "rates": [{"rateKey": "k", "rateType": "BOOKABLE", "net": 384.1}]}],
                }
            ]
        }
    )
    assert found.model_dump(mode="json")["hotels"][0]["min_rate"] == "384.10"
    assert found.model_dump(mode="json")["hotels"][0]["rooms"][0]["rates"][0]["net"] == "384.10"
