"""Scheduled: settles hotel bookings left open (in doubt, or pending with their messages spent).

Each booking nobody has touched for ``settle_seconds`` is advanced by the same
workflow as the worker: looked up by its clientReference, confirmed if
Hotelbeds has it, booked again only if no booking carries it. Two runs at
once are harmless (a booking is locked by whoever advances it). One booking
failing does not hold up the others (it goes to the back, oldest first); a
spent quota or an open circuit ends the run.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.deadline import current_deadline
from seawall.errors import CircuitOpenError, RateLimitedError, ThrottledError
from seawall.handler import instrumented
from seawall.observability import emit, logger
from seawall.providers.hotelbeds.bookings import BookingSettings, BookingStore, BookingWorkflow
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.state import SharedState

# A refusal shorter than this is a per-second limit, not a reason to end the run.
PAUSE_SECONDS = 5.0
# No booking is started with less time left than a look-up and a send may take.
BOOKING_SECONDS = 20.0


settings = load_settings(BookingSettings)
store = BookingStore(aws_client("dynamodb"), settings.table)
# One step per booking and run: no waiting out a settle time here while other bookings wait.
workflow = BookingWorkflow(
    HotelbedsGateway(SharedState.from_env(), wait_for_rate_limit=True),
    store,
    settle_seconds=settings.settle_seconds,
    patient=False,
)


@instrumented()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge Scheduler entry point: how many open bookings it found, and where each ended."""
    outcomes: Counter[str] = Counter()
    deadline = current_deadline()
    stopped = False
    for booking_id in store.open_bookings(idle_since=time.time() - settings.settle_seconds):
        if stopped or (deadline is not None and not deadline.allows(BOOKING_SECONDS)):
            outcomes["not-reached"] += 1
            continue
        try:
            record = workflow.advance(booking_id)
        except (ThrottledError, RateLimitedError, CircuitOpenError) as error:
            if (error.retry_after or 0) < PAUSE_SECONDS:  # a second's limit: the next booking may go out
                outcomes["errored"] += 1
                continue
            # A spent quota, an open circuit: nothing more goes out now.
            logger.info("open bookings wait for Hotelbeds", extra={"error": type(error).__name__})
            outcomes["not-reached"] += 1
            stopped = True
            continue
        except Exception as error:  # noqa: BLE001 (one booking's failure must not keep the others waiting)
            logger.warning("open booking not settled", extra={"booking_id": booking_id, "error": type(error).__name__})
            outcomes["errored"] += 1
            continue
        outcomes["taken-elsewhere" if record is None else "in-doubt" if record.open else record.status] += 1
    report = {"examined": sum(outcomes.values()), **outcomes}
    logger.info("open bookings resolved", extra=report)
    left = outcomes["in-doubt"] + outcomes["not-reached"] + outcomes["errored"]
    emit("BookingsLeftOpen", left, provider="hotelbeds")
    return report
