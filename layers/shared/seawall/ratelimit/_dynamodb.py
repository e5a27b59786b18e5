"""The limiter's DynamoDB store: one conditional write per decision.

One item per limit and window (its key holds the window's start), counted with
a conditional ADD and removed by TTL after the window. One limit is a single
UpdateItem; several are one TransactWriteItems of such updates, so a refusal
by any limit consumes nothing. DynamoDB has no clock to read: windows follow
this container's clock, which Lambda keeps synchronised (Amazon Time Sync);
a skew of a few milliseconds moves window edges by as much.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from seawall.ratelimit._limits import Limit

# Counters outlive their window by this much before TTL may delete them.
_TTL_SLACK_SECONDS = 60


class DynamoDBLimiterStore:
    """Fixed-window counters as DynamoDB items in the state table."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def _window(key: str, limit: Limit, now_ms: int) -> tuple[dict[str, Any], int]:
        """The item key of ``limit``'s window holding ``now_ms``, and when TTL may delete it (Unix seconds)."""
        start = limit.window_start_ms(now_ms)
        return {"pk": {"S": f"{key}:{limit.name}:{start}"}}, (start + limit.window_ms) // 1000 + _TTL_SLACK_SECONDS

    def _update(self, key: str, limit: Limit, now_ms: int) -> dict[str, Any]:
        item_key, expires = self._window(key, limit, now_ms)
        return {
            "TableName": self.table,
            "Key": item_key,
            "UpdateExpression": "ADD #count :one SET #expires = :expires",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#count": "count", "#expires": "expires_at"},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":limit": {"N": str(limit.limit)},
                ":expires": {"N": str(expires)},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def consume(self, key: str, limits: Sequence[Limit]) -> tuple[bool, list[int | None], int]:
        """Take a slot in every limit, or none; returns (allowed, counts, this clock in ms)."""
        # A container's first call builds its client: read the clock after, when the request can leave, or
        # the slot lands in a window that has ended by the time the caller's request reaches the provider.
        self.client.meta  # noqa: B018
        now_ms = int(time.time() * 1000)
        updates = [self._update(key, limit, now_ms) for limit in limits]
        if len(updates) == 1:
            return self._single(updates[0], now_ms)
        try:
            self.client.transact_write_items(TransactItems=[{"Update": update} for update in updates])
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            counts: list[int | None] = [
                int(reason["Item"]["count"]["N"]) if reason.get("Code") == "ConditionalCheckFailed" else None
                for reason in reasons
            ]
            if not any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
                raise
            return False, counts, now_ms
        return True, [None] * len(limits), now_ms

    def exhaust(self, key: str, limit: Limit) -> int:
        """Fill ``limit``'s counter for the current window; returns this clock in ms."""
        now_ms = int(time.time() * 1000)
        item_key, expires = self._window(key, limit, now_ms)
        self.client.update_item(
            TableName=self.table,
            Key=item_key,
            UpdateExpression="SET #count = :limit, #expires = :expires",
            ExpressionAttributeNames={"#count": "count", "#expires": "expires_at"},
            ExpressionAttributeValues={":limit": {"N": str(limit.limit)}, ":expires": {"N": str(expires)}},
        )
        return now_ms

    def usage(self, key: str, limits: Sequence[Limit]) -> tuple[list[int], int]:
        """Each limit's counter in its current window (0 when none yet); returns (counts, this clock in ms)."""
        now_ms = int(time.time() * 1000)
        counts = []
        for limit in limits:
            item_key, _ = self._window(key, limit, now_ms)
            item = self.client.get_item(TableName=self.table, Key=item_key, ConsistentRead=True).get("Item", {})
            counts.append(int(item["count"]["N"]) if "count" in item else 0)
        return counts, now_ms

    def _single(self, update: dict[str, Any], now_ms: int) -> tuple[bool, list[int | None], int]:
        try:
            answer = self.client.update_item(**update, ReturnValues="UPDATED_NEW")
        except self.client.exceptions.ConditionalCheckFailedException as error:
            return False, [int(error.response["Item"]["count"]["N"])], now_ms
        return True, [int(answer["Attributes"]["count"]["N"])], now_ms
