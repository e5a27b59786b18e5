"""The booking audit: for each suspect booking, Hotelbeds' bookings under its clientReference made to match the record.

A confirmation can arrive after the settle time (Hotelbeds has confirmed
minutes after a send): by then the booking may have been sent again and
made twice. Every send makes a booking a suspect (``BookingStore``); the
audit lists Hotelbeds' bookings under its clientReference when it is due,
and then:

- keeps the one the record names (a confirmed record), or adopts the first
  live one for a record that failed (Hotelbeds holds it: the booking was made);
- cancels every other live booking, each counted once (``BookingDuplicateCancelled``,
  an alarm) however often an audit is repeated or cut short;
- leaves an open booking to the workflow, whose look-up settles it first.

Each suspect is looked at again, less and less often (the settle time, then
four times as long each time), until a day after its last send.
"""

from __future__ import annotations

import time
from typing import Literal

from seawall.observability import emit, logger
from seawall.providers.hotelbeds import SERVICE
from seawall.providers.hotelbeds.bookings._store import BookingRecord, BookingStore
from seawall.providers.hotelbeds.bookings._workflow import live_bookings
from seawall.providers.hotelbeds.client import HotelbedsGateway

# How long after its last send a booking is still checked: far past any confirmation Hotelbeds has been seen to make.
AUDIT_WINDOW_SECONDS = 86_400.0
# The first look comes a settle time after the send, and never sooner than this; each next one four times later.
MIN_INTERVAL_SECONDS = 60.0
BACKOFF = 4.0

Outcome = Literal["audit-matches", "audit-adopted", "audit-duplicates-cancelled", "audit-open", "audit-gone"]


class BookingAudit:
    """Makes Hotelbeds hold exactly what each suspect booking's record says: one live booking iff confirmed."""

    def __init__(
        self,
        gateway: HotelbedsGateway,
        store: BookingStore,
        *,
        settle_seconds: float,
        window_seconds: float = AUDIT_WINDOW_SECONDS,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.interval = max(settle_seconds, MIN_INTERVAL_SECONDS)
        self.window_seconds = window_seconds

    def due(self) -> list[str]:
        """The suspects due now, longest due first."""
        return self.store.due_for_audit(time.time())

    def audit(self, booking_id: str) -> Outcome:
        """Look once at one suspect's bookings at Hotelbeds and make them match its record; what was found."""
        record = self.store.get(booking_id)
        if record is None or record.audit_at is None:
            return "audit-gone"
        if record.open:  # the workflow's look-up settles it (and adopts what Hotelbeds holds) before the audit does
            return "audit-open"
        live = live_bookings(self.gateway, record)
        keep = record.booking.reference if record.status == "confirmed" and record.booking is not None else None
        outcome: Outcome = "audit-matches"
        if record.status == "failed" and live:
            adopted = self.store.adopt(record.id, self.gateway.booking(live[0].reference))
            if adopted is None:  # changed meanwhile: the next run looks again
                return "audit-open"
            logger.warning(
                "failed booking found confirmed at Hotelbeds; adopted",
                extra={"booking_id": record.id, "reference": live[0].reference},
            )
            emit("BookingAdopted", provider=SERVICE)
            keep, outcome, record = live[0].reference, "audit-adopted", adopted
        for extra in live:
            if extra.reference == keep:
                continue
            if self.store.duplicate_found(record.id, extra.reference):
                logger.warning(
                    "booking made more than once at Hotelbeds; cancelling the extra one",
                    extra={"booking_id": record.id, "status": record.status, "reference": extra.reference},
                )
                emit("BookingDuplicateCancelled", provider=SERVICE)
            self.gateway.cancel_booking(extra.reference)
            outcome = "audit-duplicates-cancelled" if outcome == "audit-matches" else outcome
        self.store.audited(record.id, self._next(record))
        return outcome

    def _next(self, record: BookingRecord) -> float | None:
        """When to look again: ``None`` once the window after the last send has passed."""
        now = time.time()
        if now - (record.sent_at or record.created_at) > self.window_seconds:
            return None
        return now + self.interval * BACKOFF**record.audits
