"""Twin of HotelBookingsResolveFunction: open bookings idle for the settle time, each settled by the worker's step."""

import os
import time
from collections import Counter
from typing import Any

from seed import logger
from seed_booking_worker import settle
from seed_bookings import BOOKINGS_TABLE, dynamodb

SETTLE_SECONDS = float(os.environ["HOTELBEDS_BOOKING_SETTLE_SECONDS"])


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """How many open bookings it found, and where each ended."""
    idle = str(int((time.time() - SETTLE_SECONDS) * 1000))
    pages = dynamodb.get_paginator("query").paginate(
        TableName=BOOKINGS_TABLE,
        IndexName="OpenBookings",
        KeyConditionExpression="#open = :open AND updated_at < :idle",
        ExpressionAttributeNames={"#open": "open"},
        ExpressionAttributeValues={":open": {"S": "open"}, ":idle": {"N": idle}},
    )
    outcomes: Counter[str] = Counter()
    for booking_id in [item["id"]["S"] for page in pages for item in page["Items"]]:
        try:
            status = settle(booking_id)
        except Exception:  # noqa: BLE001 (one booking's failure must not hold up the others)
            logger.exception("Open booking not settled", extra={"booking_id": booking_id})
            status = "errored"
        outcomes["taken-elsewhere" if status is None else status] += 1
    report = {"examined": sum(outcomes.values()), **outcomes}
    logger.info("Open bookings resolved", extra=report)
    return report
