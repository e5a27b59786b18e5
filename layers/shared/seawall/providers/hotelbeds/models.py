"""APItude's answers as pydantic models: money as Decimal (from its strings and numbers), rateKey opaque.

Fields are read by Hotelbeds' camelCase names and written by ours (snake
case), so the API's answers and its OpenAPI document say the same thing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, AliasGenerator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _content(value: Any) -> Any:
    """Content API texts come wrapped: ``{"content": "..."}``."""
    return value.get("content") if isinstance(value, dict) else value


Text = Annotated[str | None, BeforeValidator(_content)]


class HotelbedsModel(BaseModel):
    """Read by Hotelbeds' names or ours; extra fields ignored (Hotelbeds adds them freely)."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True, extra="ignore", frozen=True
    )


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


class Hotel(HotelbedsModel):
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


class CheckedRate(HotelbedsModel):
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


class Booking(HotelbedsModel):
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


class BookingSummary(HotelbedsModel):
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
