"""A Hotelbeds APItude sandbox: availability, check-rate, bookings and content in Hotelbeds' wire format, with faults.

Authentication as APItude's gateway (Mashery) does it, verified here with hashlib alone: ``Api-key`` must
be a key the sandbox knows (else 403 ``ERR_403_DEVELOPER_INACTIVE``) and ``X-Signature`` the hex SHA-256 of
api key + secret + Unix seconds, for some second within 300 s of the sandbox's clock (else 401
``ERR_401_INVALID_SIGNATURE``). Each key has a quota per UTC day: once spent, 403
``ERR_403_DEVELOPER_OVER_RATE`` in HTML, and refusals are not counted as use. An optional limit per sliding
second answers 403 ``ERR_403_DEVELOPER_OVER_QPS``.

Answers are ``application/json;charset=UTF-8`` with ``auditData``, gzip-compressed when the client accepts
gzip. A deterministic catalogue (hotel ``i`` in ``DESTINATIONS[i % 5]``) backs availability and the content
API. Prices derive from hotel, room and rate class, so a ``rateKey`` carries everything needed to check or
book it and the sandbox keeps nothing per search; a key it cannot read back exactly is a 400. A RECHECK rate
must go through ``checkrates`` (which answers a BOOKABLE key) before it can be booked. Bookings are never
deduplicated by ``clientReference`` (Hotelbeds does not: avoiding a double booking is the client's job);
cancelling is idempotent and can be simulated (``cancellationFlag=SIMULATION``) to learn the fee.

Faults, per test (``configure_faults`` or ``sandbox.faults``) or per run (``POST /_sandbox/faults``): latency,
the daily quota, a per-second limit, a clock offset (the sandbox's clock runs ahead or behind: signatures,
quota days, creation dates and cancellation fees all read it), a queue of one-off faults and random rules,
each optionally limited to a method and a path prefix. Kinds: ``status`` (answer an error without doing the
request), ``reset`` (drop the connection without doing it), ``lost`` (do it, then drop the connection: the
booking exists but the client never hears), ``error_after`` (do it, then answer an error) and ``slow`` (wait,
then do it and answer; a client with a shorter timeout gives up on a booking that exists).
``GET /_sandbox/faults`` and ``GET /_sandbox/bookings`` report what happened, ``POST /_sandbox/hotels``
resizes the catalogue and ``POST /_sandbox/reset`` starts over.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from local.httpserver import Handler, LocalServer, Sandbox, problem
from local.sandboxes import LocalProvider
from local.sandboxes.faults import FaultPlan, faulted

JSON_TYPE = "application/json;charset=UTF-8"
PAX_FIELDS = {"roomId", "type", "name", "surname", "age"}
RELEASE = "sandbox-1.0"
DESTINATIONS = ["PMI", "BCN", "MAD", "LON", "PAR"]


class Place(NamedTuple):
    """Where a destination's hotels are."""

    name: str
    country: str
    latitude: float
    longitude: float
    postal_code: str
    phone_prefix: str


PLACES = {
    "PMI": Place("Majorca", "ES", 39.57, 2.65, "07001", "+34971"),
    "BCN": Place("Barcelona", "ES", 41.39, 2.17, "08001", "+34932"),
    "MAD": Place("Madrid", "ES", 40.42, -3.70, "28001", "+34915"),
    "LON": Place("London", "GB", 51.51, -0.13, "WC2N 5DU", "+44207"),
    "PAR": Place("Paris", "FR", 48.86, 2.35, "75001", "+33142"),
}
ROOMS = {"DBL.ST": "DOUBLE STANDARD", "TWN.SU": "TWIN SUPERIOR"}


class Plan(NamedTuple):
    """A rate class: its board, the rate type availability shows, and the share of the net a cancellation costs."""

    board: str
    board_name: str
    rate_type: str
    cancellation_share: Decimal


# One BOOKABLE and one RECHECK rate per room and occupancy.
PLANS = {
    "NOR": Plan("RO", "ROOM ONLY", "BOOKABLE", Decimal("0.2")),
    "NRF": Plan("BB", "BED AND BREAKFAST", "RECHECK", Decimal(1)),
}
RATE_TYPES = ("BOOKABLE", "RECHECK")
CENT = Decimal("0.01")
SIGNATURE_WINDOW = 300  # seconds either side of the sandbox's clock
# Signatures are tried nearest second first: a client with a good clock is found at once.
SIGNATURE_OFFSETS = sorted(range(-SIGNATURE_WINDOW, SIGNATURE_WINDOW + 1), key=abs)
AVAILABILITY_LIMIT = 1000  # hotels answered for a destination (fewer when the filter asks)
BOOKING_PAGE_LIMIT = 100
CONTENT_PAGE_LIMIT = 1000
HOLDER_NAME_LIMIT = 50
CLIENT_REFERENCE_LIMIT = 20
CHILD_AGE_LIMIT = 17
CONTENT_UPDATED = "2026-11-01"


