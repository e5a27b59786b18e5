"""One function's view of the fleet's shared state: built at init, owning its store clients.

Every limiter, breaker and idempotency persistence layer a function uses comes
from its :class:`SharedState`, so what a container holds is explicit: one
object, made in the handler module, with nothing cached at module level.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from seawall.config._secrets import Secret
from seawall.config._settings import load_settings
from seawall.state._clients import UpstashSecret, dynamodb_state_client, state_timeouts, upstash_state_client
from seawall.state._settings import StateSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from seawall.breaker import BreakerConfig, CircuitBreaker
    from seawall.cache import SharedCache
    from seawall.ratelimit import Limit, RateLimiter
    from seawall.ratelimit._limiter import StorePolicy
    from seawall.sync import SyncJob


class SharedState:
    """Idempotency records, rate-limit counters, breaker state and caches on the configured backend.

    Clients are created on first use and kept for the container's life;
    the settings are validated when the object is built (a ConfigError at cold start).
    """

    def __init__(self, settings: StateSettings) -> None:
        self.settings = settings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SharedState:
        """The state described by STATE_BACKEND and its variables."""
        return cls(load_settings(StateSettings, environ))

    @property
    def backend(self) -> str:
        """``dynamodb`` or ``upstash``."""
        return self.settings.backend

    @functools.cached_property
    def dynamodb(self) -> Any:
        """The DynamoDB client for the state tables."""
        return dynamodb_state_client(self.settings.timeout_ms)

    @functools.cached_property
    def upstash(self) -> Any:
        """The Upstash REST client; its URL and token are read from UPSTASH_SECRET_ARN when it first sends."""
        timeouts = state_timeouts(self.settings.timeout_ms)  # read on a store call: bounded as the call is
        secret = Secret(self.settings.upstash_secret, UpstashSecret, label="upstash", timeouts=timeouts)
        return upstash_state_client(secret, self.settings.timeout_ms)

    def persistence_layer(self) -> BasePersistenceLayer:
        """A new Powertools persistence layer: Powertools configures each once, so one per idempotent configuration."""
        if self.backend == "upstash":
            from seawall.idempotency._upstash import UpstashPersistenceLayer  # noqa: PLC0415 (backends load on demand)

            return UpstashPersistenceLayer(self.upstash)
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

        return DynamoDBPersistenceLayer(table_name=self.settings.idempotency_table, boto3_client=self.dynamodb)

    def rate_limiter(
        self,
        provider: str,
        limits: Sequence[Limit],
        *,
        on_store_error: StorePolicy = "closed",
        lanes: Mapping[str, Sequence[str]] | None = None,
    ) -> RateLimiter:
        """A fleet-wide limiter for ``provider`` on this backend (``lanes``: the limits each class of call takes)."""
        from seawall.ratelimit import RateLimiter  # noqa: PLC0415
        from seawall.ratelimit._dynamodb import DynamoDBLimiterStore  # noqa: PLC0415
        from seawall.ratelimit._redis import RedisLimiterStore  # noqa: PLC0415

        store = (
            RedisLimiterStore(self.upstash)
            if self.backend == "upstash"
            else DynamoDBLimiterStore(self.dynamodb, self.settings.state_table)
        )
        return RateLimiter(provider, limits, store, on_store_error=on_store_error, lanes=lanes)

    def circuit_breaker(self, provider: str, config: BreakerConfig, *, operation: str | None = None) -> CircuitBreaker:
        """A fleet-wide breaker for ``provider`` (or one of its operations) on this backend.

        Each container also keeps its own fallback record, used while the store is unreachable.
        """
        from seawall.breaker import CircuitBreaker  # noqa: PLC0415
        from seawall.breaker._dynamodb import DynamoDBBreakerStore  # noqa: PLC0415
        from seawall.breaker._redis import RedisBreakerStore  # noqa: PLC0415

        store = (
            RedisBreakerStore(self.upstash)
            if self.backend == "upstash"
            else DynamoDBBreakerStore(self.dynamodb, self.settings.state_table)
        )
        return CircuitBreaker(provider, config, store, operation=operation)

    def cache(self, name: str, ttl_seconds: float) -> SharedCache:
        """A fleet-wide cache on this backend, entries live ``ttl_seconds`` (:class:`~seawall.cache.SharedCache`)."""
        from seawall.cache import SharedCache  # noqa: PLC0415
        from seawall.cache._dynamodb import DynamoDBCacheStore  # noqa: PLC0415
        from seawall.cache._redis import RedisCacheStore  # noqa: PLC0415

        store = (
            RedisCacheStore(self.upstash)
            if self.backend == "upstash"
            else DynamoDBCacheStore(self.dynamodb, self.settings.state_table)
        )
        return SharedCache(name, ttl_seconds, store)

    def sync_job(
        self,
        name: str,
        *,
        pacing: RateLimiter | None = None,
        quota_per_second: float | None = None,
        page_seconds: float = 5.0,
        run_seconds: float | None = None,
        quota_scope: str | None = None,
        lease_slack_seconds: float | None = None,
    ) -> SyncJob[Any]:
        """A sync job whose cursor and fleet-wide lease live on this backend (see :class:`~seawall.sync.SyncJob`)."""
        from seawall.sync import SyncJob  # noqa: PLC0415
        from seawall.sync._store import DynamoDBSyncStore, RedisSyncStore  # noqa: PLC0415

        store = (
            RedisSyncStore(self.upstash)
            if self.backend == "upstash"
            else DynamoDBSyncStore(self.dynamodb, self.settings.state_table)
        )
        return SyncJob(
            name,
            store,
            pacing=pacing,
            quota_per_second=quota_per_second,
            page_seconds=page_seconds,
            run_seconds=run_seconds,
            quota_scope=quota_scope,
            lease_slack_seconds=lease_slack_seconds,
        )
