"""A caller's booking request, and the ids derived from the caller's Idempotency-Key.

The booking id and the clientReference sent to Hotelbeds both come from the
caller-scoped key (never the clock): the same key always names the same
booking, and the clientReference is what finds it again at Hotelbeds when an
answer was lost.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator

from seawall.providers.hotelbeds.models import money

# APItude: names at most 50 characters; clientReference at most 20. Names are printable text: no control
# characters, no bidirectional overrides (they would reach a hotel's systems and vouchers as they are).
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=50,
        pattern=r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+$",
    ),
]
CLIENT_REFERENCE_LENGTH = 20
BookingId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
ADULT_AGE = 18


class Guest(BaseModel):
    """One guest: an adult, or a child with an age; ``room`` is which of the rate's rooms (1 unless it has several)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["AD", "CH"] = "AD"
    name: Name
    surname: Name
    age: Annotated[int, Strict()] | None = Field(default=None, ge=0, le=120)
    room: Annotated[int, Strict()] = Field(default=1, ge=1, le=9)

    @model_validator(mode="after")
    def _age(self) -> Self:
        if self.type == "CH" and (self.age is None or self.age >= ADULT_AGE):
            raise ValueError("a child needs an age under 18")
        if self.type == "AD" and self.age is not None and self.age < ADULT_AGE:
            raise ValueError("an adult is 18 or older")
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


class PriceLimit(BaseModel):
    """The most the caller will pay for the whole booking: a decimal string and its currency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}(\.[0-9]{1,3})?$")]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

    def exceeded_by(self, total: Decimal, currency: str) -> str | None:
        """Why ``total`` may not be booked under this limit; ``None`` when it may."""
        if currency != self.currency:
            return f"the rate is priced in {currency}, not in max_total's {self.currency}"
        if total > Decimal(self.amount):
            return f"the price, {money(total, currency)} {currency}, is above max_total ({self.amount} {currency})"
        return None


class BookingRequest(BaseModel):
    """The body of POST /hotel-bookings; ``max_total``: fail rather than book at a higher price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holder: Holder
    rooms: list[RoomBooking] = Field(min_length=1, max_length=9)
    remark: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
    max_total: PriceLimit | None = None

    def body(self, client_reference: str, rate_keys: list[str]) -> dict[str, Any]:
        """APItude's confirmation body, with ``rate_keys`` (checked ones, for RECHECK rates) in room order."""
        body: dict[str, Any] = {
            "holder": self.holder.model_dump(),
            "rooms": [
                {
                    "rateKey": rate_key,
                    "paxes": [
                        {"roomId": guest.room, **guest.model_dump(exclude_none=True, exclude={"room"})}
                        for guest in room.guests
                    ],
                }
                for room, rate_key in zip(self.rooms, rate_keys, strict=True)
            ],
            "clientReference": client_reference,
            # The price may move by this much (percent) between the check and the booking; never above a limit.
            "tolerance": 0 if self.max_total is not None else 2,
        }
        if self.remark:
            body["remark"] = self.remark
        return body


def booking_ids(provider_key: str) -> tuple[str, str]:
    """The booking id and the clientReference for a caller-scoped key (both stable, neither reveals the key)."""
    digest = hashlib.sha256(provider_key.encode()).hexdigest()
    return digest[:32], digest[:CLIENT_REFERENCE_LENGTH].upper()