class HotelbedsError(Exception):
    """An error answer in Hotelbeds' shape: ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"code": code, "message": message}}


def _invalid(message: str) -> HotelbedsError:
    return HotelbedsError(400, "INVALID_REQUEST", message)


@dataclass
class Faults:
    """What the sandbox does wrong, and how often."""

    latency: float = 0.0
    daily_quota: int = 10_000
    requests_per_second: int | None = None
    clock_offset: float = 0.0
    plan: FaultPlan = field(default_factory=FaultPlan)


def _nightly_price(hotel: int, room: str, rate_class: str) -> Decimal:
    """A price per room and night, 60.00 to 299.99, the same every time for the same hotel, room and rate."""
    digest = hashlib.sha256(f"{hotel}|{room}|{rate_class}".encode()).digest()
    return (Decimal(6000 + int.from_bytes(digest[:4], "big") % 24000) / 100).quantize(CENT)


@dataclass(frozen=True)
class RateKey:
    """Everything a rate is, written into its ``rateKey`` so the sandbox needs no state to read it back."""

    check_in: date
    check_out: date
    hotel: int
    room: str
    rate_class: str
    rate_type: str
    rooms: int
    adults: int
    children: int
    ages: tuple[int, ...] = ()

    @property
    def plan(self) -> Plan:
        """The rate class's board and cancellation terms."""
        return PLANS[self.rate_class]

    @property
    def net(self) -> Decimal:
        """The whole stay's price: per night, times nights, times rooms."""
        nights = (self.check_out - self.check_in).days
        return (_nightly_price(self.hotel, self.room, self.rate_class) * nights * self.rooms).quantize(CENT)

    def cancellation_policies(self) -> list[dict[str, str]]:
        """What cancelling costs from the day before check-in (Hotelbeds writes times in the hotel's zone)."""
        amount = (self.net * self.plan.cancellation_share).quantize(CENT)
        since = self.check_in - timedelta(days=1)
        return [{"amount": f"{amount}", "from": f"{since.isoformat()}T23:59:00+01:00"}]

    def __str__(self) -> str:
        ages = ",".join(str(age) for age in self.ages)
        return (
            f"{self.check_in:%Y%m%d}|{self.check_out:%Y%m%d}|W|{self.hotel}|1|{self.room}|"
            f"{self.rate_class}-{self.rate_type}|{self.plan.board}||{self.rooms}~{self.adults}~{self.children}|"
            f"{ages}|N@{self.net}"
        )

    @classmethod
    def parse(cls, text: Any, hotels: int) -> RateKey:
        """The rate a key names; 400 unless it is exactly a key the sandbox wrote for a hotel it has."""
        try:
            fields = text.split("|")
            rate_class, rate_type = fields[6].split("-")
            rooms, adults, children = (int(part) for part in fields[9].split("~"))
            key = cls(
                check_in=datetime.strptime(fields[0], "%Y%m%d").date(),
                check_out=datetime.strptime(fields[1], "%Y%m%d").date(),
                hotel=int(fields[3]),
                room=fields[5],
                rate_class=rate_class,
                rate_type=rate_type,
                rooms=rooms,
                adults=adults,
                children=children,
                ages=tuple(int(age) for age in fields[10].split(",") if age),
            )
            # Writing it again must give the same text: that checks the net, the board and every field's form.
            valid = (
                key.room in ROOMS
                and key.rate_type in RATE_TYPES
                and 1 <= key.hotel <= hotels
                and key.rooms >= 1
                and key.adults >= 1
                and all(0 <= age <= CHILD_AGE_LIMIT for age in key.ages)
                and key.check_out > key.check_in
                and len(key.ages) == key.children
                and str(key) == text
            )
        except (AttributeError, IndexError, KeyError, ValueError):
            valid = False
        if not valid:
            raise _invalid(f"The rateKey {str(text)[:120]!r} is not valid")
        return key


