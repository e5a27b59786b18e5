"""APItude's answers as pydantic models: money as Decimal (from its strings and numbers), rateKey opaque.

Fields are read by Hotelbeds' camelCase names and written by ours (snake
case), so the API's answers and its OpenAPI document say the same thing.
Hotelbeds writes money as strings in one place and numbers in another
(``"384.10"``, ``384.1``, ``0.0``): every amount under a model that names its
currency is read with that currency's minor digits, so ``384.10`` is
written the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

# ISO 4217 currencies whose minor unit is not the cent; every other has two digits.
_MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"), 0),
    **dict.fromkeys(("XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
# The amounts a priced answer carries, by Hotelbeds' names and ours (a cached or stored answer is read again).
_AMOUNTS = frozenset(
    {"net", "amount", "totalNet", "total_net", "pendingAmount", "pending_amount", "minRate", "min_rate"}
    | {"maxRate", "max_rate", "cancellationAmount", "cancellation_amount"}
)


def money(amount: Decimal | float | str, currency: str) -> Decimal:
    """``amount`` with exactly ``currency``'s minor digits (``384.1`` EUR: ``384.10``)."""
    return Decimal(str(amount)).quantize(Decimal(1).scaleb(-_MINOR_DIGITS.get(currency.upper(), 2)))


def _priced(value: Any, currency: str) -> Any:
    """Every amount in ``value`` (Hotelbeds' JSON) with the currency's minor digits."""
    if isinstance(value, dict):
        return {
            key: money(item, currency)
            if key in _AMOUNTS and isinstance(item, int | float | str | Decimal) and not isinstance(item, bool)
            else _priced(item, currency)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_priced(item, currency) for item in value]
    return value


def _content(value: Any) -> Any:
    """Content API texts come wrapped: ``{"content": "..."}``."""
    return value.get("content") if isinstance(value, dict) else value


Text = Annotated[str | None, BeforeValidator(_content)]


class HotelbedsModel(BaseModel):
    """Read by Hotelbeds' names or ours; extra fields ignored (Hotelbeds adds them freely)."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True, extra="ignore", frozen=True
    )


class PricedModel(HotelbedsModel):
    """An answer that names its currency: its amounts, nested ones too, read with the currency's digits."""

    @model_validator(mode="before")
    @classmethod
    def _minor_digits(cls, data: Any) -> Any:
        currency = data.get("currency") if isinstance(data, dict) else None
        return _priced(data, currency) if isinstance(currency, str) and currency else data


class CancellationPolicy(HotelbedsModel):
    """From ``applies_from`` on, cancelling costs ``amount``."""

    amount: Decimal
    applies_from: dt.datetime = Field(validation_alias=AliasChoices("from", "applies_from"))


class Rate(HotelbedsModel):
    """One bookable price; ``rate_key`` is opaque (never parse it) and RECHECK rates need check_rate first."""

    rate_key: str
    rate_class: str | None = None
    rate_type: Literal["BOOKABLE", "RECHECK"]
    net: Decimal
    allotment: int | None = None
    payment_type: str | None = None
    board_code: str | None = None
    board_name: str | None = None
    cancellation_policies: list[CancellationPolicy] = []
    rooms: int | None = None
    adults: int | None = None
    children: int | None = None
    rate_comments: str | None = None


class Room(HotelbedsModel):
    """A room type and its rates."""

    code: str
    name: str | None = None
    rates: list[Rate] = []


class Hotel(PricedModel):
    """A hotel with availability for the search."""

    code: int
    name: str
    category_code: str | None = None
    destination_code: str | None = None
    currency: str
    min_rate: Decimal | None = None
    max_rate: Decimal | None = None
    rooms: list[Room] = []


class Availability(HotelbedsModel):
    """The answer to a search: hotels with rooms and rates (none: an empty list)."""

    hotels: list[Hotel] = []
    total: int = 0


class CheckedRate(PricedModel):
    """check_rate's answer: the hotel with the rate made BOOKABLE (a new rate_key) and its total."""

    code: int
    name: str
    currency: str
    total_net: Decimal | None = None
    rooms: list[Room] = []

    @property
    def rates(self) -> list[Rate]:
        """Every rate of the answer."""
        return [rate for room in self.rooms for rate in room.rates]


class Holder(HotelbedsModel):
    """Who the booking is for."""

    name: str
    surname: str


class BookedRate(HotelbedsModel):
    """A booked room's rate."""

    rate_class: str | None = None
    net: Decimal | None = None
    board_code: str | None = None
    cancellation_policies: list[CancellationPolicy] = []


class BookedRoom(HotelbedsModel):
    """A booked room."""

    code: str
    name: str | None = None
    status: str | None = None
    rates: list[BookedRate] = []


class BookedHotel(HotelbedsModel):
    """The hotel of a booking."""

    code: int
    name: str
    check_in: dt.date
    check_out: dt.date
    rooms: list[BookedRoom] = []
    cancellation_amount: Decimal | None = None


class Booking(PricedModel):
    """A booking as confirm, detail and cancel answer it."""

    reference: str
    client_reference: str
    status: str
    creation_date: dt.date | None = None
    total_net: Decimal
    pending_amount: Decimal | None = None
    currency: str
    holder: Holder | None = None
    hotel: BookedHotel
    cancellation_reference: str | None = None

    @property
    def cancellation_policies(self) -> list[CancellationPolicy]:
        """Every room's cancellation policies."""
        return [policy for room in self.hotel.rooms for rate in room.rates for policy in rate.cancellation_policies]


class BookingSummary(PricedModel):
    """A booking as the booking list shows it."""

    reference: str
    client_reference: str
    status: str
    creation_date: dt.date | None = None
    total_net: Decimal | None = None
    currency: str | None = None


class BookingList(HotelbedsModel):
    """One page of the booking list (``from_``/``to``: 1-based, inclusive)."""

    from_: int = Field(validation_alias="from")
    to: int
    total: int
    bookings: list[BookingSummary] = []


class ContentHotel(HotelbedsModel):
    """A hotel's static content (Content API)."""

    code: int
    name: Text = None
    description: Text = None
    country_code: str | None = None
    destination_code: str | None = None
    category_code: str | None = None
    address: Text = None
    city: Text = None
    postal_code: str | None = None
    email: str | None = None
    last_update: str | None = None


class ContentPage(HotelbedsModel):
    """One page of the Content API's hotels."""

    from_: int = Field(validation_alias="from")
    to: int
    total: int
    hotels: list[ContentHotel] = []
