"""The one way every provider client calls out: :class:`ProviderCall`, the resilience utilities composed.

The order, outermost first:

1. **Deadline** — with no time left nothing starts, not even a store round trip.
2. **Retry** (full jitter, budget, deadline-aware) — around everything below,
   so every attempt is seen by the breaker and pays for a rate-limit slot: a
   retry is a real request to the provider.
3. **Circuit breaker** — an open circuit refuses before the limiter, so
   refused calls do not burn the provider's quota; an attempt's outcome is
   recorded, and a circuit that opens between attempts stops the retries
   (CircuitOpenError is not retryable).
4. **Rate limiter** — takes a slot per attempt (waiting its turn a moment, or within the deadline for jobs),
   after the breaker admits the attempt and before the breaker's timer starts; a
   half-open probe the limiter refuses gives its slot back.
5. **The call** — bounded by its own timeouts, cut to the deadline (``seawall.http``),
   with the provider's credentials; after a 401 the secret is read again (a
   rotation) and, if it changed, the call is made once more with the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel

from seawall.breaker import BreakerConfig
from seawall.deadline import current_deadline
from seawall.errors import DeadlineExceededError, IntegrationError
from seawall.observability import emit, logger
from seawall.ratelimit import Limit, StorePolicy
from seawall.retry import RetryBudget, RetryPolicy, retry_attempts

if TYPE_CHECKING:
    from seawall.breaker import CircuitBreaker
    from seawall.config import Secret
    from seawall.ratelimit import RateLimiter
    from seawall.state import SharedState

C = TypeVar("C", bound=BaseModel)
T = TypeVar("T")

# A caller waits at most this long for its turn under a rate limit; a job waits until its deadline.
ACTION_RATE_LIMIT_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class ProviderPolicy:
    """How one provider is called: its limits, breaker, retries and the time one attempt may take."""

    service: str
    limits: Sequence[Limit] = ()
    breaker: BreakerConfig | None = field(default_factory=BreakerConfig)
    # A breaker per operation (each call names its own), or one for the whole provider when empty.
    operations: Sequence[str] = ()
    # The limits each operation takes (RateLimiter's lanes); every limit for every call when empty.
    lanes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout: float = 10.0
    # Seconds a call may wait for its turn (math.inf: until the deadline). A caller's action waits out a
    # sliding limit's pace, at most this long, rather than answering 429 for a turn a few ms away.
    rate_limit_wait: float = ACTION_RATE_LIMIT_WAIT_SECONDS
    on_limiter_store_error: StorePolicy = "closed"


class ProviderCall(Generic[C]):
    """Calls to one provider with its ``credentials``, through deadline → retry → breaker → limiter → call.

    Build it at init, from the function's :class:`SharedState`: its limiter
    and breaker validate their configuration there (a ConfigError at cold
    start) and, with its retry budget, last for the container's life.
    """

    def __init__(self, policy: ProviderPolicy, state: SharedState, credentials: Secret[C]) -> None:
        self.policy = policy
        self.credentials = credentials
        self.limiter: RateLimiter | None = (
            state.rate_limiter(
                policy.service, policy.limits, on_store_error=policy.on_limiter_store_error, lanes=policy.lanes
            )
            if policy.limits
            else None
        )
        config = policy.breaker
        # Every breaker, by the name its record has in the store ("stripe", "hotelbeds:search").
        self.breakers: dict[str, CircuitBreaker] = {}
        operations: Sequence[str | None] = policy.operations or [None]
        for operation in operations:
            if config is not None:
                breaker = state.circuit_breaker(policy.service, config, operation=operation)
                self.breakers[breaker.key] = breaker
        self.budget = RetryBudget()

    @property
    def breaker(self) -> CircuitBreaker | None:
        """The provider's one breaker, when it has no breaker per operation."""
        return None if self.policy.operations else self.breakers.get(self.policy.service)

    def __call__(
        self,
        request: Callable[[C], T],
        *,
        scope: str = "default",
        retry: RetryPolicy | None = None,
        operation: str | None = None,
        lane: str | None = None,
    ) -> T:
        """Run ``request(credentials)`` (one request, bounded by its timeouts) with every protection.

        ``scope`` selects the rate-limit counters (an account, an API key);
        ``operation`` the breaker, when the policy has one per operation, and the limiter's lane (``lane``
        chooses another, when the policy has lanes).
        ``request`` must be safe to repeat: a POST carries the same idempotency key on every attempt;
        one that is not (a provider without idempotency keys) passes ``retry=RetryPolicy(attempts=1)``.
        """
        deadline = current_deadline()
        if deadline is not None and deadline.remaining() <= 0:
            raise DeadlineExceededError(self.policy.service)
        breaker = self._breaker(operation)
        lane = (lane or operation) if self.policy.lanes else None
        credentials = self.credentials.get()
        policy = retry or self.policy.retry
        for attempt in retry_attempts(
            self.policy.service,
            policy=policy,
            attempt_timeout=self.policy.attempt_timeout,
            deadline=deadline,
            budget=self.budget,
        ):
            with attempt:
                try:
                    answer = self._once(request, credentials, (scope, lane), breaker)
                except IntegrationError as error:
                    fresh = self._rotated(credentials, error)
                    if policy.attempts == 1:  # a request sent at most once is not sent again: the next call uses it
                        raise
                    credentials = fresh
                    answer = self._once(request, credentials, (scope, lane), breaker)
        return answer

    def _breaker(self, operation: str | None) -> CircuitBreaker | None:
        if self.policy.breaker is None:
            return None
        if bool(operation) != bool(self.policy.operations) or (operation and operation not in self.policy.operations):
            raise ValueError(f"{self.policy.service}: no breaker for operation {operation!r}")
        return self.breakers[self.policy.service if operation is None else f"{self.policy.service}:{operation}"]

    def _once(
        self, request: Callable[[C], T], credentials: C, slot: tuple[str, str | None], breaker: CircuitBreaker | None
    ) -> T:
        """One attempt: a rate-limit slot (scope, lane) once the breaker admits it, then the request, timed."""
        if breaker is None:
            self._take_slot(*slot)
            return request(credentials)
        return breaker.call(lambda: request(credentials), admitted=lambda: self._take_slot(*slot))

    def _take_slot(self, scope: str, lane: str | None) -> None:
        if self.limiter is not None:
            self.limiter.acquire(scope, wait=self.policy.rate_limit_wait, lane=lane)

    def _rotated(self, credentials: C, error: IntegrationError) -> C:
        """The credentials read again after a 401, when they changed; otherwise ``error`` stands.

        A 401 after a rotation means this container still holds the old key.
        The secret is read again at most once per interval per container, so
        a provider refusing every key costs no flood of Secrets Manager reads.
        """
        if error.status_code != HTTPStatus.UNAUTHORIZED:
            raise error
        fresh = self.credentials.refetched()
        if fresh is None or fresh == credentials:
            raise error
        logger.info(
            "provider rejected the credentials; retrying with the refreshed secret",
            extra={"secret": self.credentials.label},
        )
        emit("SecretRefreshed", secret=self.credentials.label)
        return fresh
