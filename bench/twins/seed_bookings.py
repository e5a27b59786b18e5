"""The guide's hotel bookings package: the bookings table, the request's schema, a booking as its caller sees it."""

import datetime as dt
import json
import os
from typing import Any, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict, Field

BOOKINGS_TABLE = os.environ["HOTEL_BOOKINGS_TABLE"]
OPEN = ("pending", "in-doubt")
dynamodb = boto3.client("dynamodb")
deserializer = TypeDeserializer()


class Guest(BaseModel):
    """One guest of a room (``room``: which of the rate's rooms)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["AD", "CH"] = "AD"
    name: str = Field(min_length=1, max_length=50)
    surname: str = Field(min_length=1, max_length=50)
    age: int | None = Field(default=None, ge=0, le=120)
    room: int = Field(default=1, ge=1, le=9)


class RoomBooking(BaseModel):
    """A rate from a search and the room's guests."""

    model_config = ConfigDict(extra="forbid")

    rate_key: str = Field(min_length=1, max_length=2000)
    rate_type: Literal["BOOKABLE", "RECHECK"] = "BOOKABLE"
    guests: list[Guest] = Field(min_length=1, max_length=12)


class Holder(BaseModel):
    """Who the booking is for."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50)
    surname: str = Field(min_length=1, max_length=50)


class BookingRequest(BaseModel):
    """The body of POST /hotel-bookings."""

    model_config = ConfigDict(extra="forbid")

    holder: Holder
    rooms: list[RoomBooking] = Field(min_length=1, max_length=9)
    remark: str | None = Field(default=None, max_length=2000)


def caller(event: dict[str, Any]) -> str:
    """The IAM principal API Gateway authenticated."""
    identity = event["requestContext"]["identity"]
    return str(identity.get("userArn") or identity["caller"])


def load(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values."""
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def find(booking_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """The caller's booking; None for an unknown id or another caller's."""
    item = dynamodb.get_item(TableName=BOOKINGS_TABLE, Key={"id": {"S": booking_id}}, ConsistentRead=True).get("Item")
    booking = None if item is None else load(item)
    return booking if booking is not None and booking["caller"] == caller(event) else None


def _iso(milliseconds: Any) -> str:
    return dt.datetime.fromtimestamp(int(milliseconds) / 1000, dt.UTC).isoformat(timespec="seconds")


def public(booking: dict[str, Any]) -> dict[str, Any]:
    """The booking as its caller sees it: pending (also in doubt), confirmed, failed or cancelled."""
    answer: dict[str, Any] = {
        "id": booking["id"],
        "status": "pending" if booking["status"] in OPEN else booking["status"],
        "client_reference": booking["client_reference"],
        "created_at": _iso(booking["created_at"]),
        "updated_at": _iso(booking["updated_at"]),
    }
    if "booking" in booking:
        confirmed = json.loads(booking["booking"])
        hotel = confirmed["hotel"]
        answer |= {
            "reference": confirmed["reference"],
            "total_net": confirmed["total_net"],
            "currency": confirmed["currency"],
            "hotel": {name: hotel[name] for name in ("code", "name", "check_in", "check_out")},
            "cancellation_policies": [
                policy for room in hotel["rooms"] for rate in room["rates"] for policy in rate["cancellation_policies"]
            ],
        }
        if booking["status"] == "cancelled":
            answer |= {
                "cancellation_reference": confirmed.get("cancellation_reference"),
                "cancellation_amount": hotel.get("cancellation_amount"),
            }
    if "failure" in booking:
        answer["failure"] = booking["failure"]
    return answer
