"""Projections that converge whatever order events arrive in, and one fact per event, in one transaction.

State. Each write carries the event's place in its object's history as one
sortable string (:func:`order_key`): the time the provider created the event,
then a per-type precedence for events of the same second (a payment's later
lifecycle states win), then the id as a last, arbitrary but order-independent
tie-break. DynamoDB applies a write only when nothing later is stored for that
aspect of the item, so the final state does not depend on arrival order.

Facts. Staleness decides whether the projection changes; it never erases what
happened. Every event applied yields exactly one domain event, saying whether
it changed the projection (``changed``), in the same ``TransactWriteItems`` as
the projection's write:

- a marker row per event in the outbox table (its id, kept
  ``FACT_RETENTION_SECONDS``) makes a second application of the same event a
  no-op, whenever it comes;
- the projection item (the aggregate) counts its facts: each fact carries
  ``sequence`` 1, 2, 3... in the order its aggregate's facts were recorded,
  with no gaps;
- the aggregate's outbox row holds its latest fact. Each fact is one write to
  that one row, and DynamoDB Streams gives the records of one item in the order
  of its writes, so the publisher reads (and puts on the bus) an aggregate's
  facts in ``sequence`` order.

A publisher reads the outbox's stream and puts the facts on the bus, so a bus
that is down loses nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from seawall.errors import StoreUnavailableError

OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
# An event's marker outlives every way it can come again: Stripe lists events for 30 days, SQS keeps a dead
# letter for 14 days (a redrive), and reconciliation looks back at most 30 days.
FACT_RETENTION_SECONDS = 35 * 24 * 3600
# EventBridge takes entries of at most 256 KB (Source, DetailType, Detail and Time, in UTF-8).
EVENTBRIDGE_ENTRY_BYTES = 256 * 1024
_TIME_BYTES = 14
SEQUENCE_ATTRIBUTE = "fact_sequence"
# Two writers of one aggregate: the loser reads the count again. More conflicts than this is contention
# worth a retry of the whole message.
_ATTEMPTS = 5

Applied = Literal["changed", "unchanged", "duplicate"]


def _json(value: Any) -> str:
    """Compact, standard JSON with text as it is: a non-ASCII character costs its UTF-8 bytes, not six.

    NaN and Infinity raise ValueError: they are not JSON, and a subscriber's parser would refuse the event.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# Widths no valid value overflows: a time in seconds before the year 33658, and a rank as large as the
# largest number DynamoDB holds (38 digits; Stripe's amounts are held to it).
_CREATED_DIGITS, _RANK_DIGITS = 12, 38


