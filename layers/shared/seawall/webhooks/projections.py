"""Projections that converge whatever order events arrive in, and an outbox written in the same transaction.

Each write carries the event's place in its object's history as one sortable
string, ``<created>:<rank>:<event id>``: the time Stripe (or another provider)
created the event, then a per-type precedence for events of the same second
(a payment's later lifecycle states win), then the id as a last, arbitrary
but order-independent tie-break. DynamoDB applies a write only when nothing
later is stored for that aspect of the item, so the final state does not
depend on arrival order.

A write that carries domain events puts them in the outbox table in the same
``TransactWriteItems``: either the projection changed and its events are
recorded, or neither happened. A publisher reads the outbox's stream and puts
them on the bus, so a bus that is down loses nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
# EventBridge takes entries of at most 256 KB (Source, DetailType, Detail and Time, in UTF-8).
EVENTBRIDGE_ENTRY_BYTES = 256 * 1024
_TIME_BYTES = 14


def _json(value: Any) -> str:
    """Compact, standard JSON with text as it is: a non-ASCII character costs its UTF-8 bytes, not six.

    NaN and Infinity raise ValueError: they are not JSON, and a subscriber's parser would refuse the event.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


_CREATED_DIGITS, _RANK_DIGITS = 12, 12


def order_key(created: int, rank: int, event_id: str) -> str:
    """The sortable place of an event: created time, then precedence, then id (all compared as one string)."""
    return f"{max(created, 0):0{_CREATED_DIGITS}d}:{max(rank, 0):0{_RANK_DIGITS}d}:{event_id}"


@dataclass(frozen=True)
class DomainEvent:
    """One outgoing event with a stable id (subscribers deduplicate on ``detail.event_id``)."""

    event_id: str
    source: str
    detail_type: str
    detail: dict[str, Any]

    def entry(self, bus: str) -> dict[str, Any]:
        """The PutEvents entry for ``bus``."""
        return {
            "EventBusName": bus,
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": _json({**self.detail, "event_id": self.event_id}),
        }

    def fits_eventbridge(self) -> bool:
        """Whether EventBridge will take it (its entry within EVENTBRIDGE_ENTRY_BYTES)."""
        entry = self.entry("")
        size = sum(len(entry[name].encode()) for name in ("Source", "DetailType", "Detail")) + _TIME_BYTES
        return size <= EVENTBRIDGE_ENTRY_BYTES

    def outbox_item(self) -> dict[str, Any]:
        """The outbox row, expiring after ``OUTBOX_RETENTION_SECONDS``."""
        return {
            "id": {"S": self.event_id},
            "source": {"S": self.source},
            "detail_type": {"S": self.detail_type},
            "detail": {"S": _json(self.detail)},
            "expires_at": {"N": str(int(time.time()) + OUTBOX_RETENTION_SECONDS)},
        }

    @classmethod
    def from_outbox(cls, image: dict[str, Any]) -> DomainEvent:
        """The event an outbox row (a stream record's NewImage) holds."""
        return cls(
            event_id=image["id"]["S"],
            source=image["source"]["S"],
            detail_type=image["detail_type"]["S"],
            detail=json.loads(image["detail"]["S"]),
        )


@dataclass(frozen=True)
class Write:
    """SET ``values`` on item ``key`` of ``table`` for the ``aspect`` of the object an event describes.

    ``order`` is the event's :func:`order_key`; ``final`` writes ignore order
    (a deletion is final whenever it arrives), apply once, and ``remove``
    what the object no longer has (the aspect's own order goes too). ``condition``
    adds a clause over the same names, ``#name`` for a stored attribute and
    ``:name`` for a value being written (e.g. a deleted customer stays deleted).
    """

    table: str
    key: str
    aspect: str
    values: dict[str, Any]
    order: str
    condition: str = ""
    final: bool = False
    remove: Sequence[str] = ()
    events: Sequence[DomainEvent] = field(default_factory=tuple)

    def update(self) -> dict[str, Any]:
        """The conditional UpdateItem (as a transaction item or a call's arguments)."""
        names = {f"#{name}": name for name in self.values}
        # Imported when first needed: boto3 costs ~150 ms of the cold start of receivers that name DomainEvent.
        from boto3.dynamodb.types import TypeSerializer  # noqa: PLC0415

        serializer = TypeSerializer()
        values = {f":{name}": serializer.serialize(value) for name, value in self.values.items()}
        assignments = [f"#{name} = :{name}" for name in self.values]
        removals: list[str] = []
        if self.final:
            clauses = [f"attribute_not_exists(#{name}) OR #{name} <> :{name}" for name in self.values]
            names |= {f"#{name}": name for name in self.remove} | {"#order": f"{self.aspect}_order"}
            removals = [f"#{name}" for name in self.remove] + ["#order"]
        else:
            names["#order"], values[":order"] = f"{self.aspect}_order", {"S": self.order}
            assignments.append("#order = :order")
            clauses = ["attribute_not_exists(#order) OR #order <= :order"]
        if self.condition:
            clauses.append(self.condition)
        return {
            "TableName": self.table,
            "Key": {"id": {"S": self.key}},
            "UpdateExpression": "SET "
            + ", ".join(assignments)
            + (" REMOVE " + ", ".join(removals) if removals else ""),
            "ConditionExpression": " AND ".join(f"({clause})" for clause in clauses),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


class Projector:
    """Applies :class:`Write` s, with their domain events, to DynamoDB."""

    def __init__(self, dynamodb: Any, outbox_table: str) -> None:
        self.dynamodb = dynamodb
        self.outbox_table = outbox_table

    def record(self, event: DomainEvent) -> bool:
        """Put ``event`` in the outbox alone (no projection); ``False`` when it is already there."""
        try:
            self.dynamodb.put_item(
                TableName=self.outbox_table, Item=event.outbox_item(), ConditionExpression="attribute_not_exists(id)"
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def apply(self, write: Write) -> bool:
        """Whether the write is in effect: applied now, or already applied by an earlier attempt of the same event.

        ``False`` means something later is stored (or a final write already
        happened): nothing changed and no event is recorded.
        """
        if not write.events:
            try:
                self.dynamodb.update_item(**write.update())
            except self.dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True
        outbox = [
            {
                "Put": {
                    "TableName": self.outbox_table,
                    "Item": event.outbox_item(),
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
            for event in write.events
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=[{"Update": write.update()}, *outbox])
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if any(code not in ("None", "ConditionalCheckFailed", None) for code in codes):
                raise  # a conflict or throttling: the message is retried
            # Its events already in the outbox: an earlier attempt applied it. Otherwise the projection was later.
            return any(code == "ConditionalCheckFailed" for code in codes[1:])
        return True
