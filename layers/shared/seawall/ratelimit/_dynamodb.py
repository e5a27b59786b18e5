"""The limiter's DynamoDB store: one conditional write per decision, in the common case.

A fixed window is an item per limit and window (its key holds the window's
start), counted with a conditional ADD. A sliding limit is one item holding
its TAT. An update expression cannot take ``max(TAT, now)``, so a sliding
limit's write names one of two branches, each with its own condition: *busy*
(the TAT is between now and now + tolerance, or as far ahead as a turn may be
taken: add an interval to it) or *idle*
(no TAT, or one in the past: set it to now + interval). A TAT beyond now +
tolerance fails both: the call is refused. The branch is guessed from the TAT
this container last saw; a wrong guess fails its condition, the failure returns
the item (``ReturnValuesOnConditionCheckFailure``), and the next attempt names
the right branch. One limit is a single UpdateItem; several are one
TransactWriteItems, so a refusal by any limit consumes nothing. Each write
leaves its own id on the items it changes and is conditional on not finding it
there: when an answer is lost and the SDK sends the write again, the repeat
fails, finds the write's id and is read as the write's own success, where it
would have taken a second turn (a transaction carries a ClientRequestToken as
well, which DynamoDB dedupes by; an UpdateItem has none). Items expire
by TTL. DynamoDB has no clock to read: decisions follow this container's
clock, which Lambda keeps synchronised (Amazon Time Sync); a skew of a few
milliseconds moves a window's edge, or a TAT, by as much.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from seawall.ratelimit._limits import Limit

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

# Items outlive their window, or their TAT, by this much before TTL may delete them.
_TTL_SLACK_SECONDS = 60
# The attribute holding the id of the write that last changed an item.
_WRITE_ID = "write_id"


class DynamoDBLimiterStore:
    """Sliding limits' TATs and fixed windows' counters as DynamoDB items in the state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table
        self._seen: dict[str, int] = {}  # item key -> the TAT this container last saw there

    @staticmethod
    def _item_key(key: str, limit: Limit, now_ms: int) -> str:
        return f"{key}:{limit.name}:{limit.window_start_ms(now_ms)}" if limit.fixed else f"{key}:{limit.name}:tat"

    @staticmethod
    def _expires(limit: Limit, now_ms: int, state: int | None = None) -> dict[str, str]:
        """When TTL may delete the item (Unix seconds): past its window, or past its TAT.

        The TAT is ``state``: the one the write sets, or the latest it can leave.
        """
        if state is None:
            state = limit.window_end_ms(now_ms)
        return {"N": str(math.ceil(state / 1000) + _TTL_SLACK_SECONDS)}

    def _update(self, key: str, limit: Limit, now_ms: int, within_ms: int, write_id: str) -> dict[str, Any]:
        item_key = self._item_key(key, limit, now_ms)
        latest = now_ms + limit.tolerance_ms + within_ms  # the latest TAT a call can be admitted at
        expires = {":expires": self._expires(limit, now_ms, None if limit.fixed else latest + limit.interval_ms)}
        update: dict[str, Any]
        if limit.fixed:
            update = {
                "UpdateExpression": "ADD #state :one SET #expires = :expires",
                "ConditionExpression": "attribute_not_exists(#state) OR #state < :limit",
                "ExpressionAttributeNames": {"#state": "count", "#expires": "expires_at"},
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(limit.limit)}, **expires},
            }
        elif self._seen.get(item_key, 0) >= now_ms:  # busy when last seen: add an interval to the TAT
            update = {
                "UpdateExpression": "SET #state = #state + :interval, #expires = :expires",
                "ConditionExpression": "#state BETWEEN :now AND :latest",
                "ExpressionAttributeNames": {"#state": "tat", "#expires": "expires_at"},
                "ExpressionAttributeValues": {
                    ":interval": {"N": str(limit.interval_ms)},
                    ":now": {"N": str(now_ms)},
                    ":latest": {"N": str(latest)},
                    **expires,
                },
            }
        else:  # idle: the TAT restarts from now
            update = {
                "UpdateExpression": "SET #state = :next, #expires = :expires",
                "ConditionExpression": "attribute_not_exists(#state) OR #state < :now",
                "ExpressionAttributeNames": {"#state": "tat", "#expires": "expires_at"},
                "ExpressionAttributeValues": {
                    ":next": {"N": str(now_ms + limit.interval_ms)},
                    ":now": {"N": str(now_ms)},
                    **expires,
                },
            }
        update["UpdateExpression"] += ", #write = :write"
        update["ConditionExpression"] = f"({update['ConditionExpression']}) AND NOT #write = :write"
        update["ExpressionAttributeNames"]["#write"] = _WRITE_ID
        update["ExpressionAttributeValues"][":write"] = {"S": write_id}
        return {"TableName": self.table, "Key": {"pk": {"S": item_key}}, **update}

    def consume(self, key: str, limits: Sequence[Limit], within_ms: int) -> tuple[bool, list[int | None], int]:
        """Take a call from every limit, or from none; returns (allowed, states, this clock in ms).

        A sliding limit's turn is taken up to ``within_ms`` ahead (see :class:`RateLimiter`).
        """
        # A container's first call builds its client: read the clock after, when the request can leave, or
        # the call is counted at a time that has passed by the time it reaches the provider.
        self.client.meta  # noqa: B018
        now_ms = int(time.time() * 1000)
        # A wrong guess corrects one limit's branch from idle to busy for good: a TAT only grows (every write
        # raises it; TTL deletes it only once it has passed), so one attempt per sliding limit is enough.
        for _ in range(1 + sum(not limit.fixed for limit in limits)):
            write_id = secrets.token_hex(8)
            updates = [self._update(key, limit, now_ms, within_ms, write_id) for limit in limits]
            allowed, states = self._write(updates, write_id)
            for limit, update, state in zip(limits, updates, states, strict=True):
                item_key = update["Key"]["pk"]["S"]
                if limit.fixed or (state is None and not allowed):
                    continue
                # A transaction returns nothing: the TAT it left is at least an interval past the last one seen.
                self._seen[item_key] = (
                    max(self._seen.get(item_key, 0), now_ms) + limit.interval_ms if state is None else state
                )
            if allowed:
                return True, states, now_ms
            if any(
                state is not None and limit.wait_ms(state, now_ms) > (0 if limit.fixed else within_ms)
                for limit, state in zip(limits, states, strict=True)
            ):
                return False, states, now_ms
        raise RuntimeError("a limit's TAT went back in time")  # the store policy answers, loudly

    def _write(self, updates: list[dict[str, Any]], write_id: str) -> tuple[bool, list[int | None]]:
        """Apply every update or none.

        Returns (True, the states after, ``None`` where not returned) or (False, the states as found where a
        condition failed, 0 for a missing item, ``None`` where it held).
        """
        if len(updates) == 1:
            try:
                answer = self.client.update_item(
                    **updates[0], ReturnValues="UPDATED_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
                )
            except self.client.exceptions.ConditionalCheckFailedException as error:
                item = error.response.get("Item", {})
                return _written_by(item, write_id), [_state(item)]  # true: this write, sent again
            return True, [_state(answer["Attributes"])]
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Update": cast("UpdateTypeDef", {**update, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})}
                    for update in updates
                ]
            )
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if not any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                raise
            if all(_written_by(reason.get("Item", {}), write_id) for reason in reasons):
                return True, [_state(reason["Item"]) for reason in reasons]  # this write, sent again
            return False, [
                _state(reason.get("Item", {})) if reason.get("Code") == "ConditionalCheckFailed" else None
                for reason in reasons
            ]
        return True, [None] * len(updates)

    def exhaust(self, key: str, limit: Limit) -> int:
        """Refuse every call of ``limit``: the rest of its window, or a whole window; returns this clock in ms."""
        now_ms = int(time.time() * 1000)
        state = limit.exhausted_state(now_ms)
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": self._item_key(key, limit, now_ms)}},
            UpdateExpression="SET #state = :state, #expires = :expires",
            ExpressionAttributeNames={"#state": "count" if limit.fixed else "tat", "#expires": "expires_at"},
            ExpressionAttributeValues={
                ":state": {"N": str(state)},
                ":expires": self._expires(limit, now_ms, None if limit.fixed else state),
            },
        )
        return now_ms

    def usage(self, key: str, limits: Sequence[Limit]) -> tuple[list[int], int]:
        """Each limit's state as found (0 when none); returns (states, this clock in ms)."""
        now_ms = int(time.time() * 1000)
        states = []
        for limit in limits:
            item = self.client.get_item(
                TableName=self.table, Key={"pk": {"S": self._item_key(key, limit, now_ms)}}, ConsistentRead=True
            ).get("Item", {})
            states.append(_state(item))
        return states, now_ms


def _written_by(item: dict[str, Any], write_id: str) -> bool:
    """Whether ``item`` was last changed by the write ``write_id``."""
    return item.get(_WRITE_ID) == {"S": write_id}


def _state(item: dict[str, Any]) -> int:
    """A limit's state in an item (or the attributes an update returned): its counter or TAT, 0 when none."""
    value = item.get("count") or item.get("tat") or {"N": "0"}
    return int(value["N"])
