"""The circuit breaker: one behaviour suite on both backends (and the per-process fallback)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from seawall.breaker import BreakerConfig, BreakerState, CircuitBreaker
from seawall.breaker._breaker import is_provider_fault
from seawall.breaker._store import MemoryBreakerStore
from seawall.deadline import Deadline, bind_deadline
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
        (IntegrationError("p", "x", status_code=599), True),
        (ConnectionRefusedError(), True),
        (IntegrationError("p", "x", status_code=499), False),
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


def test_a_probe_whose_outcome_says_nothing_of_the_provider_gives_its_slot_back(state: SharedState) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)

    def out_of_time() -> None:
        raise DeadlineExceededError(breaker.provider)  # our deadline, after the breaker admitted the call

    for _ in range(FAST.half_open_probes + 1):  # more than the slots: each must have been given back
        with pytest.raises(DeadlineExceededError):
            breaker.call(out_of_time)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.inspect().probes == 0
    succeed(breaker)
    succeed(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_a_breaker_closed_by_another_container_meanwhile_admits_the_call(state: SharedState) -> None:
    config = replace(FAST, half_open_probes=1, state_staleness_seconds=60)
    breaker = fresh(state, config)
    other = state.circuit_breaker(breaker.provider, config)  # another container
    for _ in range(config.minimum_calls):
        fail(breaker)
    assert other.state is BreakerState.OPEN  # seen open, trusted for a minute
    time.sleep(config.open_seconds + 0.05)
    breaker.force_close()  # an operator, or a probe's success elsewhere
    assert succeed(other) == "ok"  # it asks the store for a probe, finds it closed: a call, not a refusal
    assert other.state is BreakerState.CLOSED


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


def now_ms() -> int:
    """The clock as the breaker reads it (whole milliseconds)."""
    return int(time.time() * 1000)


def a_probe_period(breaker: CircuitBreaker) -> None:
    """Open it, then run a half-open period: its probes share one lease, a slot given back is taken again."""
    open_breaker(breaker)
    opened = breaker.inspect()
    assert (opened.state, opened.calls, opened.faults, opened.slow) == (BreakerState.OPEN, 4, 4, 0)
    assert now_ms() < opened.open_until <= now_ms() + FAST.open_seconds * 1000
    time.sleep(FAST.open_seconds + 0.05)
    started = now_ms()
    first, second = breaker.before_call(), breaker.before_call()
    assert first is not None
    assert first == second  # the period's token: the end of its lease
    assert started + FAST.probe_lease_seconds * 1000 <= first <= now_ms() + FAST.probe_lease_seconds * 1000
    seen = breaker.inspect()
    assert (seen.state, seen.probes, seen.successes, seen.lease_until) == (BreakerState.HALF_OPEN, 2, 0, first)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == 1.0  # never less than a second, though the lease ends sooner
    breaker.release(first + 1)  # another period's token frees nothing
    assert breaker.inspect().probes == 2
    breaker.release(first)
    assert breaker.inspect().probes == 1
    for _ in range(2):  # more than were taken: the count never goes below none
        breaker.release(first)
    assert breaker.inspect().probes == 0
    assert [breaker.before_call(), breaker.before_call()] == [first, first]
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    breaker.after_call(first, None, 0.01)
    assert (breaker.inspect().state, breaker.inspect().successes) == (BreakerState.HALF_OPEN, 1)
    breaker.after_call(first, None, 0.01)
    closed = breaker.inspect()
    assert (closed.state, closed.calls, closed.faults) == (BreakerState.CLOSED, 0, 0)
    open_breaker(breaker)  # and it trips again


def a_failed_probe(breaker: CircuitBreaker) -> None:
    """A probe's failure opens it again for ``open_seconds`` from then, and trips nothing else."""
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    token = breaker.before_call()
    assert token is not None
    failed_at = now_ms()
    breaker.after_call(token, IntegrationError(breaker.provider, "still down", status_code=503), 0.01)
    reopened = breaker.inspect()
    assert reopened.state is BreakerState.OPEN
    assert failed_at + FAST.open_seconds * 1000 <= reopened.open_until <= now_ms() + FAST.open_seconds * 1000
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert 0 < caught.value.retry_after <= FAST.open_seconds


