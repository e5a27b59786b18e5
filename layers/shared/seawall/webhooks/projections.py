"""Projections that converge whatever order events arrive in, and one fact per event, in one write.

State. Each write carries the event's place in its object's history as one
sortable string (:func:`order_key`): the time the provider created the event,
then a per-type precedence for events of the same second (a payment's later
lifecycle states win), then the id as a last, arbitrary but order-independent
tie-break. DynamoDB applies a write only when nothing later is stored for that
aspect of the item, so the final state does not depend on arrival order.

Facts. Staleness decides whether the projection changes; it never erases what
happened. Every event applied yields exactly one domain event, saying whether
it changed the projection (``changed``), in the same ``UpdateItem`` as the
projection's write, on the aggregate's item (the projection):

- the item holds its latest fact (``fact_*``) and counts its facts: each fact
  carries ``sequence`` 1, 2, 3... in the order its aggregate's facts were
  recorded, with no gaps. DynamoDB Streams gives the records of one item in
  the order of its writes, so the publisher reads (and puts on the bus) an
  aggregate's facts in ``sequence`` order;
- the item holds a marker per event applied (``event:<id>``: when it may be
  forgotten, ``FACT_RETENTION_SECONDS`` on), and a write is conditional on not
  finding its own, so a second application of the same event is a no-op,
  whenever it comes. Markers past their time are pruned. An aggregate that
  holds ``markers_per_item`` of them (a busy one) moves on to a marker row
  each in the outbox table, written with the item in one transaction
  (``overflow``): DynamoDB bills a write by the larger of the item's sizes
  before and after, per KB, so the item stays small;
- a final write closes the aggregate (``closed``): a stale event's fact on a
  closed aggregate is written without the object's values, so a deleted
  customer keeps nothing of the customer.

A publisher reads the tables' streams and puts the facts on the bus, so a bus
that is down loses nothing. Events with no projection (:meth:`Projector.record`)
are rows of the outbox table, read the same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef, UpdateTypeDef
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
# An event's marker outlives every way it can come again: Stripe lists events for 30 days, SQS keeps a dead
# letter for 14 days (a redrive), and reconciliation looks back at most 30 days.
FACT_RETENTION_SECONDS = 35 * 24 * 3600
# EventBridge takes entries of at most 256 KB (Source, DetailType, Detail and Time, in UTF-8).
EVENTBRIDGE_ENTRY_BYTES = 256 * 1024
_TIME_BYTES = 14
SEQUENCE_ATTRIBUTE = "fact_sequence"
# The latest fact's parts on its aggregate's item.
_FACT_ATTRIBUTES = {"event_id": "fact_event_id", "source": "fact_source", "type": "fact_type", "detail": "fact_detail"}
MARKER_PREFIX = "event:"
OVERFLOW_ATTRIBUTE = "overflow"
CLOSED_ATTRIBUTE = "closed"
# Markers an aggregate's item holds before its markers move to rows of their own. A marker is ~48 bytes and a
# typical item 0.6-0.75 KB: with six it stays within the 1 KB one write unit pays for, so a busy aggregate's
# later events cost a transaction of two small items (4 units), where markers kept in place would cost a unit
# more for every ~20 of them (the markers kept stay until they expire).
MARKERS_PER_ITEM = 6
_ABSENT = "attribute_not_exists(id)"
# Names the projector's expressions use for themselves (``#name`` and ``:name``): a value may not take one.
_OWN_NAMES = {"sequence", "marker", "overflow", "closed", "order", "zero", "one", "forget"} | {
    f"fact_{name}" for name in ("event_id", "source", "type", "detail")
}

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

    def entry(self, bus: str) -> PutEventsRequestEntryTypeDef:
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
        """The outbox row holding this event, expiring after the retention."""
        return {
            "id": {"S": self.event_id},
            "source": {"S": self.source},
            "detail_type": {"S": self.detail_type},
            "detail": {"S": _json(self.detail)},
            "expires_at": {"N": str(int(time.time()) + OUTBOX_RETENTION_SECONDS)},
        }

    @classmethod
    def from_image(cls, new: dict[str, Any], old: dict[str, Any] | None = None) -> DomainEvent | None:
        """The event a stream record brings, from its images: ``None`` when it brings none.

        An outbox row holds its event; an aggregate's item brings a fact when its count moved (a write that
        only tidies the item brings none), numbered by the count.
        """
        if "detail_type" in new:  # (rows written before the id was the event's also name it)
            event_id = new.get("event_id", new["id"])["S"]
            return cls(event_id, new["source"]["S"], new["detail_type"]["S"], json.loads(new["detail"]["S"]))
        fact = {name: new.get(attribute, {}).get("S") for name, attribute in _FACT_ATTRIBUTES.items()}
        sequence = new.get(SEQUENCE_ATTRIBUTE)
        if sequence is None or None in fact.values() or sequence == (old or {}).get(SEQUENCE_ATTRIBUTE):
            return None
        detail = {**json.loads(fact["detail"]), "sequence": int(sequence["N"])}
        return cls(fact["event_id"], fact["source"], fact["type"], detail)


@dataclass(frozen=True)
class Write:
    """SET ``values`` on item ``key`` of ``table`` for the ``aspect`` of the object an event describes.

    ``order`` is the event's :func:`order_key`; ``final`` writes ignore order
    (a deletion is final whenever it arrives), apply once, close the aggregate,
    and ``remove`` what the object no longer has (the aspect's own order goes
    too). ``condition`` adds a clause over the same names, ``#name`` for a
    stored attribute and ``:name`` for a value being written (e.g. a deleted
    customer stays deleted). ``event`` is the fact the event is, recorded
    whether or not the write applies.
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

    def __post_init__(self) -> None:
        clashing = (set(self.values) | set(self.remove)) & _OWN_NAMES
        if clashing:
            raise ValueError(f"a write's values may not take the projector's own names: {sorted(clashing)}")

    def update(self, *, overflow: bool) -> dict[str, Any]:
        """The UpdateItem that applies the write and records its fact (see :meth:`fact`)."""
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
            names["#closed"], values[":closed"] = CLOSED_ATTRIBUTE, {"BOOL": True}
            assignments.append("#closed = :closed")
            removals = [f"#{name}" for name in self.remove] + ["#order"]
        else:
            names["#order"], values[":order"] = f"{self.aspect}_order", {"S": self.order}
            assignments.append("#order = :order")
            clauses = ["attribute_not_exists(#order) OR #order <= :order"]
        if self.condition:
            clauses.append(self.condition)
        fact = self.fact(changed=True, overflow=overflow, closed=False)
        return {
            **fact,
            "UpdateExpression": fact["UpdateExpression"]
            + ", "
            + ", ".join(assignments)
            + (" REMOVE " + ", ".join(removals) if removals else ""),
            "ConditionExpression": " AND ".join(f"({clause})" for clause in [*clauses, fact["ConditionExpression"]]),
            "ExpressionAttributeNames": {**fact["ExpressionAttributeNames"], **names},
            "ExpressionAttributeValues": {**fact["ExpressionAttributeValues"], **values},
        }

    def fact(self, *, changed: bool, overflow: bool, closed: bool) -> dict[str, Any]:
        """The UpdateItem that only records the fact (a stale event): counted, held, and marked on the item.

        With ``overflow`` the event's marker is a row of its own, written with this update in one transaction;
        the item's condition is then that it holds no marker of the event from before. A write to a ``closed``
        aggregate keeps nothing of the object: its fact holds no values, only ids and order (each branch is
        conditional on the closing it assumes, which only ever happens once).
        """
        detail = {**self.event.detail, "changed": changed}
        if closed:
            detail = {name: value for name, value in detail.items() if name not in self.values}
        names = {"#sequence": SEQUENCE_ATTRIBUTE, "#marker": MARKER_PREFIX + self.event.event_id}
        names |= {f"#fact_{name}": attribute for name, attribute in _FACT_ATTRIBUTES.items()}
        names |= {"#overflow": OVERFLOW_ATTRIBUTE, "#closed": CLOSED_ATTRIBUTE}
        values: dict[str, dict[str, Any]] = {
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":fact_event_id": {"S": self.event.event_id},
            ":fact_source": {"S": self.event.source},
            ":fact_type": {"S": self.event.detail_type},
            ":fact_detail": {"S": _json(detail)},
        }
        assignments = ["#sequence = if_not_exists(#sequence, :zero) + :one"]
        assignments += [f"#fact_{name} = :fact_{name}" for name in _FACT_ATTRIBUTES]
        condition = "attribute_not_exists(#marker) AND " + (
            "attribute_exists(#closed)" if closed else "attribute_not_exists(#closed)"
        )
        if overflow:
            values[":overflow"] = {"BOOL": True}
            assignments.append("#overflow = :overflow")  # once on rows, for good (see :func:`markers_are_rows`)
        else:
            values[":forget"] = {"N": str(int(time.time()) + FACT_RETENTION_SECONDS)}
            assignments.append("#marker = :forget")
            condition += " AND attribute_not_exists(#overflow)"
            condition += " AND (attribute_not_exists(#sequence) OR attribute_exists(#fact_type))"
        return {
            "TableName": self.table,
            "Key": {"id": {"S": self.key}},
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }


