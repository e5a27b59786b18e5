"""Taking a booking: stored (with its clientReference), then queued for the worker."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from seawall.errors import IntegrationError
from seawall.observability import emit
from seawall.problems import Problem, ProblemError
from seawall.providers.hotelbeds.bookings._request import BookingRequest, booking_ids
from seawall.providers.hotelbeds.bookings._store import BookingRecord, BookingStore

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class BookingDesk:
    """Takes bookings for the worker."""

    def __init__(self, store: BookingStore, sqs: SQSClient, queue_url: str) -> None:
        self.store = store
        self.sqs = sqs
        self.queue_url = queue_url

    def accept(self, caller: str, provider_key: str, request: BookingRequest) -> BookingRecord:
        """Store the booking (its clientReference with it, before anything is sent) and queue it for the worker.

        The same key names the same booking: a retry after a failed queue
        call stores nothing new and queues it again (the worker takes a
        booking once, however often it is queued).
        """
        booking_id, client_reference = booking_ids(provider_key)
        now = time.time()
        record, created = self.store.create(
            BookingRecord(
                id=booking_id,
                caller=caller,
                client_reference=client_reference,
                status="pending",
                request=request,
                created_at=now,
                updated_at=now,
            )
        )
        if not created and record.request != request:  # the key's idempotency record expired; the booking did not
            raise ProblemError(Problem(422, "http", "this Idempotency-Key was used with a different booking"))
        try:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"booking_id": booking_id}))
        except Exception as error:
            raise IntegrationError("sqs", "the booking could not be queued", retryable=True, cause=error) from error
        emit("BookingAccepted", provider="hotelbeds")
        return record
