"""The cache's DynamoDB store: one item per key in the state table.

DynamoDB's TTL deletes expired items late (within days), so each item also
holds its expiry in milliseconds and a read past it is a miss. Expiry
follows this container's clock, which Lambda keeps synchronised.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBCacheStore:
    """Cached values as items of the state table (``expires_at``: the table's TTL attribute)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def get(self, key: str) -> bytes | None:
        """See :class:`~seawall.cache.CacheStore`."""
        answer = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": key}},
            ConsistentRead=False,  # a cache can be a moment behind; eventual reads cost half
            ProjectionExpression="#value, #expires",
            ExpressionAttributeNames={"#value": "value", "#expires": "expires_at_ms"},
        )
        item = answer.get("Item")
        if item is None or int(item["expires_at_ms"]["N"]) <= int(time.time() * 1000):
            return None
        return bytes(item["value"]["B"])

    def put(self, key: str, value: bytes, ttl_ms: int) -> None:
        """See :class:`~seawall.cache.CacheStore`."""
        expires_ms = int(time.time() * 1000) + ttl_ms
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": key},
                "value": {"B": value},
                "expires_at_ms": {"N": str(expires_ms)},
                # Rounded up: TTL must never delete an item before its reads start missing.
                "expires_at": {"N": str(-(-expires_ms // 1000))},
            },
        )
