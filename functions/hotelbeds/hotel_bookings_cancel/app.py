"""DELETE /hotel-bookings/{booking_id}: cancel a confirmed booking at Hotelbeds; cancelling again answers the same."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import ActionRouter, Response
from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.idempotency import caller_identity
from seawall.observability import correlation
from seawall.problems import Problem, ProblemError, problem_responses, retry_after_headers
from seawall.providers.hotelbeds.bookings import BookingId, BookingSettings, BookingStore
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.state import SharedState

# A pending booking may be confirmed within Hotelbeds' minute: come back then.
PENDING_RETRY_AFTER = 30.0


settings = load_settings(BookingSettings)
app = ActionRouter()
bookings = BookingStore(aws_client("dynamodb"), settings.table)
hotelbeds = HotelbedsGateway(SharedState.from_env())


@app.delete(
    "/hotel-bookings/<booking_id>",
    summary="Cancel a hotel booking",
    responses={200: {"description": "The cancelled booking"}, **problem_responses(404, 409, 422, 429, 502, 503, 504)},
)
def cancel_booking(booking_id: BookingId) -> Response:
    """Cancel it (what Hotelbeds charged is in ``cancellation_amount``); a pending booking answers 409."""
    record = bookings.find(caller_identity(app), booking_id)
    if record is None:
        raise ProblemError(Problem(404, "http", "no such booking"))
    if record.status in ("pending", "in-doubt"):
        raise ProblemError(
            Problem(
                409,
                "booking-pending",
                "the booking is not confirmed yet; retry shortly",
                headers=retry_after_headers(PENDING_RETRY_AFTER),
            )
        )
    if record.status == "failed":
        raise ProblemError(Problem(409, "booking-failed", "the booking failed: there is nothing to cancel"))
    if record.status == "confirmed" and record.booking is not None:
        record = bookings.cancel(record.id, hotelbeds.cancel_booking(record.booking.reference))
    return Response(status_code=200, body=record.public())


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
