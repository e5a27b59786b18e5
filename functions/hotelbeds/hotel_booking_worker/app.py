"""SQS consumer of HotelBookingsQueue: books each accepted booking at Hotelbeds, exactly once.

A booking whose answer was lost is looked up by its clientReference before
anything is sent again (``BookingWorkflow``). A booking that cannot be settled
now (it must wait, the quota is spent) fails its message, which comes back
later; after five receives it rests in the dead-letter queue and the in-doubt
job (HotelBookingsResolveFunction) settles it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.errors import RateLimitedError, ThrottledError
from seawall.handler import instrumented
from seawall.observability import correlation, logger
from seawall.providers.hotelbeds.bookings import QUOTA_WAIT_SECONDS, BookingSettings, BookingStore, BookingWorkflow
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.state import SharedState
from seawall.webhooks.processor import QueueProcessor


class BookingNotSettledError(Exception):
    """The booking is still open: its message goes back to the queue for a later try."""


settings = load_settings(BookingSettings)
workflow = BookingWorkflow(
    HotelbedsGateway(SharedState.from_env(), wait_for_rate_limit=True),
    BookingStore(aws_client("dynamodb"), settings.table),
    settle_seconds=settings.settle_seconds,
)


def book(record: SQSRecord) -> None:
    """One message: ``{"booking_id": ...}``; a booking already final or held by another worker is done here.

    A booking that must wait for the daily quota's reset is left to the in-doubt job: its message would
    only spend its receives and rest in the dead-letter queue.
    """
    booking_id = str(json.loads(record.body)["booking_id"])
    try:
        booking = workflow.advance(booking_id)
    except (ThrottledError, RateLimitedError) as error:
        if (error.retry_after or 0) < QUOTA_WAIT_SECONDS:
            raise
        logger.info("booking waits for the quota's reset", extra={"booking_id": booking_id})
        return
    if booking is not None and booking.open:
        raise BookingNotSettledError(booking_id)


processor = QueueProcessor("hotel-bookings", book)


@instrumented(correlation.SQS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    return dict(processor(event, context))
