"""Composing the resilience utilities around one provider call.

The order, outermost first:

1. **Deadline** — with no time left nothing starts, not even a store round trip.
2. **Retry** (full jitter, budget, deadline-aware) — around everything below,
   so every attempt is seen by the breaker and pays for a rate-limit slot: a
   retry is a real request to the provider.
3. **Circuit breaker** — an open circuit refuses before the limiter, so
   refused calls do not burn the provider's quota; an attempt's outcome is
   recorded, and a circuit that opens between attempts stops the retries
   (CircuitOpenError is not retryable).
4. **Rate limiter** — takes a slot per attempt (or waits for one, within the deadline),
   after the breaker admits the attempt and before the breaker's timer starts; a
   half-open probe the limiter refuses gives its slot back.
5. **The call** — bounded by its own timeouts, cut to the deadline (``seawall.http``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from seawall.breaker import BreakerConfig, CircuitBreaker
from seawall.deadline import current_deadline
from seawall.errors import DeadlineExceededError
from seawall.ratelimit import Limit, RateLimiter
from seawall.ratelimit.limiter import StorePolicy
from seawall.retry import RetryBudget, RetryPolicy, call_with_retry
from seawall.state import SharedState

T = TypeVar("T")


@dataclass(frozen=True)
class ProviderPolicy:
    """How one provider is called: its limits, breaker, retries and the time one attempt may take."""

    service: str
    limits: Sequence[Limit] = ()
    breaker: BreakerConfig | None = field(default_factory=BreakerConfig)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout: float = 10.0
    wait_for_rate_limit: bool = False
    on_limiter_store_error: StorePolicy = "closed"


class ProviderCall:
    """Calls to one provider through deadline → retry → breaker → limiter → call.

    Build it at init, from the function's :class:`SharedState`: its limiter
    and breaker validate their configuration there (a ConfigError at cold
    start) and, with its retry budget, last for the container's life.
    """

    def __init__(self, policy: ProviderPolicy, state: SharedState) -> None:
        self.policy = policy
        self.limiter: RateLimiter | None = (
            state.rate_limiter(policy.service, policy.limits, on_store_error=policy.on_limiter_store_error)
            if policy.limits
            else None
        )
        self.breaker: CircuitBreaker | None = (
            state.circuit_breaker(policy.service, policy.breaker) if policy.breaker else None
        )
        self.budget = RetryBudget()

    def __call__(self, attempt: Callable[[], T], *, scope: str = "default") -> T:
        """Run ``attempt`` (one request, bounded by its timeouts) with every protection.

        ``scope`` selects the rate-limit counters (an account, an API key).
        ``attempt`` must be safe to repeat: a POST carries the same idempotency key on every attempt.
        """
        deadline = current_deadline()
        if deadline is not None and deadline.remaining() <= 0:
            raise DeadlineExceededError(self.policy.service)
        limiter, breaker = self.limiter, self.breaker

        def take_slot() -> None:
            if limiter is not None:
                limiter.acquire(scope, wait=self.policy.wait_for_rate_limit)

        def guarded() -> T:
            if breaker is not None:
                # The breaker times only the call: the limiter's wait and round trip are not the provider's.
                return breaker.call(attempt, admitted=take_slot)
            take_slot()
            return attempt()

        return call_with_retry(
            guarded,
            service=self.policy.service,
            policy=self.policy.retry,
            attempt_timeout=self.policy.attempt_timeout,
            deadline=deadline,
            budget=self.budget,
        )
