"""What a caller may search for: validated here, before any of the quota is spent.

The body Hotelbeds receives is built from the validated search and is
normalised (rooms grouped, codes sorted), so equal searches share one cache
entry however the caller ordered them.

An answer must fit what Lambda can return (6 MB; API Gateway answers 502
beyond it) and what the cache can keep: its size grows with hotels x distinct
rooms x rates. So a search names at most ``MAX_HOTEL_ROOMS`` hotel x distinct
room pairs (a 422 names the limit; a destination search asks Hotelbeds for at
most that many hotels, ``filter.maxHotels``) and asks for at most
``MAX_RATES_PER_ROOM`` rates per room (``filter.maxRatesPerRoom``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, model_validator

MAX_NIGHTS = 30
# Hotelbeds publishes no booking window; a year ahead is the and the trade's usual horizon.
BOOKING_WINDOW_DAYS = 365
# "Today" is the earliest calendar day anywhere (UTC-12): tonight's check-in is today for a caller in the Americas.
EARLIEST_ZONE = dt.timezone(dt.timedelta(hours=-12))
# About 1.5 KB of answer per hotel, distinct room and its rates: 500 pairs stay near 1 MB, far below 6 MB.
MAX_HOTEL_ROOMS = 500
MAX_RATES_PER_ROOM = 10


def _plain_date(value: Any) -> Any:
    """A date exactly as ``YYYY-MM-DD``: a time or a zone would move the stay by a day somewhere."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):  # not a timestamp either
        raise ValueError("a date as YYYY-MM-DD, with no time or zone")
    return value


PlainDate = Annotated[dt.date, BeforeValidator(_plain_date)]
# Whole numbers as JSON numbers only: "2" and true are not counts.
Age = Annotated[int, Strict(), Field(ge=0, le=17)]
DestinationCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
HotelCode = Annotated[int, Strict(), Field(ge=1, le=99_999_999)]


class RoomOccupancy(BaseModel):
    """One room: its adults, and each child's age (Hotelbeds prices children by age)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    adults: Annotated[int, Strict()] = Field(ge=1, le=8)
    children_ages: list[Age] = Field(default_factory=list, max_length=4)


class AvailabilitySearch(BaseModel):
    """Hotels and rates for a stay: dates, 1-9 rooms, and either hotel codes or a destination."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check_in: PlainDate
    check_out: PlainDate
    rooms: list[RoomOccupancy] = Field(min_length=1, max_length=9)
    hotels: list[HotelCode] | None = Field(default=None, min_length=1, max_length=2000)
    destination: DestinationCode | None = None

    @model_validator(mode="after")
    def _stay(self) -> Self:
        today = dt.datetime.now(EARLIEST_ZONE).date()
        if self.check_in < today:
            raise ValueError("check_in must not be in the past (today is the earliest time zone's, UTC-12)")
        if self.check_in > today + dt.timedelta(days=BOOKING_WINDOW_DAYS):
            raise ValueError(f"check_in must be at most {BOOKING_WINDOW_DAYS} days ahead")
        if self.check_out <= self.check_in:
            raise ValueError("check_out must be after check_in")
        if (self.check_out - self.check_in).days > MAX_NIGHTS:
            raise ValueError(f"a stay is at most {MAX_NIGHTS} nights")
        if (self.hotels is None) == (self.destination is None):
            raise ValueError("give either hotels or destination")
        hotels, rooms = len(set(self.hotels or ())), len(self._occupancies())
        if hotels * rooms > MAX_HOTEL_ROOMS:
            raise ValueError(
                f"a search covers at most {MAX_HOTEL_ROOMS} hotel and distinct room pairs"
                f" ({hotels} hotels x {rooms} distinct rooms here): ask for fewer hotels"
            )
        return self

    def _occupancies(self) -> Counter[tuple[int, tuple[int, ...]]]:
        """The rooms grouped: each distinct room (adults, children's ages) and how many of it."""
        return Counter((room.adults, tuple(sorted(room.children_ages))) for room in self.rooms)

    def body(self) -> dict[str, Any]:
        """APItude's availability body, normalised: equal searches give equal bodies."""
        groups = self._occupancies()
        occupancies = []
        for (adults, ages), count in sorted(groups.items()):
            occupancy: dict[str, Any] = {"rooms": count, "adults": adults * count, "children": len(ages) * count}
            if ages:
                occupancy["paxes"] = [{"type": "CH", "age": age} for age in ages for _ in range(count)]
            occupancies.append(occupancy)
        body: dict[str, Any] = {
            "stay": {"checkIn": self.check_in.isoformat(), "checkOut": self.check_out.isoformat()},
            "occupancies": occupancies,
            "filter": {"maxHotels": MAX_HOTEL_ROOMS // len(groups), "maxRatesPerRoom": MAX_RATES_PER_ROOM},
        }
        if self.hotels is not None:
            body["hotels"] = {"hotel": sorted(set(self.hotels))}
        else:
            body["destination"] = {"code": self.destination}
        return body
