"""A caller's booking request, and the ids derived from the caller's Idempotency-Key.

The booking id and the clientReference sent to Hotelbeds both come from the
caller-scoped key (never the clock): the same key always names the same
booking, and the clientReference is what finds it again at Hotelbeds when an
answer was lost.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# APItude: names at most 50 characters; clientReference at most 20.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
CLIENT_REFERENCE_LENGTH = 20
BookingId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class Guest(BaseModel):
    """One guest of a room: an adult, or a child with an age."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["AD", "CH"] = "AD"
    name: Name
    surname: Name
    age: int | None = Field(default=None, ge=0, le=17)

    @model_validator(mode="after")
    def _child_age(self) -> Self:
        if self.type == "CH" and self.age is None:
            raise ValueError("a child needs an age")
        return self


class RoomBooking(BaseModel):
    """A rate to book (its ``rate_key`` from a search, untouched) and the room's guests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_key: str = Field(min_length=1, max_length=2000)
    rate_type: Literal["BOOKABLE", "RECHECK"] = "BOOKABLE"
    guests: list[Guest] = Field(min_length=1, max_length=12)


class Holder(BaseModel):
    """Who the booking is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    surname: Name


class BookingRequest(BaseModel):
    """The body of POST /hotel-bookings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holder: Holder
    rooms: list[RoomBooking] = Field(min_length=1, max_length=9)
    remark: str | None = Field(default=None, max_length=2000)

    def body(self, client_reference: str, rate_keys: list[str]) -> dict[str, Any]:
        """APItude's confirmation body, with ``rate_keys`` (checked ones, for RECHECK rates) in room order."""
        body: dict[str, Any] = {
            "holder": self.holder.model_dump(),
            "rooms": [
                {
                    "rateKey": rate_key,
                    "paxes": [{"roomId": 1, **guest.model_dump(exclude_none=True)} for guest in room.guests],
                }
                for room, rate_key in zip(self.rooms, rate_keys, strict=True)
            ],
            "clientReference": client_reference,
            "tolerance": 2,
        }
        if self.remark:
            body["remark"] = self.remark
        return body


def booking_ids(provider_key: str) -> tuple[str, str]:
    """The booking id and the clientReference for a caller-scoped key (both stable, neither reveals the key)."""
    digest = hashlib.sha256(provider_key.encode()).hexdigest()
    return digest[:32], digest[:CLIENT_REFERENCE_LENGTH].upper()