def order_key(created: int, rank: int, event_id: str) -> str:
    """The sortable place of an event: created time, then precedence, then id (all compared as one string).

    Raises ValueError for a time or rank that does not fit its fixed width (it would sort wrongly).
    """
    if not (0 <= created < 10**_CREATED_DIGITS and 0 <= rank < 10**_RANK_DIGITS):
        raise ValueError("created or rank out of range for an order key")
    return f"{created:0{_CREATED_DIGITS}d}:{rank:0{_RANK_DIGITS}d}:{event_id}"


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

    def outbox_item(self, row: str | None = None) -> dict[str, Any]:
        """The outbox row holding this event (keyed ``row``, or the event's id), expiring after the retention."""
        return {
            "id": {"S": row or self.event_id},
            "event_id": {"S": self.event_id},
            "source": {"S": self.source},
            "detail_type": {"S": self.detail_type},
            "detail": {"S": _json(self.detail)},
            "expires_at": {"N": str(int(time.time()) + OUTBOX_RETENTION_SECONDS)},
        }

    @classmethod
    def from_outbox(cls, image: dict[str, Any]) -> DomainEvent | None:
        """The event an outbox row (a stream record's NewImage) holds; ``None`` for a row that holds none."""
        if "detail_type" not in image:
            return None  # an event's marker
        return cls(
            event_id=image.get("event_id", image["id"])["S"],
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
    ``event`` is the fact the event is, recorded whether or not the write applies.
    """

    table: str
    key: str
    aspect: str
    values: dict[str, Any]
    order: str
    event: DomainEvent
    condition: str = ""
    final: bool = False
    remove: tuple[str, ...] = field(default_factory=tuple)

    def update(self, recorded: int) -> dict[str, Any]:
        """The UpdateItem that applies the write and counts its fact, given ``recorded`` facts so far."""
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
        counted = self.counted(recorded)
        return {
            **counted,
            "UpdateExpression": counted["UpdateExpression"]
            + ", "
            + ", ".join(assignments)
            + (" REMOVE " + ", ".join(removals) if removals else ""),
            "ConditionExpression": " AND ".join(f"({clause})" for clause in [*clauses, counted["ConditionExpression"]]),
            "ExpressionAttributeNames": {**counted["ExpressionAttributeNames"], **names},
            "ExpressionAttributeValues": {**counted["ExpressionAttributeValues"], **values},
        }

    def counted(self, recorded: int) -> dict[str, Any]:
        """The UpdateItem that only counts the fact (a stale event): while ``recorded`` facts are counted."""
        values = {":sequence": {"N": str(recorded + 1)}}
        if recorded:
            values[":recorded"] = {"N": str(recorded)}
        return {
            "TableName": self.table,
            "Key": {"id": {"S": self.key}},
            "UpdateExpression": "SET #sequence = :sequence",
            "ConditionExpression": "#sequence = :recorded" if recorded else "attribute_not_exists(#sequence)",
            "ExpressionAttributeNames": {"#sequence": SEQUENCE_ATTRIBUTE},
            "ExpressionAttributeValues": values,
        }


class Projector:
    """Applies :class:`Write` s, with their facts, to DynamoDB."""

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

    def apply(self, write: Write) -> Applied:
        """Apply ``write`` and record its fact once: ``changed``, ``unchanged`` (stale), or ``duplicate``.

        ``duplicate`` means an earlier attempt of the same event recorded its
        fact already. Raises on a store failure, and on contention that outlasts
        a few attempts, so the message is retried.
        """
        for _ in range(_ATTEMPTS):
            recorded = self._recorded(write)
            attempts: tuple[tuple[Applied, dict[str, Any]], ...] = (
                ("changed", write.update(recorded)),
                ("unchanged", write.counted(recorded)),
            )
            for applied, update in attempts:
                outcome = self._transact(write, update, recorded + 1, applied == "changed")
                if outcome == "recorded":
                    return applied
                if outcome == "duplicate":
                    return "duplicate"
                if outcome == "conflict":
                    break  # another fact of the aggregate was counted meanwhile: read the count again
        raise StoreUnavailableError("projections", retry_after=1.0)

    def _recorded(self, write: Write) -> int:
        """How many facts the aggregate has recorded (a strongly consistent read)."""
        item = self.dynamodb.get_item(
            TableName=write.table,
            Key={"id": {"S": write.key}},
            ConsistentRead=True,
            ProjectionExpression="#sequence",
            ExpressionAttributeNames={"#sequence": SEQUENCE_ATTRIBUTE},
        ).get("Item", {})
        return int(item[SEQUENCE_ATTRIBUTE]["N"]) if SEQUENCE_ATTRIBUTE in item else 0

    def _transact(
        self, write: Write, update: dict[str, Any], sequence: int, changed: bool
    ) -> Literal["recorded", "duplicate", "refused", "conflict"]:
        """One transaction: the projection's update, the event's marker, the aggregate's latest fact.

        ``refused``: the projection's condition failed with the count as read
        (the event is stale); ``conflict``: the count had moved on.
        """
        fact = replace(write.event, detail={**write.event.detail, "sequence": sequence, "changed": changed})
        marker = {"id": {"S": fact.event_id}, "expires_at": {"N": str(int(time.time()) + FACT_RETENTION_SECONDS)}}
        items = [
            {"Update": update},
            {
                "Put": {
                    "TableName": self.outbox_table,
                    "Item": marker,
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
            {"Put": {"TableName": self.outbox_table, "Item": fact.outbox_item(f"aggregate:{write.table}:{write.key}")}},
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if any(code not in ("None", "ConditionalCheckFailed", None) for code in codes):
                raise  # a conflicting transaction or throttling: the message is retried
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "duplicate"
            return "refused" if changed else "conflict"
        return "recorded"
