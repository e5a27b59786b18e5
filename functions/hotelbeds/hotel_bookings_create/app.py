"""POST /hotel-bookings: take a booking at once (202 and where to watch it); a worker books it at Hotelbeds.

Hotelbeds may take 60 s to confirm and API Gateway waits 29 s at most, so the
booking is stored (with its clientReference) and queued, and its status is
at GET /hotel-bookings/{id}. The same Idempotency-Key names the same booking.
A new booking takes its slot of the quota's booking lane here; it is refused
(503, Retry-After) while the lane or the day is spent for longer than a
booking may wait to be sent: accepted, it would only fail later.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from seawall.api import ActionRouter, Response
from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.idempotency import IdempotentAction, caller_identity
from seawall.observability import correlation
from seawall.problems import Problem, ProblemError, problem_responses, retry_after_headers
from seawall.providers.hotelbeds.bookings import (
    MAX_UNSENT_SECONDS,
    BookingDesk,
    BookingRequest,
    BookingSettings,
    BookingStore,
)
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.state import SharedState


class Settings(BookingSettings):
    """Where bookings are kept, and queued for the worker."""

    queue_url: str = Field(alias="HOTEL_BOOKINGS_QUEUE_URL", min_length=1)


settings = load_settings(Settings)
app = ActionRouter()
desk = BookingDesk(BookingStore(aws_client("dynamodb"), settings.table), aws_client("sqs"), settings.queue_url)
state = SharedState.from_env()
action = IdempotentAction("hotel-bookings-create", state)
hotelbeds = HotelbedsGateway(state)


@app.post(
    "/hotel-bookings",
    summary="Book a hotel",
    responses={
        202: {"description": "Accepted: the booking's status is at Location (GET /hotel-bookings/{id})"},
        **problem_responses(400, 409, 413, 415, 422, 429, 502, 503, 504),
    },
)
def create_booking(booking: BookingRequest) -> Response:
    """Store and queue the booking; a retry with the same key answers the same booking."""
    caller = caller_identity(app)

    def accept(key: str) -> dict[str, object]:
        wait = hotelbeds.reserve_booking()
        if wait > MAX_UNSENT_SECONDS:
            detail = "Hotelbeds' quota for bookings is spent until it resets: a booking taken now could not be sent"
            raise ProblemError(Problem(503, "quota-spent", detail, headers=retry_after_headers(wait)))
        return desk.accept(caller, key, booking).public()

    return action.created(
        app,
        booking,
        accept,
        status_code=202,
        location=lambda result: f"{request_path()}/{result['id']}",
    )


def request_path() -> str:
    """The path the caller used (with the stage prefix or a custom domain's base path, when the URL has one)."""
    context = app.request.event.get("requestContext") or {}
    return str(context.get("path") or app.request.path).rstrip("/")


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    action.register(context)
    return app.resolve(event, context)
