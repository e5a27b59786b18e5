"""Twin of HotelBookingsGetFunction: the caller's booking read from the bookings table, or 404."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from seed import logger
from seed_bookings import find, public

app = APIGatewayRestResolver(enable_validation=True)


@app.get("/hotel-bookings/<booking_id>")
def get_booking(booking_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> Response[dict[str, Any]]:
    """The booking; another caller's and unknown ids answer 404."""
    booking = find(booking_id, app.current_event.raw_event)
    if booking is None:
        raise ServiceError(404, "no such booking")
    return Response(status_code=200, content_type="application/json", body=public(booking))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
