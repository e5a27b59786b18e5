"""The shared cache: hashed keys, compressed values, every store failure a miss."""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from typing import Any, Protocol

from seawall.errors import ConfigError, DeadlineExceededError
from seawall.observability import emit, error_name, logger

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# DynamoDB refuses items over 400 KB: this leaves room for the key and attributes.
MAX_STORED_BYTES = 350_000
# Below a millisecond the stores cannot express a ttl (Redis PX needs a positive integer).
_MIN_TTL_SECONDS = 0.001


class CacheStore(Protocol):
    """Keeps bytes under a key for a while; a backend's two calls."""

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or ``None`` when absent or expired."""
        ...

    def put(self, key: str, value: bytes, ttl_ms: int) -> None:
        """Store ``value`` under ``key`` for ``ttl_ms`` milliseconds, replacing what was there."""
        ...


class SharedCache:
    """Values shared by every container for ``ttl_seconds``, under the store keys ``cache:<name>:<sha256 of key>``.

    Every ``get`` is counted as ``CacheHit`` or ``CacheMiss``; a value too
    large to store as ``CacheSkipped``; a store failure as ``CacheStoreError``
    (all with the dimension ``cache``). Only :class:`DeadlineExceededError`
    propagates: the invocation has no time left, which no fallback fixes.
    """

    def __init__(self, name: str, ttl_seconds: float, store: CacheStore) -> None:
        if not _NAME.match(name):
            raise ConfigError("SharedCache", ["name"], "1-32 letters, digits, _ or -")
        if not math.isfinite(ttl_seconds) or ttl_seconds < _MIN_TTL_SECONDS:
            raise ConfigError(f"SharedCache {name}", ["ttl_seconds"], "must be a positive number of seconds")
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.store = store

    @property
    def ttl_ms(self) -> int:
        """The time to live in whole milliseconds (the stores' unit)."""
        return round(self.ttl_seconds * 1000)

    def store_key(self, key: str) -> str:
        """Where ``key``'s value is stored: hashed, so any string (of any length) is a key."""
        digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
        return f"cache:{self.name}:{digest}"

    def get(self, key: str) -> bytes | None:
        """The value cached under ``key``, or ``None`` (absent, expired, or the store unreachable)."""
        value: bytes | None = None
        try:
            stored = self.store.get(self.store_key(key))
            if stored is not None:
                value = zlib.decompress(stored)
        except DeadlineExceededError:
            raise
        except Exception as error:  # noqa: BLE001 (an unreadable cache is an empty one)
            self._store_failed("get", error)
        emit("CacheHit" if value is not None else "CacheMiss", cache=self.name)
        return value

    def put(self, key: str, value: bytes) -> None:
        """Cache ``value`` under ``key`` for the ttl; a value too large or a store failure is logged, not raised."""
        compressed = zlib.compress(value)
        if len(compressed) > MAX_STORED_BYTES:
            logger.warning(
                "cache value too large to store; skipped",
                extra={"cache": self.name, "compressed_bytes": len(compressed), "limit_bytes": MAX_STORED_BYTES},
            )
            emit("CacheSkipped", cache=self.name)
            return
        try:
            self.store.put(self.store_key(key), compressed, self.ttl_ms)
        except DeadlineExceededError:
            raise
        except Exception as error:  # noqa: BLE001 (a value not cached is asked for again, nothing worse)
            self._store_failed("put", error)

    def get_json(self, key: str) -> Any | None:
        """The JSON value cached under ``key``, or ``None`` (a cached ``null`` reads as a miss too)."""
        value = self.get(key)
        return None if value is None else json.loads(value)

    def put_json(self, key: str, value: Any) -> None:
        """Cache a JSON-serialisable ``value`` (a value that is not raises ``TypeError``: a caller's bug)."""
        self.put(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

    def _store_failed(self, operation: str, error: Exception) -> None:
        # The error's class only: its text could quote the key or the value.
        logger.warning(
            "cache store failed; carrying on without it",
            extra={"cache": self.name, "operation": operation, "error": error_name(error)},
        )
        emit("CacheStoreError", cache=self.name)
