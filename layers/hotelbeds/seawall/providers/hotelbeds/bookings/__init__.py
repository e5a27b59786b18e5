"""Hotel bookings, exactly once: the caller's request, the bookings table, and the workflow that books.

- :class:`BookingRequest`: the body of POST /hotel-bookings; :func:`booking_ids` derives the booking id
  and the clientReference from the caller-scoped Idempotency-Key.
- :class:`BookingDesk`: what the actions share: accept a booking (stored, then queued).
- :class:`BookingSettings`: the table and the settle time, from the environment.
- :class:`BookingStore`: one item per booking, conditional writes, a lock per worker.
- :class:`BookingWorkflow`: sends a booking, and settles one in doubt by its clientReference.
- :class:`BookingAudit`: cancels a booking Hotelbeds made twice, adopts one it made after all.
"""

from seawall.providers.hotelbeds.bookings._audit import BookingAudit
from seawall.providers.hotelbeds.bookings._desk import BookingDesk
from seawall.providers.hotelbeds.bookings._request import BookingId, BookingRequest, booking_ids
from seawall.providers.hotelbeds.bookings._settings import BookingSettings
from seawall.providers.hotelbeds.bookings._store import BookingRecord, BookingStore, LockLostError
from seawall.providers.hotelbeds.bookings._workflow import MAX_UNSENT_SECONDS, QUOTA_WAIT_SECONDS, BookingWorkflow

__all__ = [
    "MAX_UNSENT_SECONDS",
    "QUOTA_WAIT_SECONDS",
    "BookingAudit",
    "BookingDesk",
    "BookingId",
    "BookingRecord",
    "BookingRequest",
    "BookingSettings",
    "BookingStore",
    "BookingWorkflow",
    "LockLostError",
    "booking_ids",
]