Outcome = Literal["recorded", "refused", "duplicate"]


def projection(item: dict[str, Any]) -> dict[str, Any]:
    """An aggregate's item as the product reads it: without the order, fact and marker bookkeeping."""
    kept = {"id", *(name for name in item if not name.endswith("_order"))}
    kept -= {SEQUENCE_ATTRIBUTE, OVERFLOW_ATTRIBUTE, CLOSED_ATTRIBUTE, *_FACT_ATTRIBUTES.values()}
    return {name: value for name, value in item.items() if name in kept and not name.startswith(MARKER_PREFIX)}


def markers_are_rows(item: dict[str, Any]) -> bool:
    """Whether an aggregate's item has its events' markers as rows of the outbox table, not on itself.

    A busy aggregate's (``overflow``), and one that counts facts but holds none: an aggregate recorded before
    facts were held on their items, whose markers are rows; the first write that finds it so marks it
    ``overflow``, for good.
    """
    return OVERFLOW_ATTRIBUTE in item or (SEQUENCE_ATTRIBUTE in item and _FACT_ATTRIBUTES["type"] not in item)


class Projector:
    """Applies :class:`Write` s, with their facts, to DynamoDB.

    ``markers_per_item``: how many events' markers an aggregate's item holds before they move to rows of their
    own (see the module).
    """

    def __init__(
        self, dynamodb: DynamoDBClient, outbox_table: str, *, markers_per_item: int = MARKERS_PER_ITEM
    ) -> None:
        self.dynamodb = dynamodb
        self.outbox_table = outbox_table
        self.markers_per_item = markers_per_item

    def record(self, event: DomainEvent) -> bool:
        """Put ``event`` in the outbox alone (no projection); ``False`` when it is already there."""
        try:
            self.dynamodb.put_item(TableName=self.outbox_table, Item=event.outbox_item(), ConditionExpression=_ABSENT)
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def apply(self, write: Write) -> Applied:
        """Apply ``write`` and record its fact once: ``changed``, ``unchanged`` (stale), or ``duplicate``.

        ``duplicate`` means an earlier attempt of the same event recorded its
        fact already. Raises on a store failure, so the message is retried.
        One write in the common case: the projection's, or the fact's alone when
        the event is stale (its order and the aggregate's closing only grow, so
        a stale event stays stale).
        """
        changed, overflow, closed = True, False, False
        found: dict[str, Any] = {}
        # Each refusal moves one thing on for good (changed to stale, the item to rows, the aggregate closed):
        # a handful of writes at most.
        for _ in range(5):
            outcome, item = self._write(write, changed, overflow, closed)
            if outcome == "recorded":
                self._tidy(write, item or found, overflow)
                return "changed" if changed else "unchanged"
            found = item or found
            if outcome == "duplicate" or MARKER_PREFIX + write.event.event_id in item:
                return "duplicate"
            if markers_are_rows(item) and not overflow:
                overflow = True  # the aggregate's markers are rows of their own: the same write, in a transaction
            elif changed:
                changed, closed = False, CLOSED_ATTRIBUTE in item  # stale: the fact alone
            elif CLOSED_ATTRIBUTE in item and not closed:
                closed = True  # closed meanwhile: the fact without the object's values
            else:
                break
        raise RuntimeError("a fact's write was refused with no marker of its event")  # retried, loudly

    def _write(self, write: Write, changed: bool, overflow: bool, closed: bool) -> tuple[Outcome, dict[str, Any]]:
        """One write; returns its outcome and the item: as left when recorded, as found when refused.

        With ``overflow``, one transaction of the item's update and the event's marker row, which returns no
        item when recorded (the caller keeps the one its write before found).
        """
        update = (
            write.update(overflow=overflow) if changed else write.fact(changed=False, overflow=overflow, closed=closed)
        )
        if not overflow:
            try:
                answer = self.dynamodb.update_item(
                    **update, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
                )
            except self.dynamodb.exceptions.ConditionalCheckFailedException as error:
                return "refused", error.response.get("Item", {})
            return "recorded", answer["Attributes"]
        marker = {
            "id": {"S": write.event.event_id},
            "expires_at": {"N": str(int(time.time()) + FACT_RETENTION_SECONDS)},
        }
        items: list[TransactWriteItemTypeDef] = [
            {"Update": cast("UpdateTypeDef", {**update, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})},
            {"Put": {"TableName": self.outbox_table, "Item": marker, "ConditionExpression": _ABSENT}},
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            codes = [reason.get("Code") for reason in reasons]
            if any(code not in ("None", "ConditionalCheckFailed", None) for code in codes):
                raise  # a conflicting transaction or throttling: the message is retried
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "duplicate", {}
            return "refused", reasons[0].get("Item", {}) if reasons else {}
        return "recorded", {}

    def _tidy(self, write: Write, item: dict[str, Any], overflow: bool) -> None:
        """After a fact is recorded, tidy its item; no write when there is nothing to do (the common case).

        Markers past their time are pruned, and a busy aggregate's markers move to rows of their own. ``item``
        is the item as the write left it, or (after a transaction) as the write before found it.
        """
        now = int(time.time())
        markers = {name: int(value["N"]) for name, value in item.items() if name.startswith(MARKER_PREFIX)}
        removals = [name for name, forget_at in markers.items() if forget_at < now]
        busy = not overflow and len(markers) - len(removals) >= self.markers_per_item
        if not (removals or busy):
            return
        names = {f"#r{index}": name for index, name in enumerate(removals)}
        clauses = ["REMOVE " + ", ".join(names)] if removals else []
        request: dict[str, Any] = {"TableName": write.table, "Key": {"id": {"S": write.key}}}
        if busy:
            names["#overflow"] = OVERFLOW_ATTRIBUTE
            clauses.insert(0, "SET #overflow = :overflow")
            request["ExpressionAttributeValues"] = {":overflow": {"BOOL": True}}
        self.dynamodb.update_item(**request, UpdateExpression=" ".join(clauses), ExpressionAttributeNames=names)
