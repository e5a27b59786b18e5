"""The breaker's DynamoDB store: one item per provider in the state table.

DynamoDB's update expressions cannot branch, so counting a call in a bucket
slot either adds to the bucket the slot holds or starts a new one, as the
caller guesses from the record it last saw; a wrong guess fails its condition
and is retried the other way. That second round trip happens only when a
container first writes to a new bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from seawall.breaker._store import Record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, UpdateItemInputTypeDef

_NAMES = {"#state": "state", "#open": "open_until", "#lease": "lease_until", "#probes": "probes", "#ok": "successes"}


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _plain(item: Mapping[str, AttributeValueTypeDef]) -> Record:
    return {key: value.get("S", value.get("N")) for key, value in item.items()}


class DynamoDBBreakerStore:
    """Breaker records as items of the state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def _key(self, name: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"breaker:{name}"}}

    def _send(
        self, name: str, expression: str, condition: str | None, values: dict[str, Any], slots: range = range(0)
    ) -> Record:
        """One update (conditional unless ``condition`` is ``None``); the new record.

        ``slots`` are the bucket slots whose attributes the expressions name.
        """
        text = f"{expression} {condition or ''}"
        names = {key: value for key, value in _NAMES.items() if key in text}
        names.update(
            {f"#{field}{slot}": f"{field}{slot}" for slot in slots for field in "bnfs" if f"#{field}{slot}" in text}
        )
        request: UpdateItemInputTypeDef = {
            "TableName": self.table,
            "Key": self._key(name),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if condition is not None:
            request["ConditionExpression"] = condition
        answer = self.client.update_item(**request)
        return _plain(answer["Attributes"])

    def _update(
        self, name: str, expression: str, condition: str, values: dict[str, Any], slots: range = range(0)
    ) -> Record | None:
        """One conditional update; the new record, or ``None`` when the condition failed."""
        try:
            return self._send(name, expression, condition, values, slots)
        except self.client.exceptions.ConditionalCheckFailedException:
            return None

    def read(self, name: str) -> Record:
        """The record as it is."""
        item = self.client.get_item(TableName=self.table, Key=self._key(name), ConsistentRead=True).get("Item", {})
        return _plain(item)

    def record(self, name: str, *, slot: int, bucket: int, fault: bool, slow: bool, holds_bucket: bool) -> Record:
        """Count one call, guessing first whether ``slot`` already holds ``bucket``."""
        values = {":b": _number(bucket), ":one": _number(1), ":f": _number(int(fault)), ":s": _number(int(slow))}
        add = (f"ADD #n{slot} :one, #f{slot} :f, #s{slot} :s", f"#b{slot} = :b")
        start = (
            f"SET #b{slot} = :b, #n{slot} = :one, #f{slot} = :f, #s{slot} = :s",
            f"attribute_not_exists(#b{slot}) OR #b{slot} < :b",
        )
        for expression, condition in (add, start) if holds_bucket else (start, add):
            updated = self._update(name, expression, condition, values, range(slot, slot + 1))
            if updated is not None:
                return updated
        # Neither held: another container moved the slot to a later bucket; this call is not counted.
        return self.read(name)

    def trip(self, name: str, open_until: int) -> bool:
        """Open if closed."""
        updated = self._update(
            name,
            "SET #state = :open, #open = :until",
            "attribute_not_exists(#state) OR #state = :closed",
            {":open": {"S": "open"}, ":closed": {"S": "closed"}, ":until": _number(open_until)},
        )
        return updated is not None

    def acquire_probe(self, name: str, *, now: int, probes: int, lease_ms: int) -> int | None:
        """A probe slot of the current half-open period, or the first of a new one."""
        values = {":half": {"S": "half_open"}, ":now": _number(now), ":max": _number(probes), ":one": _number(1)}
        joined = self._update(name, "ADD #probes :one", "#state = :half AND #lease > :now AND #probes < :max", values)
        if joined is not None:
            return int(joined["lease_until"])
        values = {
            ":half": {"S": "half_open"},
            ":open": {"S": "open"},
            ":now": _number(now),
            ":one": _number(1),
            ":zero": _number(0),
            ":lease": _number(now + lease_ms),
        }
        started = self._update(
            name,
            "SET #state = :half, #probes = :one, #ok = :zero, #lease = :lease",
            "(#state = :open AND #open <= :now) OR (#state = :half AND #lease <= :now)",
            values,
        )
        return None if started is None else now + lease_ms

    def finish_probe(
        self, name: str, *, token: int, success: bool, now: int, probes: int, open_ms: int, slots: int
    ) -> Record:
        """Count a probe's outcome, if it belongs to the current period."""
        current = "#state = :half AND #lease = :token"
        values = {":half": {"S": "half_open"}, ":token": _number(token)}
        if not success:
            values |= {":open": {"S": "open"}, ":until": _number(now + open_ms)}
            return self._update(name, "SET #state = :open, #open = :until", current, values) or self.read(name)
        counted = self._update(name, "ADD #ok :one", current, values | {":one": _number(1)})
        if counted is None or int(counted.get("successes", 0)) < probes:
            return counted or self.read(name)
        values |= _CLOSED_VALUES
        closed = self._update(name, _closing(slots), current, values, range(slots))
        return closed or self.read(name)

    def release_probe(self, name: str, *, token: int) -> None:
        """Free a probe slot, if the period is still ``token``'s."""
        self._update(
            name,
            "ADD #probes :minus",
            "#state = :half AND #lease = :token AND #probes > :zero",
            {":half": {"S": "half_open"}, ":token": _number(token), ":minus": _number(-1), ":zero": _number(0)},
        )

    def close(self, name: str, *, slots: int) -> Record:
        """Close whatever the state, the window cleared (unconditional: the operator's word is final)."""
        return self._send(name, _closing(slots), None, dict(_CLOSED_VALUES), range(slots))


_CLOSED_VALUES = {":closed": {"S": "closed"}, ":none": _number(-1)}


def _closing(slots: int) -> str:
    """The update closing the breaker, with every bucket slot cleared (``_CLOSED_VALUES``)."""
    clear = ", ".join(f"#b{slot} = :none" for slot in range(slots))
    return f"SET #state = :closed, {clear}"
