"""Twin of HotelBookingWorkerFunction: each queued booking booked at Hotelbeds once (partial batch failures)."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from seed import logger
from seed_booking_worker import settle

processor = BatchProcessor(event_type=EventType.SQS)


def book(record: SQSRecord) -> None:
    """One message, ``{"booking_id": ...}``; a booking still open goes back to the queue."""
    booking_id = str(json.loads(record.body)["booking_id"])
    status = settle(booking_id)
    logger.info("Booking settled", extra={"booking_id": booking_id, "status": status})
    if status == "in-doubt":
        raise RuntimeError(f"booking {booking_id} is not settled yet")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS entry point, with partial batch failures."""
    return dict(process_partial_response(event=event, record_handler=book, processor=processor, context=context))
