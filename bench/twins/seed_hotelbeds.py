"""The guide's Hotelbeds package: APItude's credentials read at import, each request signed, its answers as models."""

import datetime as dt
import hashlib
import os
import time
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from seed import http, secret

CREDENTIALS = secret("HOTELBEDS_SECRET_ARN")
API_BASE = os.environ["HOTELBEDS_API_BASE"]
BOOKING_API = "/hotel-api/1.0"


def hotelbeds(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One APItude request, signed now (X-Signature: SHA-256 of key, secret and Unix seconds); its JSON answer."""
    api_key = CREDENTIALS["api_key"]
    signature = hashlib.sha256(f"{api_key}{CREDENTIALS['secret']}{int(time.time())}".encode()).hexdigest()
    headers = {"Api-key": api_key, "X-Signature": signature, "Accept": "application/json", "Accept-Encoding": "gzip"}
    response = http.request(method, API_BASE + path, headers=headers, **kwargs)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


class HotelbedsModel(BaseModel):
    """Read by APItude's camelCase names, written by ours."""

    model_config = ConfigDict(alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True)


class CancellationPolicy(HotelbedsModel):
    """From ``applies_from`` on, cancelling costs ``amount``."""

    amount: Decimal
    applies_from: dt.datetime = Field(validation_alias=AliasChoices("from", "applies_from"))


class Rate(HotelbedsModel):
    """One price of a room."""

    rate_key: str
    rate_class: str | None = None
    rate_type: str
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
    """A hotel with availability."""

    code: int
    name: str
    category_code: str | None = None
    destination_code: str | None = None
    currency: str
    min_rate: Decimal | None = None
    max_rate: Decimal | None = None
    rooms: list[Room] = []


class Availability(HotelbedsModel):
    """The answer to a search."""

    hotels: list[Hotel] = []
    total: int = 0


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
    hotel: BookedHotel
    cancellation_reference: str | None = None
