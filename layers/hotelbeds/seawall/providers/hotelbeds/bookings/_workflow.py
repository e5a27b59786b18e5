"""Booking exactly once with a provider that has no idempotency key.

Each send is preceded by marking the booking in doubt. An answer that never
came (a timeout, a reset, a 5xx) leaves it in doubt: the booking may exist.
Before anything is sent again, the workflow waits until Hotelbeds could no
longer be working on it (``settle_seconds`` from when the send *began*, not
from when our client gave up: confirmations have arrived minutes after a
send; a worker that died mid-send holds its lock 30 s past its deadline),
then looks the clientReference up in the booking list, and books again only
when no booking carries it. A refusal (a 4xx) is looked up at once before
the booking fails: Hotelbeds may have made the booking and then answered an
error. One refused before it was processed (its quota, our limiter or
breaker) goes back to where it was, to be tried again later.

A booking whose confirmation came later than the settle time may still have
been made twice: every send makes the booking a suspect that the audit
(``BookingAudit``) checks against Hotelbeds' list for a day after.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus

from seawall.deadline import Deadline, bind_deadline, current_deadline
from seawall.errors import IntegrationError, NotAttemptedError
from seawall.observability import emit, error_name, logger
from seawall.providers.hotelbeds.bookings._store import BookingRecord, BookingStore
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.errors import NOT_PROCESSED, not_processed
from seawall.providers.hotelbeds.models import BookingSummary

# A lock outlives the invocation's deadline by the settle time and this much: a live worker keeps it, and a
# worker that died mid-send keeps its booking until Hotelbeds has finished whatever it was sent.
LOCK_SLACK_SECONDS = 30.0
# No send starts with less time than this left: a confirmation cut short is only another booking in doubt.
SEND_SECONDS = 10.0
# The time an advance may take when no invocation bound a deadline.
UNBOUND_SECONDS = 60.0
# A look-up is a list page or two and a detail.
LOOKUP_SECONDS = 5.0
# A booking never sent (its rate kept failing to check, the quota stayed spent) fails after this long: a rate
# key's price and allotment go stale (Hotelbeds documents no lifetime; an hour is taken as one). POST
# /hotel-bookings refuses (503) a booking the quota would keep unsent longer.
MAX_UNSENT_SECONDS = 3600.0
# A refusal longer than this is the daily quota: a worker leaves the booking to the in-doubt job, which books it
# after the reset; a shorter one (a second's limit, or the reset minutes away) sends the message back to its queue.
QUOTA_WAIT_SECONDS = 900.0
# 4xx statuses that do not say the request was not processed: a timeout, a conflict, a client gone.
_UNSETTLED_4XX = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.CONFLICT, 499})
CANCELLED = "CANCELLED"


def _refused(error: IntegrationError) -> bool:
    """Hotelbeds refused this request for what it is (a 4xx other than quota, credentials or a timeout)."""
    status = error.status_code
    return (
        status is not None
        and HTTPStatus.BAD_REQUEST <= status < HTTPStatus.INTERNAL_SERVER_ERROR
        and status not in NOT_PROCESSED
        and status not in _UNSETTLED_4XX
    )


def _reason(error: IntegrationError, what: str) -> str:
    code = error.details.get("hotelbeds_error_code")
    return f"Hotelbeds refused {what} (HTTP {error.status_code}{', ' + code if code else ''})"


def live_bookings(gateway: HotelbedsGateway, record: BookingRecord) -> list[BookingSummary]:
    """The bookings Hotelbeds holds under the record's clientReference and has not cancelled, in its list's order."""
    created_on = dt.datetime.fromtimestamp(record.created_at, dt.UTC).date()
    found = gateway.find_bookings(record.client_reference, created_on=created_on)
    return [summary for summary in found if summary.status != CANCELLED]


@dataclass
class _Attempt:
    """What one advance did: whether a send may be in flight (its lock must then run out, not be released)."""

    in_flight: bool = False


class BookingWorkflow:
    """Moves a booking on from pending or in doubt, as far as the invocation's time allows."""

    def __init__(
        self,
        gateway: HotelbedsGateway,
        store: BookingStore,
        *,
        settle_seconds: float = 60.0,
        max_sends: int = 3,
        max_unsent_seconds: float = MAX_UNSENT_SECONDS,
        patient: bool = True,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.settle_seconds = settle_seconds
        self.max_sends = max_sends
        self.max_unsent_seconds = max_unsent_seconds
        # Patient: wait out the settle time within the invocation (the worker); impatient: leave a booking
        # that must wait for a later run (the in-doubt job, which has many bookings to see to).
        self.patient = patient

    def advance(self, booking_id: str) -> BookingRecord | None:
        """Lock the booking and move it on; the record as it stands after.

        ``None``: nothing to do here: the booking is final, unknown, or
        another worker holds it (and settles it, or its lock runs out and the
        in-doubt job does). One that cannot move now (its send must wait, the
        quota is spent) stays open and is taken up again by a retry or the
        in-doubt job.
        """
        deadline = current_deadline()
        if deadline is None:  # the lock's length needs one: a caller outside a handler gets a minute
            with bind_deadline(Deadline.after(UNBOUND_SECONDS)):
                return self.advance(booking_id)
        owner = uuid.uuid4().hex
        until = time.time() + deadline.remaining() + self.settle_seconds + LOCK_SLACK_SECONDS
        record = self.store.claim(booking_id, owner, until)
        if record is None:
            return None
        attempt = _Attempt()
        try:
            result = self._advance(record, owner, attempt)
        except Exception:
            if not attempt.in_flight:  # to the back of the in-doubt job's order; a send in flight keeps its lock
                self._release(booking_id, owner, touch=True)
            raise
        self._release(booking_id, owner, touch=False)
        return result

    def _release(self, booking_id: str, owner: str, *, touch: bool) -> None:
        try:
            self.store.release(booking_id, owner, touch=touch)
        except Exception as error:  # noqa: BLE001 (the lock then expires; the outcome stands)
            logger.warning("booking lock not released", extra={"booking_id": booking_id, "error": error_name(error)})

    def _advance(self, record: BookingRecord, owner: str, attempt: _Attempt) -> BookingRecord:
        deadline = current_deadline()
        while record.open:
            settled = self._settle(record, owner, deadline)
            if settled is not None:
                return settled
            if deadline is not None and not deadline.allows(SEND_SECONDS):
                return record
            record = self._send(record, owner, attempt)
        return record

    def _settle(self, record: BookingRecord, owner: str, deadline: Deadline | None) -> BookingRecord | None:
        """Where a booking stands before a send; ``None`` when it is to be sent (again).

        In doubt: looked up once Hotelbeds has finished with the last send,
        ``settle_seconds`` after it began (or left as it is when that does not
        fit the deadline). Never sent and too old: failed.
        """
        if record.status != "in-doubt":
            if time.time() - record.created_at <= self.max_unsent_seconds:
                return None
            return self._fail(record, owner, "the booking could not be sent to Hotelbeds in time")
        wait = (record.sent_at or 0.0) + self.settle_seconds - time.time()
        if wait > 0:
            if not self.patient or (deadline is not None and not deadline.allows(wait + LOOKUP_SECONDS)):
                return record
            time.sleep(wait)
        return self._look_up(record, owner)

    def _send(self, record: BookingRecord, owner: str, attempt: _Attempt) -> BookingRecord:
        """One send: confirmed, failed (refused, and no booking found), or in doubt (no answer)."""
        rate_keys = self._rate_keys(record, owner)
        if isinstance(rate_keys, BookingRecord):
            return rate_keys
        sent = self.store.mark_sent(record.id, owner, audit_after=self.settle_seconds)
        attempt.in_flight = True
        try:
            booking = self.gateway.book(record.request.body(record.client_reference, rate_keys))
        except NotAttemptedError:
            self.store.unsend(record.id, owner, record)
            attempt.in_flight = False
            raise
        except IntegrationError as error:
            if not_processed(error):
                self.store.unsend(record.id, owner, record)
                attempt.in_flight = False
                raise
            attempt.in_flight = False  # Hotelbeds answered, or the settle time (from sent_at) guards the send
            if _refused(error):  # an answer, but not proof that nothing was booked: look before failing
                return self._found(sent, owner) or self._fail(sent, owner, _reason(error, "the booking"))
            logger.warning(
                "booking answer lost; in doubt until looked up",
                extra={"booking_id": record.id, "sends": sent.sends, "error": error_name(error)},
            )
            emit("BookingInDoubt", provider="hotelbeds")
            return sent
        emit("BookingConfirmed", provider="hotelbeds")
        # Until this is stored, the lock must stand. One send, answered: nothing for the audit to look for.
        confirmed = self.store.confirm(record.id, owner, booking, beyond_doubt=sent.sends == 1)
        attempt.in_flight = False
        return confirmed

    def _look_up(self, record: BookingRecord, owner: str) -> BookingRecord | None:
        """The booking settled by its clientReference: confirmed if Hotelbeds has it, failed after the last send.

        ``None``: no booking carries it and another send is allowed.
        """
        found = self._found(record, owner)
        if found is not None or record.sends < self.max_sends:
            return found
        return self._fail(record, owner, "Hotelbeds did not confirm the booking")

    def _found(self, record: BookingRecord, owner: str) -> BookingRecord | None:
        """Confirmed with the first live booking under its clientReference (the audit cancels others); else ``None``."""
        live = live_bookings(self.gateway, record)
        if not live:
            return None
        logger.info("booking in doubt found at Hotelbeds", extra={"booking_id": record.id, "found": len(live)})
        emit("BookingConfirmed", provider="hotelbeds")
        return self.store.confirm(record.id, owner, self.gateway.booking(live[0].reference))

    def _fail(self, record: BookingRecord, owner: str, reason: str) -> BookingRecord:
        emit("BookingFailed", provider="hotelbeds")
        return self.store.fail(record.id, owner, reason)

    def _rate_keys(self, record: BookingRecord, owner: str) -> list[str] | BookingRecord:
        """The keys to book: RECHECK rates checked first (a new key); a rate no longer sold fails the booking.

        With ``max_total``, every rate is checked and a total above it (or in another currency) fails the
        booking before anything is booked.
        """
        limit = record.request.max_total
        keys, total, currency = [], Decimal(0), limit.currency if limit else ""
        for room in record.request.rooms:
            if room.rate_type == "BOOKABLE" and limit is None:
                keys.append(room.rate_key)
                continue
            try:
                checked = self.gateway.check_rate(room.rate_key)
            except IntegrationError as error:
                if _refused(error):
                    return self._fail(record, owner, _reason(error, "the rate"))
                raise
            if not checked.rates:
                return self._fail(record, owner, "the rate is no longer available")
            keys.append(checked.rates[0].rate_key)
            total += checked.total_net if checked.total_net is not None else checked.rates[0].net
            currency = checked.currency
        if limit is not None and (exceeded := limit.exceeded_by(total, currency)):
            return self._fail(record, owner, exceeded)
        return keys
