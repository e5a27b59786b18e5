"""Booking exactly once with a provider that has no idempotency key.

Each send is preceded by marking the booking in doubt. An answer that never
came (a timeout, a reset, a 5xx) leaves it in doubt: the booking may exist.
Before anything is sent again, the workflow waits until Hotelbeds could no
longer be working on it (``settle_seconds`` after the send ended: its
documented 60 s for a confirmation; a worker that died mid-send holds its lock
30 s past its deadline, longer than a send may take to arrive), then looks
the clientReference up in the booking list, and
books again only when no booking carries it. A booking Hotelbeds refused
(a 4xx) has failed; one refused before it was processed (its quota, our
limiter or breaker) goes back to where it was, to be tried again later.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from http import HTTPStatus

from seawall.deadline import current_deadline
from seawall.errors import IntegrationError, NotAttemptedError
from seawall.observability import emit, logger
from seawall.providers.hotelbeds.bookings._store import BookingRecord, BookingStore
from seawall.providers.hotelbeds.client import HotelbedsGateway

# A lock outlives the invocation's deadline by this much: a live worker keeps it, a dead one frees it soon.
LOCK_SLACK_SECONDS = 30.0
# No send starts with less time than this left: a confirmation cut short is only another booking in doubt.
SEND_SECONDS = 10.0
# A look-up is a list page or two and a detail.
LOOKUP_SECONDS = 5.0
# Statuses that say the request was refused before Hotelbeds processed it (quota, credentials).
_NOT_PROCESSED = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})


def _refused(error: IntegrationError) -> bool:
    """Hotelbeds refused this booking for what it is (a 4xx other than quota or credentials): it has failed."""
    status = error.status_code
    return status is not None and HTTPStatus.BAD_REQUEST <= status < HTTPStatus.INTERNAL_SERVER_ERROR


def _reason(error: IntegrationError, what: str) -> str:
    code = error.details.get("hotelbeds_error_code")
    return f"Hotelbeds refused {what} (HTTP {error.status_code}{', ' + code if code else ''})"


class BookingWorkflow:
    """Moves a booking on from pending or in doubt, as far as the invocation's time allows."""

    def __init__(
        self, gateway: HotelbedsGateway, store: BookingStore, *, settle_seconds: float = 60.0, max_sends: int = 3
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.settle_seconds = settle_seconds
        self.max_sends = max_sends

    def advance(self, booking_id: str) -> BookingRecord | None:
        """Lock the booking and move it on; the record as it stands after.

        ``None``: nothing to do here: the booking is final, unknown, or
        another worker holds it (and settles it, or its lock runs out and the
        in-doubt job does). One that cannot move now (its send must wait, the
        quota is spent) stays open and is taken up again by a retry or the
        in-doubt job.
        """
        owner = uuid.uuid4().hex
        deadline = current_deadline()
        until = time.time() + (deadline.remaining() if deadline is not None else 60.0) + LOCK_SLACK_SECONDS
        record = self.store.claim(booking_id, owner, until)
        if record is None:
            return None
        try:
            return self._advance(record, owner)
        finally:
            try:
                self.store.release(booking_id, owner)
            except Exception as error:  # noqa: BLE001 (the lock then expires; the outcome above stands)
                logger.warning(
                    "booking lock not released", extra={"booking_id": booking_id, "error": type(error).__name__}
                )

    def _advance(self, record: BookingRecord, owner: str) -> BookingRecord:
        deadline = current_deadline()
        while True:
            if record.status == "in-doubt":
                wait = (record.sent_at or 0.0) + self.settle_seconds - time.time()
                if wait > 0:
                    if deadline is not None and not deadline.allows(wait + LOOKUP_SECONDS):
                        return record
                    time.sleep(wait)
                settled = self._look_up(record, owner)
                if settled is not None:
                    return settled
            if deadline is not None and not deadline.allows(SEND_SECONDS):
                return record
            rate_keys = self._rate_keys(record, owner)
            if isinstance(rate_keys, BookingRecord):
                return rate_keys
            sends = self.store.mark_sent(record.id, owner).sends
            try:
                booking = self.gateway.book(record.request.body(record.client_reference, rate_keys))
            except NotAttemptedError:
                self.store.unsend(record.id, owner, record)
                raise
            except IntegrationError as error:
                if error.status_code in _NOT_PROCESSED:
                    self.store.unsend(record.id, owner, record)
                    raise
                if _refused(error):
                    emit("BookingFailed", provider="hotelbeds")
                    return self.store.fail(record.id, owner, _reason(error, "the booking"))
                logger.warning(
                    "booking answer lost; in doubt until looked up",
                    extra={"booking_id": record.id, "sends": sends, "error": type(error).__name__},
                )
                emit("BookingInDoubt", provider="hotelbeds")
                record = self.store.unanswered(record.id, owner)
                continue
            emit("BookingConfirmed", provider="hotelbeds")
            return self.store.confirm(record.id, owner, booking)

    def _look_up(self, record: BookingRecord, owner: str) -> BookingRecord | None:
        """The booking settled by its clientReference: confirmed if Hotelbeds has it, failed after the last send.

        ``None``: no booking carries it and another send is allowed.
        """
        created_on = dt.datetime.fromtimestamp(record.created_at, dt.UTC).date()
        found = self.gateway.find_booking(record.client_reference, created_on=created_on)
        if found is not None:
            logger.info("booking in doubt found at Hotelbeds", extra={"booking_id": record.id})
            emit("BookingConfirmed", provider="hotelbeds")
            return self.store.confirm(record.id, owner, self.gateway.booking(found.reference))
        if record.sends >= self.max_sends:
            emit("BookingFailed", provider="hotelbeds")
            return self.store.fail(record.id, owner, "Hotelbeds did not confirm the booking")
        return None

    def _rate_keys(self, record: BookingRecord, owner: str) -> list[str] | BookingRecord:
        """The keys to book: RECHECK rates checked first (a new key); a rate no longer sold fails the booking."""
        keys = []
        for room in record.request.rooms:
            if room.rate_type == "BOOKABLE":
                keys.append(room.rate_key)
                continue
            try:
                checked = self.gateway.check_rate(room.rate_key)
            except IntegrationError as error:
                if error.status_code not in _NOT_PROCESSED and _refused(error):
                    emit("BookingFailed", provider="hotelbeds")
                    return self.store.fail(record.id, owner, _reason(error, "the rate"))
                raise
            if not checked.rates:
                return self.store.fail(record.id, owner, "the rate is no longer available")
            keys.append(checked.rates[0].rate_key)
        return keys