def test_a_half_open_period_is_one_lease_its_probes_share(state: SharedState) -> None:
    a_probe_period(fresh(state))


def test_a_failed_probe_opens_it_for_another_period(state: SharedState) -> None:
    a_failed_probe(fresh(state))


def test_this_containers_record_runs_the_same_half_open_period() -> None:
    a_probe_period(CircuitBreaker("p-memory", FAST, MemoryBreakerStore()))
    a_failed_probe(CircuitBreaker("p-memory", FAST, MemoryBreakerStore()))


def test_this_containers_record_counts_calls_faults_and_slow_calls() -> None:
    config = BreakerConfig(minimum_calls=10, slow_call_seconds=1, state_staleness_seconds=0)
    breaker = CircuitBreaker("p-memory", config, MemoryBreakerStore())
    breaker.after_call(None, None, 2)  # slow
    breaker.after_call(None, None, 0.5)
    breaker.after_call(None, TimeoutError(), 3)  # slow and a fault
    breaker.after_call(None, IntegrationError("p", "bad request", status_code=400), 0.1)
    seen = breaker.inspect()
    assert (seen.state, seen.calls, seen.faults, seen.slow) == (BreakerState.CLOSED, 4, 1, 2)


def test_one_process_store_keeps_each_breakers_own_record() -> None:
    store = MemoryBreakerStore()
    failing, healthy = CircuitBreaker("p-failing", FAST, store), CircuitBreaker("p-healthy", FAST, store)
    succeed(healthy)
    open_breaker(failing)
    assert (healthy.inspect().state, healthy.inspect().calls) == (BreakerState.CLOSED, 1)
    assert succeed(healthy) == "ok"


def test_this_containers_record_trips_again_once_forced_closed() -> None:
    breaker = CircuitBreaker("p-memory", FAST, MemoryBreakerStore())
    open_breaker(breaker)
    breaker.force_close()
    succeed(breaker)
    assert breaker.inspect().calls == 1  # the old faults were cleared
    open_breaker(breaker)


