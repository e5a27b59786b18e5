"""The guide's booking step (the worker's and the in-doubt job's): claim an open booking, book it, store the answer.

A booking in doubt (sent, its answer lost) is looked up by its clientReference
before it is sent again: APItude has no idempotency key.
"""

import datetime as dt
import json
import time
import uuid
from typing import Any

import httpx
from boto3.dynamodb.types import TypeSerializer
from seed_bookings import BOOKINGS_TABLE, dynamodb, load
from seed_hotelbeds import BOOKING_API, Booking, hotelbeds

LOCK_SECONDS = 300
serializer = TypeSerializer()
REFUSED = (400, 404, 410, 422)  # Hotelbeds said no to the booking itself
CLAIMABLE = "#status IN (:pending, :doubt) AND (attribute_not_exists(lock_until) OR lock_until < :now)"
FINAL = "SET #status = :status, {field} = :value, updated_at = :now REMOVE #open, lock_owner, lock_until"


def _update(booking_id: str, expression: str, condition: str, **values: str | int) -> dict[str, Any]:
    """One conditional UpdateItem (``:now`` added to ``values``); the item after it."""
    answer = dynamodb.update_item(
        TableName=BOOKINGS_TABLE,
        Key={"id": {"S": booking_id}},
        UpdateExpression=expression,
        ConditionExpression=condition,
        ExpressionAttributeNames={name: name[1:] for name in ("#status", "#open") if name in expression + condition},
        ExpressionAttributeValues={
            f":{name}": serializer.serialize(value)
            for name, value in (values | {"now": int(time.time() * 1000)}).items()
        },
        ReturnValues="ALL_NEW",
    )
    return load(answer["Attributes"])


def _finish(booking_id: str, owner: str, status: str, field: str, value: str) -> str:
    """Confirmed (with the booking) or failed (with why): no longer open, the lock given up."""
    final = _update(
        booking_id, FINAL.format(field=field), "lock_owner = :owner", owner=owner, status=status, value=value
    )
    return str(final["status"])


def _found(booking: dict[str, Any]) -> Booking | None:
    """The booking Hotelbeds has under the clientReference, if any."""
    created = dt.datetime.fromtimestamp(int(booking["created_at"]) / 1000, dt.UTC).date()
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    params = {"start": str(created - dt.timedelta(days=1)), "end": str(tomorrow), "filterType": "CREATION"}
    params |= {"status": "ALL", "from": "1", "to": "100", "clientReference": booking["client_reference"]}
    for summary in hotelbeds("GET", f"{BOOKING_API}/bookings", params=params)["bookings"].get("bookings", []):
        if summary["clientReference"] == booking["client_reference"]:
            return Booking.model_validate(hotelbeds("GET", f"{BOOKING_API}/bookings/{summary['reference']}")["booking"])
    return None


def _body(booking: dict[str, Any]) -> dict[str, Any]:
    """APItude's confirmation body; RECHECK rates checked first."""
    request = json.loads(booking["request"])
    rooms = []
    for room in request["rooms"]:
        rate_key = room["rate_key"]
        if room["rate_type"] == "RECHECK":
            checked = hotelbeds("POST", f"{BOOKING_API}/checkrates", json={"rooms": [{"rateKey": rate_key}]})
            rate_key = checked["hotel"]["rooms"][0]["rates"][0]["rateKey"]
        paxes = [
            {"roomId": guest["room"]} | {k: v for k, v in guest.items() if k != "room" and v is not None}
            for guest in room["guests"]
        ]
        rooms.append({"rateKey": rate_key, "paxes": paxes})
    body = {"holder": request["holder"], "rooms": rooms, "clientReference": booking["client_reference"], "tolerance": 2}
    return body | ({"remark": request["remark"]} if request.get("remark") else {})


def settle(booking_id: str) -> str | None:
    """Book an open booking at Hotelbeds; its status after, None when it is final or another worker holds it."""
    owner = uuid.uuid4().hex
    until = int((time.time() + LOCK_SECONDS) * 1000)
    claim = "SET lock_owner = :owner, lock_until = :until"
    try:
        booking = _update(booking_id, claim, CLAIMABLE, owner=owner, until=until, pending="pending", doubt="in-doubt")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    found = _found(booking) if booking["status"] == "in-doubt" else None
    if found is not None:
        return _finish(booking_id, owner, "confirmed", "booking", found.model_dump_json())
    body = _body(booking)
    sent = "SET #status = :doubt, sent_at = :now, updated_at = :now ADD sends :one"
    _update(booking_id, sent, "lock_owner = :owner", owner=owner, doubt="in-doubt", one=1)
    try:
        answer = hotelbeds("POST", f"{BOOKING_API}/bookings", json=body)
    except httpx.HTTPStatusError as error:
        if error.response.status_code not in REFUSED:
            raise
        return _finish(booking_id, owner, "failed", "failure", f"Hotelbeds refused it ({error.response.status_code})")
    return _finish(
        booking_id, owner, "confirmed", "booking", Booking.model_validate(answer["booking"]).model_dump_json()
    )