@dataclass(frozen=True)
class Hotel:
    """One hotel of the catalogue, derived from its code alone."""

    code: int

    @property
    def destination(self) -> str:
        """The destination code: the catalogue spreads hotels over DESTINATIONS in turn."""
        return DESTINATIONS[self.code % len(DESTINATIONS)]

    @property
    def place(self) -> Place:
        """The destination's details."""
        return PLACES[self.destination]

    @property
    def stars(self) -> int:
        """3 to 5."""
        return 3 + self.code % 3

    @property
    def zone(self) -> int:
        """1 to 3 within the destination."""
        return 1 + self.code % 3

    @property
    def coordinates(self) -> tuple[float, float]:
        """Latitude and longitude, a little apart per hotel."""
        shift = (self.code % 10) / 1000
        return round(self.place.latitude + shift, 4), round(self.place.longitude + shift, 4)

    def summary(self) -> dict[str, Any]:
        """The fields availability, check-rate and bookings show."""
        return {
            "code": self.code,
            "name": f"Sandbox Hotel {self.code}",
            "categoryCode": f"{self.stars}EST",
            "categoryName": f"{self.stars} STARS",
            "destinationCode": self.destination,
            "destinationName": self.place.name,
            "zoneCode": self.zone,
            "zoneName": f"{self.place.name} Zone {self.zone}",
            "latitude": str(self.coordinates[0]),
            "longitude": str(self.coordinates[1]),
        }

    def content(self) -> dict[str, Any]:
        """The content API's entry."""
        name = f"Sandbox Hotel {self.code}"
        latitude, longitude = self.coordinates
        return {
            "code": self.code,
            "name": {"content": name},
            "description": {"content": f"{name}, a {self.stars}-star sandbox hotel in {self.place.name}."},
            "countryCode": self.place.country,
            "destinationCode": self.destination,
            "zoneCode": self.zone,
            "categoryCode": f"{self.stars}EST",
            "coordinates": {"longitude": longitude, "latitude": latitude},
            "address": {"content": f"{self.code} Sandbox Street"},
            "postalCode": self.place.postal_code,
            "city": {"content": self.place.name.upper()},
            "email": f"hotel{self.code}@sandbox.example",
            "phones": [{"phoneNumber": f"{self.place.phone_prefix}{self.code:06d}", "phoneType": "PHONEBOOKING"}],
            "lastUpdate": CONTENT_UPDATED,
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _iso_date(value: Any, name: str) -> date:
    """A YYYY-MM-DD date, exactly."""
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise _invalid(f"{name} must be a date as YYYY-MM-DD")
    return parsed


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
        raise _invalid(f"{name} must be 1 to {limit} characters")
    return value


def _index(query: dict[str, str], name: str) -> int:
    value = query.get(name, "")
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise _invalid(f"{name} is required: a position from 1")
    return int(value)


def _page(query: dict[str, str], limit: int) -> tuple[int, int]:
    first, last = _index(query, "from"), _index(query, "to")
    if last < first or last - first + 1 > limit:
        raise _invalid(f"from..to must name 1 to {limit} items")
    return first, last


def _whole(value: Any, name: str, minimum: int) -> int:
    if not _is_int(value) or value < minimum:
        raise _invalid(f"{name} must be a whole number from {minimum}")
    return int(value)


def _occupancies(value: Any) -> list[tuple[int, int, int, tuple[int, ...]]]:
    """Rooms, adults, children and the children's ages, per occupancy asked for."""
    if not isinstance(value, list) or not value:
        raise _invalid("occupancies must be a non-empty list")
    occupancies = []
    for item in value:
        if not isinstance(item, dict):
            raise _invalid("each occupancy must be an object")
        rooms = _whole(item.get("rooms"), "occupancies.rooms", 1)
        adults = _whole(item.get("adults"), "occupancies.adults", 1)
        children = _whole(item.get("children", 0), "occupancies.children", 0)
        paxes = item.get("paxes", [])
        if not isinstance(paxes, list) or not all(isinstance(pax, dict) for pax in paxes):
            raise _invalid("paxes must be a list of objects")
        ages = tuple(pax.get("age") for pax in paxes if pax.get("type") == "CH")
        if len(ages) != children or not all(_is_int(age) and 0 <= age <= CHILD_AGE_LIMIT for age in ages):
            raise _invalid("each child needs a pax of type CH with an age from 0 to 17")
        occupancies.append((rooms, adults, children, ages))
    return occupancies


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"null")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise _invalid("The body must be a JSON object")
    return parsed