@pytest.mark.parametrize(
    ("wrong", "fields"),
    [
        ({"failure_rate": 0}, ("failure_rate",)),
        ({"failure_rate": 1.01}, ("failure_rate",)),
        ({"slow_call_rate": 0}, ("slow_call_rate",)),
        ({"slow_call_rate": 1.01}, ("slow_call_rate",)),
        ({"slow_call_seconds": 0}, ("slow_call_seconds",)),
        ({"minimum_calls": 0}, ("minimum_calls",)),
        ({"window_seconds": 0, "bucket_seconds": 1}, ("window_seconds",)),
        ({"bucket_seconds": 0}, ("bucket_seconds",)),
        ({"window_seconds": 60, "bucket_seconds": 7}, ("bucket_seconds",)),
        ({"open_seconds": 0}, ("open_seconds",)),
        ({"half_open_probes": 0}, ("half_open_probes",)),
        ({"probe_lease_seconds": 0}, ("probe_lease_seconds",)),
        ({"state_staleness_seconds": -0.1}, ("state_staleness_seconds",)),
        (
            {"failure_rate": 2, "minimum_calls": 0, "open_seconds": -1},
            ("failure_rate", "minimum_calls", "open_seconds"),
        ),
    ],
)
def test_a_misconfiguration_names_every_field_at_fault(wrong: dict[str, float], fields: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as caught:
        BreakerConfig(**wrong)  # type: ignore[arg-type]
    assert (caught.value.source, caught.value.fields) == ("BreakerConfig", fields)
    assert caught.value.reason == "out of range (rates in (0, 1], windows whole buckets, counts >= 1)"


@pytest.mark.parametrize(
    "edge",
    [
        {"failure_rate": 1, "slow_call_rate": 1},
        {"failure_rate": 0.01, "slow_call_rate": 0.01, "slow_call_seconds": 0.01},
        {"minimum_calls": 1, "half_open_probes": 1},
        {"window_seconds": 1, "bucket_seconds": 1},
        {"window_seconds": 5, "bucket_seconds": 1},
        {"window_seconds": 30, "bucket_seconds": 30},
        {"open_seconds": 0.01, "probe_lease_seconds": 0.01, "state_staleness_seconds": 0},
    ],
)
def test_the_edges_of_each_range_are_accepted(edge: dict[str, float]) -> None:
    config = BreakerConfig(**edge)  # type: ignore[arg-type]
    assert config.slots == config.window_seconds // config.bucket_seconds
    assert config.bucket_ms == config.bucket_seconds * 1000


def test_the_default_thresholds() -> None:
    """What a provider gets when it sets only some (Stripe sets only ``open_seconds``)."""
    config = BreakerConfig()
    assert (config.failure_rate, config.slow_call_rate, config.slow_call_seconds, config.minimum_calls) == (
        0.5,
        0.8,
        5.0,
        10,
    )
    assert (config.window_seconds, config.bucket_seconds, config.slots, config.bucket_ms) == (60, 10, 6, 10_000)
    assert (config.open_seconds, config.half_open_probes, config.probe_lease_seconds) == (30.0, 2, 15.0)
    assert config.state_staleness_seconds == 5.0


def metrics_named(out: str, name: str) -> list[dict[str, Any]]:
    """The EMF lines of metric ``name`` in captured output."""
    return [m for m in json_lines(out) if name in m]


def test_refusals_are_counted_under_the_provider_and_say_which_operation(
    state: SharedState, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = f"p-{uuid.uuid4().hex[:12]}"
    booking = state.circuit_breaker(provider, FAST, operation="booking")
    search = state.circuit_breaker(provider, FAST, operation="search")
    open_breaker(booking)
    assert search.call(lambda: "ok") == "ok"  # one operation failing refuses none of the others
    assert (search.inspect().calls, booking.inspect().calls) == (1, 4)
    with pytest.raises(CircuitOpenError) as caught:
        booking.call(lambda: "never")
    assert (caught.value.service, str(caught.value)) == (provider, f"{provider}: circuit open for booking")
    whole = state.circuit_breaker(f"p-{uuid.uuid4().hex[:12]}", FAST)
    open_breaker(whole)
    with pytest.raises(CircuitOpenError) as caught:
        whole.call(lambda: "never")
    assert str(caught.value) == f"{whole.provider}: circuit open"
    refused = [m["provider"] for m in metrics_named(capsys.readouterr().out, "CircuitRefused")]
    assert refused == [provider, whole.provider]


def test_a_caller_finding_no_probe_slot_is_refused_and_counted(
    state: SharedState, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker = fresh(state)
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    assert breaker.before_call() is not None
    assert breaker.before_call() is not None
    capsys.readouterr()
    with pytest.raises(CircuitOpenError) as caught:
        breaker.call(lambda: "never")
    assert str(caught.value) == f"{breaker.provider}: circuit open"
    (metric,) = metrics_named(capsys.readouterr().out, "CircuitRefused")
    assert metric["provider"] == breaker.provider


@pytest.mark.parametrize("where", ["shared", "memory"])
def test_a_period_reopened_by_another_container_is_waited_out_in_full(state: SharedState, where: str) -> None:
    mine = BreakerConfig(
        minimum_calls=4, open_seconds=0.3, half_open_probes=1, probe_lease_seconds=0.5, state_staleness_seconds=60
    )
    theirs = replace(mine, open_seconds=5, state_staleness_seconds=0)
    if where == "shared":
        breaker = fresh(state, mine)
        other = state.circuit_breaker(breaker.provider, theirs)  # another container
    else:  # two breakers of one process on its own record
        store = MemoryBreakerStore()
        breaker, other = CircuitBreaker("p-memory", mine, store), CircuitBreaker("p-memory", theirs, store)
    for _ in range(mine.minimum_calls):
        fail(breaker)
    time.sleep(mine.open_seconds + 0.05)
    probe = other.before_call()
    assert probe is not None
    other.after_call(probe, TimeoutError(), 0.01)  # its probe failed: open for its 5 s from now
    time.sleep(mine.probe_lease_seconds + 0.05)  # the failed probe's lease is over too; the open period is not
    # This container still sees its own open period, over: it asks for a probe, finds the breaker open again, and
    # is told to wait until that period ends (not until the probe's lease would have).
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after is not None
    assert 3.5 < caught.value.retry_after <= 5
    assert breaker.state is BreakerState.OPEN
    assert breaker.inspect().probes == 1  # no probe period was started while open


def test_transitions_are_logged_with_the_breaker_and_its_window(
    state: SharedState, logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = f"p-{uuid.uuid4().hex[:12]}"
    breaker = state.circuit_breaker(provider, FAST, operation="booking")
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    succeed(breaker)
    succeed(breaker)
    moves = [r for r in logs.records() if r["message"] == "circuit breaker changed state"]
    assert [(r["level"], r["from"], r["to"], r["calls"]) for r in moves] == [
        ("WARNING", "closed", "open", 4),
        ("INFO", "open", "half_open", 4),
        ("INFO", "half_open", "closed", 0),
    ]
    assert {(r["provider"], r["breaker"]) for r in moves} == {(provider, f"{provider}:booking")}
    counted = metrics_named(capsys.readouterr().out, "CircuitTransition")
    assert [(m["provider"], m["to_state"]) for m in counted] == [
        (provider, "open"),
        (provider, "half_open"),
        (provider, "closed"),
    ]


def test_a_container_trusts_the_state_it_saw_until_it_is_stale(state: SharedState) -> None:
    config = BreakerConfig(minimum_calls=4, open_seconds=60, state_staleness_seconds=0.4)
    breaker = fresh(state, config)
    other = state.circuit_breaker(breaker.provider, config)  # another container
    assert other.state is BreakerState.CLOSED  # read now, trusted for 0.4 s
    for _ in range(config.minimum_calls):
        fail(breaker)
    assert breaker.state is BreakerState.OPEN  # its own trip: seen at once
    assert other.state is BreakerState.CLOSED  # not yet read again
    time.sleep(config.state_staleness_seconds + 0.05)
    assert other.state is BreakerState.OPEN


def test_an_unreachable_store_is_logged_with_the_breaker(
    store_at: Callable[[str], SharedState], logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = f"p-{uuid.uuid4().hex[:12]}"
    breaker = store_at("http://127.0.0.1:9").circuit_breaker(provider, FAST, operation="search")
    assert succeed(breaker) == "ok"
    lines = [r for r in logs.records() if r["message"] == "breaker store unreachable; using this container's breaker"]
    assert lines
    assert {(r["level"], r["provider"], r["breaker"], r["error"]) for r in lines} <= {
        ("WARNING", provider, f"{provider}:search", error) for error in ("EndpointConnectionError", "IntegrationError")
    }
    metrics = metrics_named(capsys.readouterr().out, "BreakerStoreError")
    assert len(metrics) == len(lines)
    assert {m["provider"] for m in metrics} == {provider}


def test_no_time_left_to_ask_the_store_uses_this_containers_record_quietly(
    state: SharedState, logs: LogCapture, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker = fresh(state)
    with bind_deadline(Deadline.after(0)):
        open_breaker(breaker)  # this container's record: the store was never asked
        with pytest.raises(CircuitOpenError):
            succeed(breaker)
    assert breaker.inspect().calls == 0
    assert "breaker store unreachable; using this container's breaker" not in [r["message"] for r in logs.records()]
    assert metrics_named(capsys.readouterr().out, "BreakerStoreError") == []


class OpenedMeanwhile:
    """A store where another container opens the breaker between the tripping call's record and its trip."""

    def __init__(self, store: Any, open_until: int, calls: int) -> None:
        self.store = store
        self.open_until = open_until
        self.calls = calls  # the call that trips it

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def record(self, name: str, **counted: Any) -> dict[str, Any]:
        found = self.store.record(name, **counted)
        self.calls -= 1
        if self.calls == 0:
            assert self.store.trip(name, self.open_until)
        return found


@pytest.mark.parametrize("where", ["shared", "memory"])
def test_a_breaker_opened_meanwhile_keeps_the_open_period_it_was_given(state: SharedState, where: str) -> None:
    shared = fresh(state)
    inner = shared.store if where == "shared" else MemoryBreakerStore()
    until = now_ms() + 600_000
    breaker = CircuitBreaker(shared.provider, FAST, OpenedMeanwhile(inner, until, FAST.minimum_calls))  # type: ignore[arg-type]
    for _ in range(FAST.minimum_calls):
        fail(breaker)  # the last call's own trip finds it open already
    assert breaker.store.calls == 0  # type: ignore[attr-defined]
    seen = breaker.inspect()
    assert (seen.state, seen.open_until) == (BreakerState.OPEN, until)


def test_the_container_that_opens_it_sees_it_open_at_once_whatever_its_staleness() -> None:
    breaker = CircuitBreaker("p-memory", replace(FAST, state_staleness_seconds=60), MemoryBreakerStore())
    open_breaker(breaker)
    with pytest.raises(CircuitOpenError):
        succeed(breaker)


@pytest.mark.parametrize("late", [None, TimeoutError()], ids=["success", "failure"])
def test_a_late_probe_leaves_this_container_seeing_the_period_that_replaced_it(
    state: SharedState, late: BaseException | None
) -> None:
    config = replace(FAST, half_open_probes=1, state_staleness_seconds=60)  # this container trusts what it saw
    breaker = fresh(state, config)
    other = state.circuit_breaker(breaker.provider, replace(config, state_staleness_seconds=0))
    open_breaker(breaker)
    time.sleep(config.open_seconds + 0.05)
    hung = breaker.before_call()
    assert hung is not None
    time.sleep(config.probe_lease_seconds + 0.05)
    assert other.before_call() is not None  # a new period, its one probe taken by another container
    breaker.after_call(hung, late, 0.01)  # counts for nothing, and shows the period as it is
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # not admitted as if closed: the new period's probe slot is taken


@pytest.mark.parametrize("state", ["dynamodb"], indirect=True)
def test_the_probe_that_closes_it_costs_two_writes_and_no_read(state: SharedState) -> None:
    breaker = fresh(state, replace(FAST, half_open_probes=1))
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    token = breaker.before_call()
    assert token is not None
    sent: list[str] = []
    state.dynamodb.meta.events.register("provide-client-params.dynamodb.*", lambda model, **_: sent.append(model.name))
    breaker.after_call(token, None, 0.01)
    assert sent == ["UpdateItem", "UpdateItem"]  # its success counted, then the breaker closed
    assert breaker.state is BreakerState.CLOSED


def test_this_containers_record_restarts_a_hung_period_from_nothing() -> None:
    breaker = CircuitBreaker("p-memory", FAST, MemoryBreakerStore())
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    done, hung = breaker.before_call(), breaker.before_call()
    assert done is not None
    breaker.after_call(done, None, 0.01)  # one success of two: still half-open
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    time.sleep(FAST.probe_lease_seconds + 0.05)  # the other probe hung: its lease ends
    token = breaker.before_call()
    assert token is not None
    assert token != hung
    seen = breaker.inspect()
    assert (seen.state, seen.probes, seen.successes) == (BreakerState.HALF_OPEN, 1, 0)
    breaker.after_call(token, None, 0.01)  # one success of the new period: not enough
    assert breaker.inspect().state is BreakerState.HALF_OPEN


def test_this_containers_record_ignores_a_probe_in_flight_when_forced_closed() -> None:
    breaker = CircuitBreaker("p-memory", FAST, MemoryBreakerStore())
    open_breaker(breaker)
    time.sleep(FAST.open_seconds + 0.05)
    probe = breaker.before_call()
    assert probe is not None
    breaker.force_close()
    breaker.after_call(probe, IntegrationError(breaker.provider, "late failure", status_code=503), 0.01)
    assert breaker.inspect().state is BreakerState.CLOSED
    breaker.after_call(probe, None, 0.01)
    assert breaker.inspect().successes == 0
