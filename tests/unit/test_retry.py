"""Retry: full jitter, the predicate, provider advice, the deadline and the budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.deadline import Deadline, bind_deadline
from seawall.errors import (
    ConfigError,
    DeadlineExceededError,
    IntegrationError,
    ProviderTimeoutError,
    RateLimitedError,
)
from seawall.retry import RetryBudget, RetryPolicy, is_retryable, parse_retry_after, retry_attempts
from seawall.retry import _policy as retry_policy


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the loop asked for (nothing actually sleeps)."""
    asked: list[float] = []
    monkeypatch.setattr(retry_policy, "_sleep", asked.append)
    return asked


def failing(errors: list[BaseException], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """A call raising ``errors`` in turn, then returning ``result``; and its call counter."""
    calls = [0]

    def call() -> str:
        calls[0] += 1
        if errors:
            raise errors.pop(0)
        return result

    return call, calls


def call_with_retry(call: Callable[[], str], service: str, **options: Any) -> str:
    """``call`` in the loop every provider call uses."""
    for attempt in retry_attempts(service, **options):
        with attempt:
            answer = call()
    return answer


def server_error() -> IntegrationError:
    return IntegrationError("stripe", "provider answered HTTP 503", status_code=503)


@given(
    retry_number=st.integers(min_value=1, max_value=60),
    base=st.floats(min_value=0.001, max_value=2),
    cap=st.floats(min_value=2, max_value=60),
)
def test_full_jitter_stays_within_zero_and_the_capped_exponential(retry_number: int, base: float, cap: float) -> None:
    policy = RetryPolicy(base=base, cap=cap)
    assert 0 <= policy.backoff(retry_number) <= min(cap, base * 2 ** (retry_number - 1))


def test_jitter_spreads_waits_instead_of_synchronising_them() -> None:
    waits = {round(RetryPolicy(base=1, cap=8).backoff(4), 6) for _ in range(50)}
    assert len(waits) > 40


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (IntegrationError("p", "x", status_code=500), True),
        (IntegrationError("p", "x", status_code=503), True),
        (IntegrationError("p", "x", status_code=429), True),
        (IntegrationError("p", "x", status_code=400), False),
        (IntegrationError("p", "x", status_code=404), False),
        (IntegrationError("p", "x", status_code=409), False),
        (IntegrationError("p", "x", status_code=500, retryable=False), False),
        (ProviderTimeoutError("p"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (ValueError(), False),
        (KeyError(), False),
    ],
)
def test_default_predicate_retries_only_transient_failures(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_retries_until_success(sleeps: list[float]) -> None:
    call, calls = failing([server_error(), server_error()])
    assert call_with_retry(call, service="stripe", policy=RetryPolicy(attempts=3), budget=RetryBudget()) == "ok"
    assert calls[0] == 3
    assert len(sleeps) == 2


def test_gives_up_after_the_attempt_limit_with_the_last_error(sleeps: list[float]) -> None:
    last = server_error()
    call, calls = failing([server_error(), server_error(), last])
    with pytest.raises(IntegrationError) as caught:
        call_with_retry(call, service="stripe", policy=RetryPolicy(attempts=3), budget=RetryBudget())
    assert caught.value is last
    assert calls[0] == 3


def test_client_errors_are_not_retried(sleeps: list[float]) -> None:
    call, calls = failing([IntegrationError("stripe", "bad request", status_code=400)])
    with pytest.raises(IntegrationError):
        call_with_retry(call, service="stripe", budget=RetryBudget())
    assert calls[0] == 1
    assert sleeps == []


def test_retry_after_overrides_the_jitter(sleeps: list[float]) -> None:
    call, _ = failing([RateLimitedError("stripe", retry_after=1.5)])
    call_with_retry(call, service="stripe", budget=RetryBudget())
    assert sleeps == [1.5]


def test_provider_advice_not_to_retry_wins_over_the_status(sleeps: list[float]) -> None:
    call, calls = failing([IntegrationError("stripe", "x", status_code=500, retryable=False)])
    with pytest.raises(IntegrationError):
        call_with_retry(call, service="stripe", budget=RetryBudget())
    assert calls[0] == 1


def test_no_sleep_or_attempt_starts_past_the_deadline(sleeps: list[float]) -> None:
    call, calls = failing([RateLimitedError("stripe", retry_after=0.6)])
    with pytest.raises(RateLimitedError):
        call_with_retry(call, service="stripe", attempt_timeout=0.5, deadline=Deadline.after(1.0), budget=RetryBudget())
    assert calls[0] == 1
    assert sleeps == []


def test_the_bound_invocation_deadline_applies_by_default(sleeps: list[float]) -> None:
    call, calls = failing([server_error(), server_error()])
    with bind_deadline(Deadline.after(0.2)), pytest.raises(IntegrationError):
        call_with_retry(
            call, service="stripe", policy=RetryPolicy(base=5, cap=5), attempt_timeout=0.1, budget=RetryBudget()
        )
    assert calls[0] <= 2


def test_an_expired_deadline_refuses_the_first_attempt() -> None:
    call, calls = failing([])
    with pytest.raises(DeadlineExceededError):
        call_with_retry(call, service="stripe", deadline=Deadline.after(-1), budget=RetryBudget())
    assert calls[0] == 0


def test_an_empty_budget_stops_retries_and_successes_refill_it(sleeps: list[float]) -> None:
    budget = RetryBudget(capacity=10, retry_cost=5, timeout_cost=10)
    call, calls = failing([server_error()] * 5)
    with pytest.raises(IntegrationError):
        call_with_retry(call, service="stripe", policy=RetryPolicy(attempts=5), budget=budget)
    assert calls[0] == 3  # two retries paid for, then the budget is dry
    assert budget.available == 0

    call, calls = failing([server_error()])
    with pytest.raises(IntegrationError):
        call_with_retry(call, service="stripe", budget=budget)
    assert calls[0] == 1

    for _ in range(5):
        call_with_retry(lambda: "ok", service="stripe", budget=budget)
    assert budget.available == 5


def test_timeouts_cost_more_budget_than_other_failures(sleeps: list[float]) -> None:
    budget = RetryBudget(capacity=20, retry_cost=5, timeout_cost=10)
    call, _ = failing([ProviderTimeoutError("stripe")])
    call_with_retry(call, service="stripe", budget=budget)
    assert budget.available == 20  # 10 taken for the retry, refunded by its success
    call, calls = failing([ProviderTimeoutError("stripe")] * 4)
    with pytest.raises(ProviderTimeoutError):
        call_with_retry(call, service="stripe", policy=RetryPolicy(attempts=5), budget=budget)
    assert calls[0] == 3


def test_policy_rejects_nonsense_at_construction() -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigError):
        RetryPolicy(base=2, cap=1)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(42)
    earlier = format_datetime(now - timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