def _plain_json(value: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def _gateway_refusal(status: int, code: str, content_type: str, body: str) -> tuple[int, dict[str, str], bytes]:
    """An answer from APItude's gateway itself: no auditData, an X-Mashery-Error-Code."""
    return status, {"Content-Type": content_type, "X-Mashery-Error-Code": code}, body.encode()


class HotelbedsSandbox(Sandbox):
    """The sandbox server on 127.0.0.1; ``credentials`` maps each api key it accepts to its shared secret."""

    def __init__(
        self, credentials: dict[str, str], port: int = 0, *, daily_quota: int = 10_000, hotels: int = 250
    ) -> None:
        self.credentials = dict(credentials)
        self.default_daily_quota = daily_quota
        self.hotel_count = hotels
        self.faults = Faults(daily_quota=daily_quota)
        self.bookings: dict[str, dict[str, Any]] = {}  # by reference, in creation order
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers
        self._sequence = 0  # never reset: a reference is never given twice
        self._lock = threading.Lock()
        self._clear_counters()
        self._server = LocalServer(("127.0.0.1", port), self._handler_class())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _clear_counters(self) -> None:
        self._usage: dict[str, tuple[date, int]] = {}  # api key -> (UTC day, requests counted that day)
        self._windows: dict[str, deque[float]] = {}  # api key -> admitted requests in the last second
        self.over_quota = 0
        self.over_qps = 0
        self.signature_failures = 0
        self.gzip_answers = 0

    # The clock, the gateway ---------------------------------------------------------------

    def now(self) -> float:
        """The sandbox's clock, Unix seconds: the real one shifted by the ``clock_offset`` fault."""
        return time.time() + self.faults.clock_offset

    def _today(self) -> date:
        return datetime.fromtimestamp(self.now(), UTC).date()

    def _signed(self, api_key: str, secret: str, signature: str) -> bool:
        signature = signature.lower()
        if len(signature) != len(hashlib.sha256().hexdigest()):
            return False
        now = int(self.now())
        return any(
            secrets.compare_digest(hashlib.sha256(f"{api_key}{secret}{now + offset}".encode()).hexdigest(), signature)
            for offset in SIGNATURE_OFFSETS
        )

    def _over_qps(self, api_key: str) -> bool:
        limit = self.faults.requests_per_second
        if limit is None:
            return False
        window = self._windows.setdefault(api_key, deque())
        now = time.monotonic()
        while window and window[0] <= now - 1:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    def _admit(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes] | None:
        """The gateway's checks in its order (key, signature, day's quota, per second); None admits. Under the lock."""
        api_key = headers.get("api-key", "")
        secret = self.credentials.get(api_key)
        if secret is None:
            return _gateway_refusal(403, "ERR_403_DEVELOPER_INACTIVE", JSON_TYPE, '{"error": "Not authorized"}')
        if not self._signed(api_key, secret, headers.get("x-signature", "")):
            self.signature_failures += 1
            body = '{"error": "Request signature verification failed"}'
            return _gateway_refusal(401, "ERR_401_INVALID_SIGNATURE", JSON_TYPE, body)
        today = self._today()
        day, used = self._usage.get(api_key, (today, 0))
        used = used if day == today else 0  # the quota renews at UTC midnight
        if used >= self.faults.daily_quota:
            self.over_quota += 1
            return _gateway_refusal(403, "ERR_403_DEVELOPER_OVER_RATE", "text/html", "<h1>Developer Over Rate</h1>")
        if self._over_qps(api_key):
            self.over_qps += 1
            return _gateway_refusal(403, "ERR_403_DEVELOPER_OVER_QPS", "text/html", "<h1>Developer Over Qps</h1>")
        self._usage[api_key] = (today, used + 1)
        return None

    # The API ------------------------------------------------------------------------------

    def _rate(self, key: RateKey) -> dict[str, Any]:
        rate: dict[str, Any] = {
            "rateKey": str(key),
            "rateClass": key.rate_class,
            "rateType": key.rate_type,
            "net": f"{key.net}",
            "allotment": 5,
            "paymentType": "AT_WEB",
            "packaging": False,
            "boardCode": key.plan.board,
            "boardName": key.plan.board_name,
            "cancellationPolicies": key.cancellation_policies(),
            "rooms": key.rooms,
            "adults": key.adults,
            "children": key.children,
        }
        if key.ages:
            rate["childrenAges"] = ",".join(str(age) for age in key.ages)
        return rate

    def _availability(self, body: dict[str, Any]) -> dict[str, Any]:
        stay = body.get("stay")
        if not isinstance(stay, dict):
            raise _invalid("stay is required: {checkIn, checkOut}")
        check_in = _iso_date(stay.get("checkIn"), "stay.checkIn")
        check_out = _iso_date(stay.get("checkOut"), "stay.checkOut")
        if check_out <= check_in:
            raise _invalid("stay.checkOut must be after stay.checkIn")
        occupancies = _occupancies(body.get("occupancies"))
        if isinstance(body.get("hotels"), dict):
            asked = body["hotels"].get("hotel")
            if not isinstance(asked, list) or not asked or not all(_is_int(code) for code in asked):
                raise _invalid("hotels.hotel must be a non-empty list of hotel codes")
            codes = [code for code in dict.fromkeys(asked) if 1 <= code <= self.hotel_count]
        elif isinstance(body.get("destination"), dict):
            destination = body["destination"].get("code")
            matching = (code for code in range(1, self.hotel_count + 1) if Hotel(code).destination == destination)
            codes = [code for code, _ in zip(matching, range(AVAILABILITY_LIMIT), strict=False)]
        else:
            raise _invalid("Either hotels or destination is required")
        codes, rates_per_room = self._filtered(codes, body.get("filter"))
        if not codes:
            return {"hotels": {"total": 0}}  # Hotelbeds leaves the list out rather than sending it empty
        hotels = []
        for code in codes:
            rooms, nets = [], []
            for room, room_name in ROOMS.items():
                keys = [
                    RateKey(check_in, check_out, code, room, rate_class, plan.rate_type, *occupancy)
                    for occupancy in occupancies
                    for rate_class, plan in PLANS.items()
                ]
                keys = keys[:rates_per_room]
                nets += [key.net for key in keys]
                rooms.append({"code": room, "name": room_name, "rates": [self._rate(key) for key in keys]})
            hotels.append(
                {
                    **Hotel(code).summary(),
                    "currency": "EUR",
                    "minRate": f"{min(nets)}",
                    "maxRate": f"{max(nets)}",
                    "rooms": rooms,
                }
            )
        stay_dates = {"checkIn": check_in.isoformat(), "checkOut": check_out.isoformat()}
        return {"hotels": {"hotels": hotels, **stay_dates, "total": len(hotels)}}

    @staticmethod
    def _filtered(codes: list[int], spec: Any) -> tuple[list[int], int | None]:
        """The hotels and rates per room a ``filter`` (``maxHotels``, ``maxRatesPerRoom``) allows: the first ones."""
        if spec is None:
            return codes, None
        if not isinstance(spec, dict):
            raise _invalid("filter must be an object")
        hotels, rates = spec.get("maxHotels"), spec.get("maxRatesPerRoom")
        for name, value in (("maxHotels", hotels), ("maxRatesPerRoom", rates)):
            if value is not None and (not _is_int(value) or value < 1):
                raise _invalid(f"filter.{name} must be a whole number from 1")
        return (codes if hotels is None else codes[:hotels]), rates

    def _rate_keys(self, rooms: Any) -> list[RateKey]:
        """The rate of each room asked for; all in one hotel for one stay, as Hotelbeds requires."""
        if not isinstance(rooms, list) or not rooms or not all(isinstance(room, dict) for room in rooms):
            raise _invalid("rooms must be a non-empty list of objects with a rateKey")
        keys = [RateKey.parse(room.get("rateKey"), self.hotel_count) for room in rooms]
        if len({(key.hotel, key.check_in, key.check_out) for key in keys}) > 1:
            raise _invalid("All rooms must be in the same hotel for the same stay")
        return keys

    def _stay_hotel(self, key: RateKey) -> dict[str, Any]:
        summary = Hotel(key.hotel).summary()
        return {
            "checkIn": key.check_in.isoformat(),
            "checkOut": key.check_out.isoformat(),
            **{name: summary[name] for name in ("code", "name", "categoryCode", "destinationCode")},
        }

    def _check_rates(self, body: dict[str, Any]) -> dict[str, Any]:
        keys = self._rate_keys(body.get("rooms"))
        rooms = [
            {
                "code": key.room,
                "name": ROOMS[key.room],
                "rates": [
                    {
                        **self._rate(replace(key, rate_type="BOOKABLE")),
                        "rateComments": "Sandbox rate. Check-in from 14:00, check-out until 12:00.",
                    }
                ],
            }
            for key in keys
        ]
        total = sum((key.net for key in keys), Decimal(0))
        return {"hotel": {**self._stay_hotel(keys[0]), "currency": "EUR", "totalNet": f"{total}", "rooms": rooms}}

    def _book(self, body: dict[str, Any]) -> dict[str, Any]:
        holder = body.get("holder")
        if not isinstance(holder, dict):
            raise _invalid("holder is required: {name, surname}")
        name = _text(holder.get("name"), "holder.name", HOLDER_NAME_LIMIT)
        surname = _text(holder.get("surname"), "holder.surname", HOLDER_NAME_LIMIT)
        client_reference = _text(body.get("clientReference"), "clientReference", CLIENT_REFERENCE_LIMIT)
        if "remark" in body and not isinstance(body["remark"], str):
            raise _invalid("remark must be text")
        if "tolerance" in body and not isinstance(body["tolerance"], int | float):
            raise _invalid("tolerance must be a number")
        keys = self._rate_keys(body.get("rooms"))
        rooms = []
        for number, (key, asked) in enumerate(zip(keys, body["rooms"], strict=True), start=1):
            if key.rate_type != "BOOKABLE":
                raise _invalid(f"The rate must be checked (checkrates) before booking: {key}")
            paxes = asked.get("paxes")
            if not isinstance(paxes, list) or not paxes:
                raise _invalid("Each room needs its paxes")
            if not all(isinstance(pax, dict) and pax.get("type") in {"AD", "CH"} for pax in paxes):
                raise _invalid("Each pax needs a type, AD or CH")
            for pax in paxes:
                if set(pax) - PAX_FIELDS:
                    raise _invalid(f"Unknown pax field: {sorted(set(pax) - PAX_FIELDS)[0]}")
                room_id = pax.get("roomId")
                if not _is_int(room_id) or not 1 <= room_id <= key.rooms:
                    raise _invalid(f"Each pax needs a roomId from 1 to the rate's {key.rooms} room(s)")
            offered = self._rate(key)
            rate = {name: offered[name] for name in ("rateClass", "net", "boardCode", "boardName", "rooms", "adults")}
            rooms.append(
                {
                    "code": key.room,
                    "name": ROOMS[key.room],
                    "status": "CONFIRMED",
                    "id": number,
                    "paxes": [
                        {name: pax[name] for name in ("roomId", "type", "name", "surname", "age") if name in pax}
                        for pax in paxes
                    ],
                    "rates": [
                        {
                            **rate,
                            "children": key.children,
                            "cancellationPolicies": key.cancellation_policies(),
                        }
                    ],
                }
            )
        total = float(sum((key.net for key in keys), Decimal(0)))  # Hotelbeds sends a number here
        self._sequence += 1
        reference = f"102-{self._sequence:07d}"
        booking: dict[str, Any] = {
            "reference": reference,
            "clientReference": client_reference,
            "creationDate": self._today().isoformat(),
            "status": "CONFIRMED",
            "modificationPolicies": {"cancellation": True, "modification": True},
            "holder": {"name": name, "surname": surname},
            "hotel": {
                **self._stay_hotel(keys[0]),
                "categoryName": Hotel(keys[0].hotel).summary()["categoryName"],
                "rooms": rooms,
                "totalNet": total,
                "currency": "EUR",
                "supplier": {"name": "SANDBOX HOTELS S.L.", "vatNumber": "ESB00000000"},
            },
            "totalNet": total,
            "pendingAmount": total,
            "currency": "EUR",
        }
        if "remark" in body:
            booking["remark"] = body["remark"]
        self.bookings[reference] = booking
        return {"booking": copy.deepcopy(booking)}

    def _booking(self, reference: str) -> dict[str, Any]:
        booking = self.bookings.get(reference)
        if booking is None:
            raise HotelbedsError(404, "INVALID_DATA", f"Booking {reference} not found")
        return booking

    def _list_bookings(self, query: dict[str, str]) -> dict[str, Any]:
        start, end = _iso_date(query.get("start"), "start"), _iso_date(query.get("end"), "end")
        if end < start:
            raise _invalid("end must not be before start")
        first, last = _page(query, BOOKING_PAGE_LIMIT)
        filter_type, status = query.get("filterType", "CREATION"), query.get("status", "ALL")
        if filter_type not in {"CREATION", "CHECKIN"}:
            raise _invalid("filterType must be CREATION or CHECKIN")
        if status not in {"ALL", "CONFIRMED", "CANCELLED"}:
            raise _invalid("status must be ALL, CONFIRMED or CANCELLED")
        matches = [
            booking
            for booking in self.bookings.values()
            if start.isoformat()
            <= (booking["creationDate"] if filter_type == "CREATION" else booking["hotel"]["checkIn"])
            <= end.isoformat()
            and status in {"ALL", booking["status"]}
            and query.get("clientReference", booking["clientReference"]) == booking["clientReference"]
        ]
        summaries = [
            {
                **{name: booking[name] for name in ("reference", "clientReference", "creationDate", "status")},
                "holder": booking["holder"],
                "hotel": {name: booking["hotel"][name] for name in ("checkIn", "checkOut", "code", "name")},
                **{name: booking[name] for name in ("totalNet", "pendingAmount", "currency")},
            }
            for booking in matches[first - 1 : last]
        ]
        return {"bookings": {"from": first, "to": last, "total": len(matches), "bookings": copy.deepcopy(summaries)}}

    def _cancellation_fee(self, booking: dict[str, Any]) -> float:
        """What cancelling now costs: per rate, the amount of the latest policy already in force."""
        now = datetime.fromtimestamp(self.now(), UTC)
        fee = Decimal(0)
        for room in booking["hotel"]["rooms"]:
            for rate in room["rates"]:
                due = [
                    Decimal(policy["amount"])
                    for policy in rate["cancellationPolicies"]
                    if datetime.fromisoformat(policy["from"]) <= now
                ]
                fee += max(due, default=Decimal(0))
        return float(fee)

    def _cancel(self, reference: str, flag: str) -> dict[str, Any]:
        booking = self._booking(reference)
        if flag not in {"SIMULATION", "CANCELLATION"}:
            raise _invalid("cancellationFlag must be SIMULATION or CANCELLATION")
        if booking["status"] == "CANCELLED":  # cancelling again answers the cancelled booking
            return {"booking": copy.deepcopy(booking)}
        fee = self._cancellation_fee(booking)
        if flag == "SIMULATION":
            simulated = copy.deepcopy(booking)
            simulated["hotel"]["cancellationAmount"] = fee
            return {"booking": simulated}
        booking["status"] = "CANCELLED"
        booking["cancellationReference"] = f"C{reference.removeprefix('102-')}"
        booking["hotel"]["cancellationAmount"] = fee
        for room in booking["hotel"]["rooms"]:
            room["status"] = "CANCELLED"
        return {"booking": copy.deepcopy(booking)}

    def _content(self, query: dict[str, str]) -> dict[str, Any]:
        first, last = _page(query, CONTENT_PAGE_LIMIT)
        last = min(last, self.hotel_count)
        hotels = [Hotel(code).content() for code in range(first, last + 1)]
        return {"from": first, "to": last, "total": self.hotel_count, "hotels": hotels}

    def route(  # noqa: PLR0911 (one answer per endpoint)
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one admitted API request (status, JSON body without auditData). Call it under the lock."""
        parts = [part for part in path.split("/") if part]
        match method, parts:
            case "GET", ["hotel-api", "1.0", "status"]:
                return 200, {"status": "OK"}
            case "POST", ["hotel-api", "1.0", "hotels"]:
                return 200, self._availability(_json_object(body))
            case "POST", ["hotel-api", "1.0", "checkrates"]:
                return 200, self._check_rates(_json_object(body))
            case "POST", ["hotel-api", "1.0", "bookings"]:
                return 200, self._book(_json_object(body))
            case "GET", ["hotel-api", "1.0", "bookings"]:
                return 200, self._list_bookings(query)
            case "GET", ["hotel-api", "1.0", "bookings", reference]:
                return 200, {"booking": copy.deepcopy(self._booking(reference))}
            case "DELETE", ["hotel-api", "1.0", "bookings", reference]:
                return 200, self._cancel(reference, query.get("cancellationFlag", "CANCELLATION"))
            case "GET", ["hotel-content-api", "1.0", "hotels"]:
                return 200, self._content(query)
        raise HotelbedsError(404, "INVALID_DATA", f"No resource for {method} {path}")

    # HTTP ---------------------------------------------------------------------------------

    def _payload(self, result: dict[str, Any], started: float, client: str) -> bytes:
        audit = {
            "processTime": str(max(1, round((time.monotonic() - started) * 1000))),
            "timestamp": datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "requestHost": client,
            "serverId": "sandbox",
            "environment": "[int]",
            "release": RELEASE,
        }
        return json.dumps({"auditData": audit, **result}).encode()

    def _answer(self, status: int, payload: bytes, compress: bool) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": JSON_TYPE}
        if compress:
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
            with self._lock:
                self.gzip_answers += 1
        return status, headers, payload

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, *, client: str = "127.0.0.1"
    ) -> tuple[int, dict[str, str], bytes] | None:
        """One API request in, (status, headers, body) out; ``None`` drops the connection (``reset``, ``lost``)."""
        started = time.monotonic()
        url = urlsplit(target)
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            self.requests.append((method, url.path, headers))
            latency = self.faults.latency
        if latency:
            time.sleep(latency)
        with self._lock:
            refusal = self._admit(lowered)
            fault = None if refusal is not None else self.faults.plan.draw(method, url.path)
        if refusal is not None:
            return refusal
        compress = "gzip" in lowered.get("accept-encoding", "").lower()
        injected = {"error": {"code": "SYSTEM_ERROR", "message": "Injected failure"}}

        def perform() -> tuple[int, dict[str, str], bytes]:
            with self._lock:
                try:
                    status, result = self.route(method, url.path, dict(parse_qsl(url.query)), body)
                except HotelbedsError as error:
                    status, result = error.status, error.body
                payload = self._payload(result, started, client)  # serialised under the lock: bookings change
            return self._answer(status, payload, compress)

        return faulted(
            fault, perform, lambda status: self._answer(status, self._payload(injected, started, client), compress)
        )

    def control(self, method: str, path: str, spec: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Answer a ``/_sandbox/...`` request; raises ValueError or TypeError on a bad one."""
        match method, path:
            case "POST", "/_sandbox/faults":
                self.configure_faults(spec)
            case "GET", "/_sandbox/faults":
                return _plain_json(self.fault_report())
            case "GET", "/_sandbox/bookings":
                return _plain_json(self.booking_report())
            case "POST", "/_sandbox/hotels":
                self.set_hotels(spec["count"])
            case "POST", "/_sandbox/reset":
                self.reset()
            case _:
                return problem(404, f"no sandbox control at {method} {path}")
        return 204, {}, b""

    def serve_api(self, request: Handler, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """An APItude request through :meth:`handle`."""
        headers = dict(request.headers.items())
        return self.handle(request.command, request.path, headers, body, client=request.client_address[0])

    # Control ------------------------------------------------------------------------------

    def configure_faults(self, spec: dict[str, Any]) -> None:
        """Replace the faults from JSON.

        ``{"latency": s, "daily_quota": n, "requests_per_second": n, "clock_offset": s,
        "queue": [{"kind", "status"?, "seconds"?, "method"?, "path"?}], "rules": [{"method"?, "path"?,
        "lost"?, "reset"?, "slow"?, "error_after"?, "status"?, "slow_seconds"?, "status_code"?,
        "error_after_status"?}]}``; what is left out goes back to its default. The day's counts are kept.
        """
        known = {"latency", "daily_quota", "requests_per_second", "clock_offset", "queue", "rules"}
        if set(spec) - known:
            raise ValueError(f"unknown fault settings: {sorted(set(spec) - known)}")
        per_second = spec.get("requests_per_second")
        faults = Faults(
            latency=float(spec.get("latency", 0)),
            daily_quota=int(spec.get("daily_quota", self.default_daily_quota)),
            requests_per_second=None if per_second is None else int(per_second),
            clock_offset=float(spec.get("clock_offset", 0)),
            plan=FaultPlan.from_spec(spec),
        )
        if faults.latency < 0 or faults.daily_quota < 0:
            raise ValueError("latency and daily_quota cannot be negative")
        with self._lock:
            self.faults = faults

    def fault_report(self) -> dict[str, Any]:
        """The faults set, and what the gateway refused or compressed so far."""
        with self._lock:
            today = self._today()
            return {
                "latency": self.faults.latency,
                "queued": len(self.faults.plan.queue),
                "rules": len(self.faults.plan.rules),
                "daily_quota": self.faults.daily_quota,
                "requests_per_second": self.faults.requests_per_second,
                "clock_offset": self.faults.clock_offset,
                "used_today": sum(used for day, used in self._usage.values() if day == today),
                "over_quota": self.over_quota,
                "over_qps": self.over_qps,
                "signature_failures": self.signature_failures,
                "gzip_answers": self.gzip_answers,
                "requests": len(self.requests),
            }

    def booking_report(self) -> dict[str, Any]:
        """Every booking made (reference, clientReference, status), and how many per clientReference."""
        with self._lock:
            bookings = [
                {name: booking[name] for name in ("reference", "clientReference", "status")}
                for booking in self.bookings.values()
            ]
        return {
            "bookings": bookings,
            "by_client_reference": dict(Counter(booking["clientReference"] for booking in bookings)),
        }

    def set_hotels(self, count: int) -> None:
        """Resize the catalogue to hotels 1..count."""
        if not _is_int(count) or count < 0:
            raise ValueError("count must be a whole number from 0")
        with self._lock:
            self.hotel_count = count

    def reset(self) -> None:
        """Forget bookings, requests, counters and faults (references keep counting up)."""
        with self._lock:
            self.bookings.clear()
            self.requests.clear()
            self._clear_counters()
            self.faults = Faults(daily_quota=self.default_daily_quota)


# The suite's daily quota, the functions' and the sandbox's: one its pace never meets (the quota has its own tests).
SUITE_DAILY_QUOTA = 1_000_000


def _start(secret_values: Mapping[str, Any], parameters: Mapping[str, str], port: int) -> HotelbedsSandbox:
    credentials = secret_values["HotelbedsSecret"]
    # The sandbox's quota is the one the template gives the functions: they stop before it answers 403.
    sandbox = HotelbedsSandbox(
        {credentials["api_key"]: credentials["secret"]}, port, daily_quota=int(parameters["HotelbedsDailyQuota"])
    )
    sandbox.start()
    return sandbox


PROVIDER = LocalProvider(
    name="hotelbeds",
    default_port=12112,
    secrets={"HotelbedsSecret": lambda: {"api_key": secrets.token_hex(16), "secret": secrets.token_hex(8)}},
    start=_start,
    environment=lambda sandbox: {"HOTELBEDS_API_BASE": sandbox.url},
    describe=lambda sandbox, parameters: (
        f"Hotelbeds sandbox: {sandbox.url}  (APItude's wire format, signatures checked; daily quota"
        f" {parameters.get('HotelbedsDailyQuota')}; faults: POST {sandbox.url}/_sandbox/faults;"
        f" bookings made: GET {sandbox.url}/_sandbox/bookings)"
    ),
    test_environment={
        "HOTELBEDS_REQUESTS_PER_SECOND": "1000",
        "HOTELBEDS_DAILY_QUOTA": str(SUITE_DAILY_QUOTA),
        # The sandbox has made a booking before it answers (tests of slow answers set a settle time of their own).
        "HOTELBEDS_BOOKING_SETTLE_SECONDS": "0",
    },
)
