"""Twin of HotelBookingsCancelFunction: cancel a confirmed booking at Hotelbeds; cancelling again answers the same."""

import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from seed import logger
from seed_bookings import BOOKINGS_TABLE, dynamodb, find, load, public
from seed_hotelbeds import BOOKING_API, Booking, hotelbeds

app = APIGatewayRestResolver(enable_validation=True)


@app.delete("/hotel-bookings/<booking_id>")
def cancel_booking(booking_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> Response[dict[str, Any]]:
    """The cancelled booking; 404 for another caller's or unknown ids, 409 when not confirmed."""
    booking = find(booking_id, app.current_event.raw_event)
    if booking is None:
        raise ServiceError(404, "no such booking")
    if booking["status"] not in ("confirmed", "cancelled"):
        raise ServiceError(409, f"the booking is {booking['status']}: there is nothing to cancel yet")
    if booking["status"] == "confirmed":
        reference = Booking.model_validate_json(booking["booking"]).reference
        answer = hotelbeds("DELETE", f"{BOOKING_API}/bookings/{reference}", params={"cancellationFlag": "CANCELLATION"})
        updated = dynamodb.update_item(
            TableName=BOOKINGS_TABLE,
            Key={"id": {"S": booking_id}},
            UpdateExpression="SET #status = :cancelled, booking = :booking, updated_at = :now",
            ConditionExpression="#status IN (:confirmed, :cancelled)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":cancelled": {"S": "cancelled"},
                ":confirmed": {"S": "confirmed"},
                ":booking": {"S": Booking.model_validate(answer["booking"]).model_dump_json()},
                ":now": {"N": str(int(time.time() * 1000))},
            },
            ReturnValues="ALL_NEW",
        )
        booking = load(updated["Attributes"])
    return Response(status_code=200, content_type="application/json", body=public(booking))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
