"""Where bookings live: one DynamoDB item per booking, changed only by conditional writes.

A booking is ``pending`` (never sent), ``in-doubt`` (sent, its answer not
yet known: marked *before* each send, so a crash mid-send leaves it in
doubt, never pending), then ``confirmed`` or ``failed``; a confirmed one may
become ``cancelled``. Whoever advances a booking first takes its lock (an
owner and an expiry past the invocation's deadline): two workers never send
the same booking at once, and a worker that died frees it when the lock runs
out. Open bookings carry an ``open`` attribute, the key of a sparse index the
in-doubt job reads.

Every send makes a booking a suspect for the audit (an ``audit`` attribute
and when it is next due, ``audit_at``: a second sparse index), until the
audit has seen Hotelbeds hold exactly what the record says. Only a booking
sent once and confirmed by that send's own answer is never a suspect: one
send makes at most one booking, and its answer named it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from seawall.errors import DeadlineExceededError, StoreUnavailableError
from seawall.providers.hotelbeds.bookings._request import BookingRequest
from seawall.providers.hotelbeds.models import Booking

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Status = Literal["pending", "in-doubt", "confirmed", "failed", "cancelled"]
OPEN_INDEX = "OpenBookings"
AUDIT_INDEX = "AuditBookings"


class LockLostError(Exception):
    """Another worker holds the booking now (this one outlived its lock): this one stops, changing nothing."""


@dataclass(frozen=True)
class BookingRecord:
    """One booking as stored: the request, where it stands, and Hotelbeds' answer once known."""

    id: str
    caller: str
    client_reference: str
    status: Status
    request: BookingRequest
    created_at: float
    updated_at: float
    sends: int = 0
    sent_at: float | None = None  # when the last send began: Hotelbeds may be confirming it until settled
    booking: Booking | None = None
    failure: str | None = None
    audit_at: float | None = None  # when the audit is next due to look at Hotelbeds' bookings (None: not a suspect)
    audits: int = 0
    cancelled_duplicates: tuple[str, ...] = ()  # references of the extra bookings the audit cancelled

    @property
    def open(self) -> bool:
        """Not yet confirmed or failed."""
        return self.status in ("pending", "in-doubt")

    def public(self) -> dict[str, Any]:
        """The booking as its caller sees it: pending (also while in doubt), confirmed, failed or cancelled."""
        answer: dict[str, Any] = {
            "id": self.id,
            "status": "pending" if self.open else self.status,
            "client_reference": self.client_reference,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
        if self.booking is not None:
            booking = self.booking
            answer.update(
                reference=booking.reference,
                total_net=str(booking.total_net),
                currency=booking.currency,
                hotel={
                    "code": booking.hotel.code,
                    "name": booking.hotel.name,
                    "check_in": booking.hotel.check_in.isoformat(),
                    "check_out": booking.hotel.check_out.isoformat(),
                },
                cancellation_policies=[policy.model_dump(mode="json") for policy in booking.cancellation_policies],
            )
            if self.status == "cancelled":
                answer["cancellation_reference"] = booking.cancellation_reference
                amount = booking.hotel.cancellation_amount
                answer["cancellation_amount"] = None if amount is None else str(amount)
        if self.failure is not None:
            answer["failure"] = self.failure
        return answer


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _ms(seconds: float) -> str:
    return str(int(seconds * 1000))


class BookingStore:
    """The bookings table (HOTEL_BOOKINGS_TABLE), through one boto3 DynamoDB client."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def _call(self, operation: str, **request: Any) -> Any:
        """One request to the table; a failure other than a failed condition is :class:`StoreUnavailableError`.

        A worker's message then comes back, the in-doubt job's run is retried by its schedule, and the
        caller of an action gets a 503: each with the error the layer names, not botocore's.
        """
        try:
            return getattr(self.client, operation)(**request)
        except (self.client.exceptions.ConditionalCheckFailedException, DeadlineExceededError):
            raise
        except Exception as error:  # botocore's errors: the table is out of reach
            raise StoreUnavailableError("bookings table", cause=error) from error

    def create(self, record: BookingRecord) -> tuple[BookingRecord, bool]:
        """Store a new pending booking; if its id exists, the stored one (and ``False``)."""
        item = {
            "id": {"S": record.id},
            "caller": {"S": record.caller},
            "client_reference": {"S": record.client_reference},
            "status": {"S": record.status},
            "request": {"S": record.request.model_dump_json()},
            "created_at": {"N": _ms(record.created_at)},
            "updated_at": {"N": _ms(record.updated_at)},
            "sends": {"N": "0"},
            "open": {"S": "open"},
        }
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            return _record(error.response["Item"]), False
        return record, True

    def get(self, booking_id: str) -> BookingRecord | None:
        """The booking, read consistently; ``None`` when there is none."""
        answer = self._call("get_item", TableName=self.table, Key={"id": {"S": booking_id}}, ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else _record(item)

    def find(self, caller: str, booking_id: str) -> BookingRecord | None:
        """The caller's booking; ``None`` for an unknown id or another caller's (each sees only their own)."""
        record = self.get(booking_id)
        return record if record is not None and record.caller == caller else None

    def claim(self, booking_id: str, owner: str, until: float) -> BookingRecord | None:
        """Lock an open booking for ``owner`` until ``until``; ``None`` when it is final or locked by another."""
        now = time.time()
        try:
            answer = self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": booking_id}},
                UpdateExpression="SET lock_owner = :owner, lock_until = :until",
                ConditionExpression=(
                    "#status IN (:pending, :doubt) AND (attribute_not_exists(lock_until) OR lock_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":until": {"N": _ms(until)},
                    ":now": {"N": _ms(now)},
                    ":pending": {"S": "pending"},
                    ":doubt": {"S": "in-doubt"},
                },
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _record(answer["Attributes"])

    def mark_sent(self, booking_id: str, owner: str, audit_after: float) -> BookingRecord:
        """In doubt from now on, and a suspect for the audit from ``audit_after`` seconds on: before each send."""
        now = time.time()
        return self._owned(
            booking_id,
            owner,
            "SET #status = :doubt, sent_at = :now, updated_at = :now, #audit = :audit, audit_at = :due ADD sends :one",
            {
                ":doubt": {"S": "in-doubt"},
                ":now": {"N": _ms(now)},
                ":audit": {"S": "audit"},
                ":due": {"N": _ms(now + audit_after)},
                ":one": {"N": "1"},
            },
        )

    def unsend(self, booking_id: str, owner: str, before: BookingRecord) -> BookingRecord:
        """Undo :meth:`mark_sent` when nothing was sent after all (our limiter or breaker refused first)."""
        values: dict[str, Any] = {":status": {"S": before.status}, ":sends": {"N": str(before.sends)}}
        if before.sent_at is None:
            expression = "SET #status = :status, sends = :sends REMOVE sent_at, #audit, audit_at"
        else:
            expression = "SET #status = :status, sends = :sends, sent_at = :sent"
            values[":sent"] = {"N": _ms(before.sent_at)}
        return self._owned(booking_id, owner, expression, values)

    def confirm(self, booking_id: str, owner: str, booking: Booking, *, beyond_doubt: bool = False) -> BookingRecord:
        """Confirmed, with Hotelbeds' booking; no longer open.

        ``beyond_doubt``: the only send's own answer confirmed it; the audit has nothing to look for.
        """
        unaudited = ", #audit, audit_at" if beyond_doubt else ""
        return self._owned(
            booking_id,
            owner,
            "SET #status = :confirmed, booking = :booking, updated_at = :now"
            f" REMOVE #open, lock_owner, lock_until{unaudited}",
            {
                ":confirmed": {"S": "confirmed"},
                ":booking": {"S": booking.model_dump_json()},
                ":now": {"N": _ms(time.time())},
            },
        )

    def fail(self, booking_id: str, owner: str, reason: str) -> BookingRecord:
        """Failed, with why (words of ours, never Hotelbeds' message); no longer open."""
        return self._owned(
            booking_id,
            owner,
            "SET #status = :failed, failure = :reason, updated_at = :now REMOVE #open, lock_owner, lock_until",
            {":failed": {"S": "failed"}, ":reason": {"S": reason}, ":now": {"N": _ms(time.time())}},
        )

    def release(self, booking_id: str, owner: str, *, touch: bool = False) -> None:
        """Give the lock up, if ``owner`` still holds it (a final booking holds none).

        ``touch``: the attempt failed; the booking goes to the back of the in-doubt job's order.
        """
        expression, values = "REMOVE lock_owner, lock_until", {}
        if touch:
            expression, values = f"SET updated_at = :now {expression}", {":now": {"N": _ms(time.time())}}
        with contextlib.suppress(LockLostError):
            self._owned(booking_id, owner, expression, values)

    def cancel(self, booking_id: str, booking: Booking) -> BookingRecord:
        """Cancelled, with Hotelbeds' cancelled booking (a confirmed or already cancelled booking only)."""
        return self._with_booking(booking_id, booking, "cancelled", when=("confirmed", "cancelled"))

    def adopt(self, booking_id: str, booking: Booking) -> BookingRecord | None:
        """A failed booking Hotelbeds holds after all: confirmed with it; ``None`` if it is no longer failed."""
        try:
            return self._with_booking(booking_id, booking, "confirmed", when=("failed",), remove=" REMOVE failure")
        except self.client.exceptions.ConditionalCheckFailedException:
            return None

    def _with_booking(
        self, booking_id: str, booking: Booking, status: Status, *, when: tuple[Status, ...], remove: str = ""
    ) -> BookingRecord:
        """``status``, with Hotelbeds' ``booking``, if the record's status is one of ``when`` (else the write fails)."""
        allowed = {f":when{index}": {"S": state} for index, state in enumerate(when)}
        answer = self._call(
            "update_item",
            TableName=self.table,
            Key={"id": {"S": booking_id}},
            UpdateExpression=f"SET #status = :status, booking = :booking, updated_at = :now{remove}",
            ConditionExpression=f"#status IN ({', '.join(allowed)})",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":booking": {"S": booking.model_dump_json()},
                ":now": {"N": _ms(time.time())},
                **allowed,
            },
            ReturnValues="ALL_NEW",
        )
        return _record(answer["Attributes"])

    def duplicate_found(self, booking_id: str, reference: str) -> bool:
        """Note ``reference`` as an extra booking to cancel; ``False`` when it was noted before (counted once)."""
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": booking_id}},
                UpdateExpression="ADD cancelled_duplicates :reference",
                ConditionExpression="attribute_exists(id) AND NOT contains(cancelled_duplicates, :one)",
                ExpressionAttributeValues={":reference": {"SS": [reference]}, ":one": {"S": reference}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def audited(self, booking_id: str, next_at: float | None) -> None:
        """The audit looked: next due at ``next_at``, or (``None``) no longer a suspect."""
        if next_at is None:
            expression, values = "REMOVE #audit, audit_at ADD audits :one", {":one": {"N": "1"}}
        else:
            expression, values = (
                "SET audit_at = :due ADD audits :one",
                {":due": {"N": _ms(next_at)}, ":one": {"N": "1"}},
            )
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):  # no longer a suspect
            self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": booking_id}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#audit)",
                ExpressionAttributeNames={"#audit": "audit"},
                ExpressionAttributeValues=values,
            )

    def open_bookings(self, idle_since: float) -> list[str]:
        """Ids of open bookings nobody changed since ``idle_since`` (Unix seconds), oldest first."""
        return self._index(OPEN_INDEX, "#open = :open AND updated_at < :bound", "open", idle_since)

    def due_for_audit(self, now: float) -> list[str]:
        """Ids of the audit's suspects due by ``now`` (Unix seconds), longest due first."""
        return self._index(AUDIT_INDEX, "#audit = :audit AND audit_at <= :bound", "audit", now)

    def _index(self, index: str, condition: str, key: str, bound: float) -> list[str]:
        ids: list[str] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {f"#{key}": key},
            "ExpressionAttributeValues": {f":{key}": {"S": key}, ":bound": {"N": _ms(bound)}},
        }
        while True:
            answer = self._call("query", **query)
            ids += [item["id"]["S"] for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return ids
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _owned(self, booking_id: str, owner: str, expression: str, values: dict[str, Any]) -> BookingRecord:
        names = {name: name[1:] for name in ("#status", "#open", "#audit") if name in expression}
        try:
            answer = self._call(
                "update_item",
                TableName=self.table,
                Key={"id": {"S": booking_id}},
                UpdateExpression=expression,
                ConditionExpression="lock_owner = :owner",
                ExpressionAttributeValues={**values, ":owner": {"S": owner}},
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise LockLostError(booking_id) from None
        return _record(answer["Attributes"])


def _record(item: dict[str, Any]) -> BookingRecord:
    def number(name: str) -> float | None:
        return int(item[name]["N"]) / 1000 if name in item else None

    return BookingRecord(
        id=item["id"]["S"],
        caller=item["caller"]["S"],
        client_reference=item["client_reference"]["S"],
        status=item["status"]["S"],
        request=BookingRequest.model_validate_json(item["request"]["S"]),
        created_at=int(item["created_at"]["N"]) / 1000,
        updated_at=int(item["updated_at"]["N"]) / 1000,
        sends=int(item.get("sends", {"N": "0"})["N"]),
        sent_at=number("sent_at"),
        booking=Booking.model_validate_json(item["booking"]["S"]) if "booking" in item else None,
        failure=item["failure"]["S"] if "failure" in item else None,
        audit_at=number("audit_at"),
        audits=int(item.get("audits", {"N": "0"})["N"]),
        cancelled_duplicates=tuple(sorted(item.get("cancelled_duplicates", {"SS": []})["SS"])),
    )
