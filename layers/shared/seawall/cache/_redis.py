"""The cache's Upstash Redis store: a string per key, expired by Redis itself.

Upstash's REST API carries JSON strings, so the compressed bytes travel as base64.
"""

from __future__ import annotations

import base64
from typing import Any


class RedisCacheStore:
    """Cached values as Redis strings with a millisecond expiry."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, key: str) -> bytes | None:
        """See :class:`~seawall.cache.CacheStore`."""
        text: str | None = self.client.get(key)
        return None if text is None else base64.b64decode(text, validate=True)

    def put(self, key: str, value: bytes, ttl_ms: int) -> None:
        """See :class:`~seawall.cache.CacheStore`."""
        self.client.set(key, base64.b64encode(value).decode("ascii"), px=ttl_ms)
