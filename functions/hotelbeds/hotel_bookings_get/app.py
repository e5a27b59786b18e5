"""GET /hotel-bookings/{booking_id}: a booking's status (pending, confirmed, failed or cancelled), for its caller."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import ActionRouter, Response
from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.idempotency import caller_identity
from seawall.observability import correlation
from seawall.problems import Problem, ProblemError, problem_responses
from seawall.providers.hotelbeds.bookings import BookingId, BookingSettings, BookingStore

settings = load_settings(BookingSettings)
app = ActionRouter()
# Other methods on this path come here (template: ANY); DELETE is HotelBookingsCancelFunction's.
app.allow("/hotel-bookings/<booking_id>", "DELETE")
bookings = BookingStore(aws_client("dynamodb"), settings.table)


@app.get(
    "/hotel-bookings/<booking_id>",
    summary="Get a hotel booking",
    responses={200: {"description": "The booking"}, **problem_responses(404, 422, 503, 504)},
)
def get_booking(booking_id: BookingId) -> Response:
    """The booking; another caller's and unknown ids answer 404."""
    record = bookings.find(caller_identity(app), booking_id)
    if record is None:
        raise ProblemError(Problem(404, "http", "no such booking"))
    return Response(status_code=200, body=record.public())


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
