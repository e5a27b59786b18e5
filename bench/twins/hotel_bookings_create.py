"""Twin of HotelBookingsCreateFunction: store the booking and queue it for the worker (202), once per key."""

import hashlib
import json
import os
import time
from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from seed import logger
from seed_bookings import BOOKINGS_TABLE, BookingRequest, caller, dynamodb, load, public
from seed_idempotency import once_per_key

QUEUE_URL = os.environ["HOTEL_BOOKINGS_QUEUE_URL"]
sqs = boto3.client("sqs")
app = APIGatewayRestResolver(enable_validation=True)


@app.post("/hotel-bookings")
def create_booking(booking: Annotated[BookingRequest, Body()]) -> Response[dict[str, Any]]:
    """A pending booking, its id and clientReference derived from the caller's key; the worker books it."""
    request = app.current_event
    who = caller(request.raw_event)
    digest = hashlib.sha256(f"{who}\0{request.headers['Idempotency-Key']}".encode()).hexdigest()
    booking_id, now = digest[:32], str(int(time.time() * 1000))
    item = {
        "id": {"S": booking_id},
        "caller": {"S": who},
        "client_reference": {"S": digest[:20].upper()},
        "status": {"S": "pending"},
        "request": {"S": booking.model_dump_json()},
        "created_at": {"N": now},
        "updated_at": {"N": now},
        "sends": {"N": "0"},
        "open": {"S": "open"},
    }
    dynamodb.put_item(TableName=BOOKINGS_TABLE, Item=item, ConditionExpression="attribute_not_exists(id)")
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({"booking_id": booking_id}))
    location = f"{request.request_context.path.rstrip('/')}/{booking_id}"
    return Response(
        status_code=202, content_type="application/json", body=public(load(item)), headers={"Location": location}
    )


@logger.inject_lambda_context
@once_per_key
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)
