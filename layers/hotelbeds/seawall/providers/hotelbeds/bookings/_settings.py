"""The booking functions' settings, from the environment."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BookingSettings(BaseModel):
    """Where bookings are kept, and how long Hotelbeds may still be confirming a booking whose answer was lost."""

    table: str = Field(alias="HOTEL_BOOKINGS_TABLE", min_length=1)
    settle_seconds: float = Field(alias="HOTELBEDS_BOOKING_SETTLE_SECONDS", default=60.0, ge=0)
