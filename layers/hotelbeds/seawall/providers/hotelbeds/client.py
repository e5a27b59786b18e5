"""The Hotelbeds client every Hotelbeds function uses: APItude over the layer's httpx client, behind ProviderCall.

Every request is signed afresh (``X-Signature`` holds the second it was
made), asks for gzip, and runs through the shared provider wrapper: deadline,
retry, breaker, and the limiter holding both of the key's quotas (per second
and per day), so the fleet stops before Hotelbeds answers 403. When it answers
403 over its daily quota anyway (another system sharing the key), the day's
window is marked used up fleet-wide: nobody calls again until it resets.

Bookings are never retried here: APItude has no idempotency key, so a booking
whose answer was lost may exist. The booking workflow (``bookings``) settles
that by looking its clientReference up first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel

from seawall.breaker import BreakerConfig
from seawall.config import Secret, load_settings
from seawall.errors import IntegrationError, ThrottledError
from seawall.http import Timeouts, http_client, parse_payload, send
from seawall.observability import emit
from seawall.providers.hotelbeds import SERVICE
from seawall.providers.hotelbeds.errors import (
    CREDENTIALS_REFUSED,
    QuotaExhaustedError,
    hotelbeds_error,
    not_processed,
)
from seawall.providers.hotelbeds.models import (
    Availability,
    Booking,
    BookingList,
    BookingSummary,
    CheckedRate,
    ContentPage,
)
from seawall.providers.hotelbeds.search import AvailabilitySearch
from seawall.providers.hotelbeds.secrets import HotelbedsSecret
from seawall.providers.hotelbeds.settings import HotelbedsSettings
from seawall.providers.hotelbeds.signing import signed_headers
from seawall.ratelimit import ARRIVAL_ALLOWANCE_SECONDS, Limit
from seawall.resilience import ACTION_RATE_LIMIT_WAIT_SECONDS, ProviderCall, ProviderPolicy
from seawall.retry import RetryPolicy
from seawall.state import SharedState

M = TypeVar("M", bound=BaseModel)

BOOKING_API = "/hotel-api/1.0"
CONTENT_API = "/hotel-content-api/1.0"
STATUS = Timeouts(connect=3.0, read=10.0, write=10.0, pool=2.0)
# The booking list answers at most 100 bookings a page.
LIST_PAGE = 100
_ONCE = RetryPolicy(attempts=1)
# A breaker each: bookings failing must not refuse searches, nor a search outage a customer's cancellation.
# "booking" covers what a booking needs (check-rate, confirm, the list and detail its look-ups read).
Operation = Literal["search", "booking", "cancel", "content"]
OPERATIONS: tuple[str, ...] = get_args(Operation)
# Quota lanes: the key's quotas shared out by what a call is for (README, "Quota"), each share a reserve the lanes
# below it cannot spend. Cancellations may spend the whole day and rate; the calls of a booking already taken
# (check-rate, confirm, look-ups, the audit) all but the cancellations' reserve; taking new bookings and searching
# together all but the taken bookings' reserve too; searches (and the content sync) alone also leave the new
# bookings' reserve, and at most the rate less one a second.
CANCEL_RESERVE = 0.1
IN_FLIGHT_RESERVE = 0.2
NEW_BOOKING_RESERVE = 0.2
# When Hotelbeds itself says the day is spent, a cancellation is still tried, once a minute fleet-wide.
CANCEL_PROBE = Limit("cancel-probe", 1, 60)
# APItude counts a key's day from UTC midnight to midnight (fixed windows, as it does), and its rate over any
# sliding second as requests arrive.
DAY = 86_400
SECOND = 1 + ARRIVAL_ALLOWANCE_SECONDS


def quota_lanes(per_second: int, per_day: int) -> tuple[list[Limit], dict[str, list[str]]]:
    """The limiter's limits for the key's quotas, and the limits each lane takes."""
    left = per_day
    caps = []
    for share in (CANCEL_RESERVE, IN_FLIGHT_RESERVE, NEW_BOOKING_RESERVE):
        left -= max(1, math.ceil(per_day * share))
        caps.append(max(1, left))
    limits = [
        Limit("second", per_second, SECOND),
        Limit("day", per_day, DAY, fixed=True),
        Limit("day-bookings", caps[0], DAY, fixed=True),
        Limit("day-new", caps[1], DAY, fixed=True),
        Limit("day-searches", caps[2], DAY, fixed=True),
        Limit("second-searches", max(1, per_second - 1), SECOND),
        CANCEL_PROBE,
    ]
    cancel = ["second", "day"]
    in_flight = [*cancel, "day-bookings"]
    search = [*in_flight, "day-new", "day-searches", "second-searches"]
    lanes = {
        "cancel": cancel,
        "booking": in_flight,
        "accept": ["day-new"],
        "search": search,
        "content": search,
        "cancel-probe": ["cancel-probe"],
    }
    return limits, lanes


class HotelbedsGateway:
    """Typed APItude operations for the bundle's functions; build one per container, at import.

    ``wait_for_rate_limit``: jobs and the booking worker wait for a slot of the
    per-second quota (within the deadline); actions wait their turn a second at
    most, and answer 429 when it is further off (a spent day at once).
    """

    def __init__(
        self,
        state: SharedState,
        settings: HotelbedsSettings | None = None,
        *,
        wait_for_rate_limit: bool = False,
    ) -> None:
        self.settings = settings or load_settings(HotelbedsSettings)
        limits, lanes = quota_lanes(self.settings.requests_per_second, self.settings.daily_quota)
        # Per endpoint, as Hotelbeds documents them; every request is also cut to the invocation's deadline.
        self.quick = Timeouts(connect=3.0, read=self.settings.timeout_seconds, write=10.0, pool=2.0)
        self.slow = Timeouts(connect=3.0, read=self.settings.list_timeout_seconds, write=10.0, pool=2.0)
        self.call = ProviderCall(
            ProviderPolicy(
                service=SERVICE,
                limits=limits,
                lanes=lanes,
                # Hotelbeds may take its documented time and still answer: only a call past it is slow, and a
                # half-open probe holds its slot as long as its longest answer may take (a shorter lease would
                # hand its period to the next probe and drop its outcome).
                breaker=BreakerConfig(
                    open_seconds=self.settings.breaker_open_seconds,
                    slow_call_seconds=self.settings.timeout_seconds,
                    probe_lease_seconds=self.slow.connect + self.slow.write + self.slow.read,
                ),
                attempt_timeout=1.0,
                rate_limit_wait=math.inf if wait_for_rate_limit else ACTION_RATE_LIMIT_WAIT_SECONDS,
                operations=OPERATIONS,
            ),
            state,
            Secret(self.settings.secret_arn, HotelbedsSecret, label="hotelbeds"),
        )
        self._client = http_client(
            SERVICE,
            base_url=self.settings.api_base,
            headers={"Accept": "application/json", "Accept-Encoding": "gzip"},
        )
        ttl = self.settings.availability_cache_seconds
        self.cache = state.cache("hotelbeds-availability", ttl) if ttl > 0 else None

    def _request(
        self,
        method: str,
        path: str,
        *,
        operation: Operation,
        lane: str | None = None,
        timeouts: Timeouts,
        body: dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
        retry: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """One APItude request with every protection; its JSON answer, numbers as Decimal."""

        def once(credentials: HotelbedsSecret) -> dict[str, Any]:
            headers = signed_headers(credentials)
            content = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                content = json.dumps(body).encode()
            response = send(
                self._client,
                method,
                path,
                service=SERVICE,
                timeouts=timeouts,
                headers=headers,
                content=content,
                params=params,
            )
            if not response.is_success:
                raise hotelbeds_error(response)
            try:
                answer = json.loads(response.content, parse_float=Decimal)
            except ValueError as error:
                raise IntegrationError(SERVICE, "unexpected response from provider", cause=error) from error
            if not isinstance(answer, dict):
                raise IntegrationError(SERVICE, "unexpected response from provider")
            return answer

        scope = self.quota_scope()
        try:
            return self.call(once, scope=scope, retry=retry, operation=operation, lane=lane)
        except QuotaExhaustedError:
            if self.call.limiter is not None:
                self.call.limiter.exhaust(scope, "day")
            emit("ProviderQuotaExhausted", provider=SERVICE)
            raise
        except IntegrationError as error:
            if error.status_code in CREDENTIALS_REFUSED:  # HotelbedsCredentialsAlarm: nothing works until fixed
                emit("ProviderCredentialsRefused", provider=SERVICE)
            raise

    def quota_scope(self) -> str:
        """The limiter's counters for the current API key: Hotelbeds counts each key's quota (a new key, a new one)."""
        api_key = self.call.credentials.get().api_key.get_secret_value()
        return hashlib.sha256(api_key.encode()).hexdigest()[:16]

    def status(self) -> str:
        """APItude's own status ("OK" when it is up)."""
        answer = self._request("GET", f"{BOOKING_API}/status", operation="search", timeouts=STATUS)
        return str(answer.get("status", ""))

    def availability(self, search: AvailabilitySearch) -> Availability:
        """Hotels and rates for ``search``; equal searches within the cache's TTL spend one request fleet-wide."""
        body = search.body()
        if self.cache is not None:
            cached = self.cache.get_json(json.dumps(body, sort_keys=True))
            if cached is not None:
                emit("ProviderQuotaSaved", provider=SERVICE)
                return Availability.model_validate(cached)
        answer = self._request("POST", f"{BOOKING_API}/hotels", operation="search", timeouts=self.quick, body=body)
        availability = parse_payload(Availability, answer.get("hotels") or {}, service=SERVICE)
        if self.cache is not None:
            self.cache.put_json(json.dumps(body, sort_keys=True), availability.model_dump(mode="json"))
        return availability

    def check_rate(self, rate_key: str) -> CheckedRate:
        """The rate checked (RECHECK rates must be, before booking): its current price and a BOOKABLE key."""
        answer = self._request(
            "POST",
            f"{BOOKING_API}/checkrates",
            operation="booking",
            timeouts=self.quick,
            body={"rooms": [{"rateKey": rate_key}]},
        )
        return parse_payload(CheckedRate, answer.get("hotel") or {}, service=SERVICE)

    def book(self, body: dict[str, Any]) -> Booking:
        """Confirm a booking, sent once: a lost answer means the booking may exist (look it up, never resend blind)."""
        answer = self._request(
            "POST", f"{BOOKING_API}/bookings", operation="booking", timeouts=self.quick, body=body, retry=_ONCE
        )
        return parse_payload(Booking, answer.get("booking") or {}, service=SERVICE)

    def booking(self, reference: str) -> Booking:
        """A booking's detail."""
        answer = self._request("GET", f"{BOOKING_API}/bookings/{reference}", operation="booking", timeouts=self.slow)
        return parse_payload(Booking, answer.get("booking") or {}, service=SERVICE)

    def cancel(self, reference: str, *, simulate: bool = False) -> Booking:
        """Cancel a booking (``simulate``: only say what cancelling would cost, in ``hotel.cancellation_amount``).

        A cancellation takes the quota's reserve; when the day is spent all the same (Hotelbeds said so, or
        the reserve is gone), it is still sent once a minute fleet-wide, and Hotelbeds' answer stands (a
        refusal says to come back in a minute).
        """

        def attempt(lane: str | None) -> dict[str, Any]:
            return self._request(
                "DELETE",
                f"{BOOKING_API}/bookings/{reference}",
                operation="cancel",
                lane=lane,
                timeouts=self.slow,
                params={"cancellationFlag": "SIMULATION" if simulate else "CANCELLATION"},
            )

        try:
            answer = attempt(None)
        except ThrottledError as error:
            if (error.retry_after or 0) <= CANCEL_PROBE.window_seconds:  # a second's limit, not the day's
                raise
            try:
                answer = attempt("cancel-probe")
            except QuotaExhaustedError as spent:  # Hotelbeds says no: it is asked again in a minute, not at midnight
                raise QuotaExhaustedError(
                    "Hotelbeds' daily quota is exhausted; a cancellation is tried again once a minute",
                    retry_after=CANCEL_PROBE.window_seconds,
                ) from spent
        return parse_payload(Booking, answer.get("booking") or {}, service=SERVICE)

    def reserve_booking(self) -> float:
        """Take a new booking's slot of the day (its lane); 0, or the seconds until one could be sent.

        A booking taken now is sent with the whole quota's rights: its slot was
        taken here, so that a burst of bookings cannot be taken past the lane.
        """
        limiter = self.call.limiter
        if limiter is None:
            return 0.0
        scope = self.quota_scope()
        sendable = limiter.room(scope, lane="booking")  # the day itself spent (or marked so by Hotelbeds)
        if not sendable.allowed:
            return sendable.retry_after
        taken = limiter.try_acquire(scope, lane="accept")
        return 0.0 if taken.allowed else taken.retry_after

    def cancel_booking(self, reference: str) -> Booking:
        """Cancel a booking and be sure it is cancelled; anything but CANCELLED is an error.

        A cancellation whose answer was lost, or that a retry found already
        done and was refused, is read back from the booking's detail.
        """
        try:
            cancelled = self.cancel(reference)
        except IntegrationError as error:
            if not_processed(error):
                raise
            detail = self.booking(reference)
            if detail.status != "CANCELLED":
                raise
            return detail
        if cancelled.status != "CANCELLED":
            raise IntegrationError(SERVICE, "Hotelbeds did not cancel the booking")
        return cancelled

    def bookings(
        self, *, start: dt.date, end: dt.date, first: int = 1, client_reference: str | None = None
    ) -> BookingList:
        """One page of the bookings created between ``start`` and ``end``, from position ``first`` (1-based)."""
        params: dict[str, str | int] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "filterType": "CREATION",
            "status": "ALL",
            "from": first,
            "to": first + LIST_PAGE - 1,
        }
        if client_reference is not None:
            params["clientReference"] = client_reference
        answer = self._request("GET", f"{BOOKING_API}/bookings", operation="booking", timeouts=self.slow, params=params)
        return parse_payload(BookingList, answer.get("bookings") or {}, service=SERVICE)

    def find_bookings(self, client_reference: str, *, created_on: dt.date) -> list[BookingSummary]:
        """Every booking carrying ``client_reference`` made on or around ``created_on``, in the list's order.

        Matched here, not only by the list's filter: a booking is only ever
        found by its exact clientReference. More than one means a booking
        was made twice (the audit keeps one).
        """
        start = created_on - dt.timedelta(days=1)
        end = max(created_on, dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
        found: list[BookingSummary] = []
        first = 1
        while True:
            page = self.bookings(start=start, end=end, first=first, client_reference=client_reference)
            found += [summary for summary in page.bookings if summary.client_reference == client_reference]
            if not page.bookings or page.to >= page.total or page.to < first:  # the end, or a page going nowhere
                return found
            first = page.to + 1

    def content_hotels(self, first: int, count: int) -> ContentPage:
        """Hotels ``first`` to ``first + count - 1`` (1-based) of the Content API, with their static content."""
        answer = self._request(
            "GET",
            f"{CONTENT_API}/hotels",
            operation="content",
            timeouts=self.quick,
            params={
                "fields": "all",
                "language": self.settings.language,
                "from": first,
                "to": first + count - 1,
                "useSecondaryLanguage": "false",
            },
        )
        return parse_payload(ContentPage, answer, service=SERVICE)
