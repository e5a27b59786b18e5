"""The circuit breaker: one behaviour suite on both backends (and the per-process fallback)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from seawall.breaker import BreakerConfig, BreakerState, CircuitBreaker
from seawall.breaker._breaker import is_provider_fault
from seawall.breaker._store import MemoryBreakerStore
from seawall.errors import (
    CircuitOpenError,
    ConfigError,
    DeadlineExceededError,
    IntegrationError,
    ProviderTimeoutError,
    RateLimitedError,
    StoreUnavailableError,
    ThrottledError,
)
from seawall.state import SharedState
from tests.conftest import LogCapture, json_lines

FAST = BreakerConfig(
    minimum_calls=4,
    failure_rate=0.5,
    window_seconds=60,
    bucket_seconds=10,
    open_seconds=0.3,
    half_open_probes=2,
    probe_lease_seconds=0.5,
    state_staleness_seconds=0,
    slow_call_seconds=5,
)


def fresh(state: SharedState, config: BreakerConfig = FAST) -> CircuitBreaker:
    """A breaker for a provider no other test uses, on the backend."""
    return state.circuit_breaker(f"p-{uuid.uuid4().hex[:12]}", config)


def fail(breaker: CircuitBreaker, error: BaseException | None = None) -> None:
    def call() -> None:
        raise error or IntegrationError(breaker.provider, "provider answered HTTP 503", status_code=503)

    with pytest.raises((IntegrationError, CircuitOpenError)):
        breaker.call(call)


def succeed(breaker: CircuitBreaker) -> str:
    return breaker.call(lambda: "ok")


def open_breaker(breaker: CircuitBreaker) -> None:
    for _ in range(FAST.minimum_calls):
        fail(breaker)
    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (None, False),
        (IntegrationError("p", "x", status_code=500), True),
        (IntegrationError("p", "x", status_code=503), True),
        (IntegrationError("p", "connection failed", retryable=True), True),
        (ProviderTimeoutError("p"), True),
        (TimeoutError(), True),
        (IntegrationError("p", "x", status_code=400), False),
        (IntegrationError("p", "x", status_code=404), False),
        (RateLimitedError("p"), False),
        (ThrottledError("p", retry_after=1), None),
        (StoreUnavailableError("rate limiter"), None),
        (DeadlineExceededError("p"), None),
        (CircuitOpenError("p", retry_after=1), None),
        (ValueError("bug"), None),
    ],
)
def test_only_provider_faults_count(error: BaseException | None, fault: bool | None) -> None:
    assert is_provider_fault(error) is fault


def test_it_needs_the_minimum_calls_before_tripping(state: SharedState) -> None:
    breaker = fresh(state)
    for _ in range(FAST.minimum_calls - 1):
        fail(breaker)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker)
    assert breaker.state is BreakerState.OPEN


def test_a_steady_half_failure_rate_trips_it(state: SharedState) -> None:
    breaker = fresh(state, BreakerConfig(minimum_calls=10, failure_rate=0.5, state_staleness_seconds=0))
    for _ in range(5):
        succeed(breaker)
        fail(breaker)
    assert breaker.state is BreakerState.OPEN


def test_client_errors_and_provider_429_never_trip_it(state: SharedState) -> None:
    breaker = fresh(state)
    for _ in range(10):
        fail(breaker, IntegrationError(breaker.provider, "bad request", status_code=400))
        fail(breaker, RateLimitedError(breaker.provider))
    assert breaker.state is BreakerState.CLOSED


def test_slow_calls_trip_it(state: SharedState) -> None:
    breaker = fresh(
        state, BreakerConfig(minimum_calls=3, slow_call_seconds=0.05, slow_call_rate=1.0, state_staleness_seconds=0)
    )
    for _ in range(3):
        breaker.call(lambda: time.sleep(0.06))
    assert breaker.state is BreakerState.OPEN


def test_open_rejects_at_once_with_when_to_retry(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    calls = []
    with pytest.raises(CircuitOpenError) as caught:
        breaker.call(lambda: calls.append(1))
    assert calls == []
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= FAST.open_seconds


def test_half_open_admits_the_probes_and_their_success_closes_it(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    first, second = breaker.before_call(), breaker.before_call()
    assert first is not None
    assert second is not None
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # both probe slots are taken
    breaker.after_call(first, None, 0.01)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.after_call(second, None, 0.01)
    assert breaker.state is BreakerState.CLOSED
    for _ in range(FAST.minimum_calls - 1):  # the window was reset: old faults are gone
        fail(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_probe_reopens_it(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    fail(breaker)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()


def test_a_hung_probe_frees_its_slot_when_its_lease_ends(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    hung = [breaker.before_call(), breaker.before_call()]  # never finished: killed or hung
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    time.sleep(FAST.probe_lease_seconds + 0.05)
    token = breaker.before_call()
    assert token is not None
    assert token not in hung
    breaker.after_call(hung[0], None, 10)  # a late answer from the old period counts for nothing
    assert breaker.state is BreakerState.HALF_OPEN


def test_all_containers_share_one_breaker(state: SharedState) -> None:
    name = f"p-{uuid.uuid4().hex[:12]}"
    first = state.circuit_breaker(name, FAST)
    second = SharedState(state.settings).circuit_breaker(name, FAST)  # another container: same store, own memory
    assert first is not second
    open_breaker(first)
    with pytest.raises(CircuitOpenError):
        second.call(lambda: "never")


def test_transitions_are_logged_and_counted(
    state: SharedState, logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    succeed(breaker)
    succeed(breaker)
    moves = [(r["from"], r["to"]) for r in logs.records() if r["message"] == "circuit breaker changed state"]
    assert moves == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    metrics = [m["to_state"] for m in json_lines(capsys.readouterr().out) if "CircuitTransition" in m]
    assert metrics == ["open", "half_open", "closed"]


class CountingStore:
    """Counts the round trips a breaker makes to its store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.trips = 0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        operation = getattr(self.store, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.trips += 1
            return operation(*args, **kwargs)

        return counted


def test_a_closed_call_costs_one_round_trip_on_average(state: SharedState) -> None:
    shared = state.circuit_breaker(f"p-{uuid.uuid4().hex[:12]}", BreakerConfig())
    counting = CountingStore(shared.store)
    breaker = CircuitBreaker(shared.provider, shared.config, counting)  # type: ignore[arg-type]
    succeed(breaker)  # the first call reads the record once
    counting.trips = 0
    for _ in range(50):
        succeed(breaker)
    assert counting.trips / 50 <= 1.0


def test_an_unreachable_store_falls_back_to_this_container(
    state: SharedState, monkeypatch: pytest.MonkeyPatch, put_secret: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    if state.backend == "dynamodb":
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        unreachable = SharedState(state.settings)
    else:
        arn = put_secret(f"dead-{uuid.uuid4().hex}", {"url": "http://127.0.0.1:9", "token": "t"})
        unreachable = SharedState(state.settings.model_copy(update={"upstash_secret": arn}))
    breaker = unreachable.circuit_breaker(f"p-{uuid.uuid4().hex[:12]}", FAST)
    open_breaker(breaker)  # protected by this container's own record
    with pytest.raises(CircuitOpenError):
        succeed(breaker)
    assert any("BreakerStoreError" in m for m in json_lines(capsys.readouterr().out))


def test_a_probe_that_never_reached_the_provider_gives_its_slot_back(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)

    def refused_by_our_limiter() -> None:
        raise ThrottledError(breaker.provider, retry_after=1)

    for _ in range(FAST.half_open_probes + 1):  # more refusals than probe slots: none may keep one
        with pytest.raises(ThrottledError):
            breaker.call(lambda: "never called", admitted=refused_by_our_limiter)
    assert breaker.state is BreakerState.HALF_OPEN
    succeed(breaker)
    succeed(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_only_the_call_is_timed_not_what_comes_before_it(state: SharedState) -> None:
    breaker = fresh(
        state, BreakerConfig(minimum_calls=3, slow_call_seconds=0.2, slow_call_rate=1.0, state_staleness_seconds=0)
    )
    for _ in range(3):  # a slow limiter wait, then a fast call: not a slow provider
        breaker.call(lambda: "fast", admitted=lambda: time.sleep(0.25))
    assert breaker.state is BreakerState.CLOSED


def test_misconfiguration_fails_at_construction() -> None:
    for wrong in (
        {"half_open_probes": 0},
        {"minimum_calls": 0},
        {"failure_rate": 0},
        {"failure_rate": 1.5},
        {"window_seconds": 0},
        {"window_seconds": 60, "bucket_seconds": 7},
        {"open_seconds": -1},
    ):
        with pytest.raises(ConfigError):
            BreakerConfig(**wrong)  # type: ignore[arg-type]


def test_an_operator_reads_the_shared_record_and_forces_it_closed(state: SharedState) -> None:
    config = BreakerConfig(minimum_calls=4, open_seconds=600, state_staleness_seconds=0)
    breaker = fresh(state, config)
    for _ in range(config.minimum_calls):
        fail(breaker)
    operator = state.circuit_breaker(breaker.provider, config)  # another process: the ops command
    seen = operator.inspect()
    assert (seen.state, seen.calls, seen.faults) == (BreakerState.OPEN, 4, 4)
    assert seen.open_until > time.time() * 1000
    closed = operator.force_close()
    assert (closed.state, closed.calls, closed.faults) == (BreakerState.CLOSED, 0, 0)
    assert operator.inspect().state is BreakerState.CLOSED
    assert succeed(breaker) == "ok"  # the fleet calls again
    for _ in range(config.minimum_calls - 2):  # the window was cleared: the old faults count no more
        fail(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_a_probe_in_flight_when_forced_closed_counts_for_nothing(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    probe = breaker.before_call()
    assert probe is not None
    state.circuit_breaker(breaker.provider, FAST).force_close()
    breaker.after_call(probe, IntegrationError(breaker.provider, "late failure", status_code=503), 0.01)
    assert breaker.inspect().state is BreakerState.CLOSED


def test_this_containers_fallback_record_can_be_forced_closed_too() -> None:
    breaker = CircuitBreaker("p-memory", FAST, MemoryBreakerStore())
    open_breaker(breaker)
    assert breaker.force_close().state is BreakerState.CLOSED
    assert breaker.state is BreakerState.CLOSED
