"""The circuit breaker: closed → open on faults or slowness, half-open probes, closed again.

The state lives in the shared store, so every container agrees. A container
acts on the record it last saw (refreshed every ``state_staleness_seconds``),
so a call in the closed state costs one store round trip: recording its
outcome, which also returns the fresh record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from seawall.breaker._config import BreakerConfig
from seawall.breaker._record import BreakerState, Snapshot
from seawall.breaker._store import BreakerStore, MemoryBreakerStore, Record
from seawall.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    IntegrationError,
    ProviderTimeoutError,
    RateLimitedError,
)
from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit

T = TypeVar("T")


def is_provider_fault(error: BaseException | None) -> bool | None:
    """Whether a call's outcome counts against the provider.

    ``True`` for timeouts, connection errors and 5xx; ``False`` when the
    provider answered (success, any 4xx, and 429, which is the limiter's
    business); ``None`` when the outcome says nothing of the provider (a
    refusal of ours — :class:`~seawall.errors.NotAttemptedError` — or a bug),
    so it is not recorded.
    """
    if error is None or isinstance(error, RateLimitedError):
        return False
    if isinstance(error, ProviderTimeoutError):
        return True
    if isinstance(error, IntegrationError):
        return error.status_code is None or error.status_code >= 500  # noqa: PLR2004 (5xx)
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    return None


class CircuitBreaker:
    """Protects calls to one provider, or to one of its operations; see :class:`BreakerConfig` for the rules.

    A breaker per ``operation`` (``hotelbeds:booking``) keeps one failing operation from refusing the
    others; its metrics count under the provider, so the provider's alarms see every operation's.
    """

    def __init__(
        self,
        provider: str,
        config: BreakerConfig,
        store: BreakerStore,
        fallback: BreakerStore | None = None,
        *,
        operation: str | None = None,
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.key = provider if operation is None else f"{provider}:{operation}"  # its record in the store
        self.config = config
        self.store = store
        # This container's own record, used while the shared store is unreachable.
        self.fallback = fallback or MemoryBreakerStore()
        self._seen: Snapshot | None = None
        self._seen_at = 0.0
        self._lock = threading.Lock()

    def call(self, function: Callable[[], T], *, admitted: Callable[[], object] | None = None) -> T:
        """Run ``function`` under the breaker; raises :class:`CircuitOpenError` without calling it when open.

        ``admitted`` runs once the breaker lets the call through and before it
        is timed (the rate limiter's wait is not the provider's slowness); if it
        raises, the call never happened: a half-open probe slot is given back.
        """
        token = self.before_call()
        if admitted is not None:
            try:
                admitted()
            except BaseException:
                self.release(token)
                raise
        started = time.monotonic()
        try:
            result = function()
        except BaseException as error:
            self.after_call(token, error, time.monotonic() - started)
            raise
        self.after_call(token, None, time.monotonic() - started)
        return result

    def before_call(self) -> int | None:
        """Admit a call: ``None`` in the closed state, a probe token in half-open; else raise."""
        now = _now_ms()
        seen = self._current(now)
        if seen.state is BreakerState.CLOSED:
            return None
        if seen.state is BreakerState.OPEN and now < seen.open_until:
            emit("CircuitRefused", provider=self.provider)
            raise CircuitOpenError(self.provider, retry_after=(seen.open_until - now) / 1000, message=self._refusal)
        config = self.config
        token = self._use(
            lambda store: store.acquire_probe(
                self.key, now=now, probes=config.half_open_probes, lease_ms=int(config.probe_lease_seconds * 1000)
            )
        )
        seen = self._observe(self._use(lambda store: store.read(self.key)), now)
        if token is None and seen.state is BreakerState.CLOSED:
            return None  # closed by another container (a probe's success, an operator) since this one looked
        if token is None:
            until = seen.open_until if seen.state is BreakerState.OPEN else seen.lease_until
            emit("CircuitRefused", provider=self.provider)
            raise CircuitOpenError(self.provider, retry_after=max(until - now, 1000) / 1000, message=self._refusal)
        return token

    def release(self, token: int | None) -> None:
        """Give back a probe slot whose call never reached the provider (nothing to record when closed)."""
        if token is not None:
            self._use(lambda store: store.release_probe(self.key, token=token))

    def after_call(self, token: int | None, error: BaseException | None, elapsed: float) -> None:
        """Record a call's outcome (a probe's decides the half-open period).

        An outcome that says nothing of the provider (our deadline, a bug) is not
        recorded; a probe's slot is given back at once rather than held to its lease.
        """
        fault = is_provider_fault(error)
        if fault is None:
            self.release(token)
            return
        now = _now_ms()
        config = self.config
        if token is not None:
            record = self._use(
                lambda store: store.finish_probe(
                    self.key,
                    token=token,
                    success=not fault,
                    now=now,
                    probes=config.half_open_probes,
                    open_ms=int(config.open_seconds * 1000),
                    slots=config.slots,
                )
            )
            self._observe(record, now)
            return
        bucket = now // config.bucket_ms
        slot = bucket % config.slots
        holds = self._seen is not None and self._seen.slot_holds(slot, bucket)
        slow = elapsed >= config.slow_call_seconds
        record = self._use(
            lambda store: store.record(self.key, slot=slot, bucket=bucket, fault=fault, slow=slow, holds_bucket=holds)
        )
        seen = self._observe(record, now)
        if seen.should_trip(config):
            open_until = now + int(config.open_seconds * 1000)
            if self._use(lambda store: store.trip(self.key, open_until)):
                self._observe({**record, "state": BreakerState.OPEN.value, "open_until": open_until}, now)

    @property
    def _refusal(self) -> str:
        return "circuit open" if self.operation is None else f"circuit open for {self.operation}"

    @property
    def state(self) -> BreakerState:
        """The state this container last saw."""
        return self._current(_now_ms()).state

    def inspect(self) -> Snapshot:
        """The shared record as it is now, read from the store (an operator's view: a store failure raises)."""
        return Snapshot.of(self.store.read(self.key), _now_ms(), self.config)

    def force_close(self) -> Snapshot:
        """Close the breaker fleet-wide whatever its state, its window cleared (an operator's override).

        Containers see it once their view is ``state_staleness_seconds`` old; a
        probe still in flight finds its period over and counts for nothing.
        """
        return Snapshot.of(self.store.close(self.key, slots=self.config.slots), _now_ms(), self.config)

    def _current(self, now: int) -> Snapshot:
        stale = time.monotonic() - self._seen_at > self.config.state_staleness_seconds
        if self._seen is None or stale:
            return self._observe(self._use(lambda store: store.read(self.key)), now)
        return self._seen

    def _observe(self, record: Record, now: int) -> Snapshot:
        seen = Snapshot.of(record, now, self.config)
        with self._lock:
            before = self._seen.state if self._seen is not None else BreakerState.CLOSED
            self._seen, self._seen_at = seen, time.monotonic()
        if seen.state is not before:
            log = logger.warning if seen.state is BreakerState.OPEN else logger.info
            log(
                "circuit breaker changed state",
                extra={
                    "provider": self.provider,
                    "breaker": self.key,
                    "from": before.value,
                    "to": seen.state.value,
                    "calls": seen.calls,
                },
            )
            emit("CircuitTransition", provider=self.provider, to_state=seen.state.value)
        return seen

    def _use(self, operation: Callable[[BreakerStore], T]) -> T:
        try:
            return operation(self.store)
        except DeadlineExceededError:
            return operation(self.fallback)  # no time left to ask the store: not an outage worth a warning
        except Exception as error:  # noqa: BLE001 (any store failure falls back to this container's record)
            logger.warning(
                "breaker store unreachable; using this container's breaker",
                extra={"provider": self.provider, "breaker": self.key, "error": error_name(error)},
            )
            emit("BreakerStoreError", provider=self.provider)
            return operation(self.fallback)


def _now_ms() -> int:
    return int(time.time() * 1000)
