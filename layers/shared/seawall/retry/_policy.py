"""The retry loop: tenacity, with the waits and stops a Lambda fleet needs.

tenacity gives the loop; this module adds what it lacks: full jitter that
yields to a provider's ``Retry-After``, a stop that respects the invocation's
deadline, and the caller's retry budget.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tenacity import AttemptManager, RetryCallState, Retrying, retry_if_exception

from seawall.deadline import Deadline, current_deadline
from seawall.errors import ConfigError, DeadlineExceededError, IntegrationError, ProviderTimeoutError
from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.retry._budget import RetryBudget


def _sleep(seconds: float) -> None:
    """The backoff's one sleep, looked up at each call (the tests' fixture skips it: tests/conftest.py)."""
    time.sleep(seconds)


def is_retryable(error: BaseException) -> bool:
    """The default predicate: connection errors, timeouts, 429 and 5xx; nothing else."""
    if isinstance(error, IntegrationError):
        return error.retryable
    return isinstance(error, (ConnectionError, TimeoutError))


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, and how long to wait between them.

    The wait before retry ``n`` (1-based) is uniform in ``[0, min(cap, base * 2**(n-1))]``
    ("full jitter"), unless the provider said how long to wait.
    """

    attempts: int = 3
    base: float = 0.2
    cap: float = 5.0
    retry_on: Callable[[BaseException], bool] = is_retryable

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError("RetryPolicy", ["attempts"], "must be at least 1")
        if self.base <= 0 or self.cap < self.base:
            raise ConfigError("RetryPolicy", ["base", "cap"], "need 0 < base <= cap")

    def backoff(self, retry_number: int) -> float:
        """A full-jitter wait before retry ``retry_number`` (1-based)."""
        return random.uniform(0, min(self.cap, self.base * 2 ** (retry_number - 1)))  # noqa: S311 (jitter, not crypto)


def _cost(error: BaseException | None, budget: RetryBudget) -> int:
    timed_out = isinstance(error, (ProviderTimeoutError, TimeoutError))
    return budget.timeout_cost if timed_out else budget.retry_cost


class _Loop:
    """The wait and stop callbacks of one call, sharing its policy, deadline and budget."""

    def __init__(
        self, service: str, policy: RetryPolicy, deadline: Deadline | None, attempt_timeout: float, budget: RetryBudget
    ) -> None:
        self.service = service
        self.policy = policy
        self.deadline = deadline
        self.attempt_timeout = attempt_timeout
        self.budget = budget
        self.last_cost = 0

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        advised = getattr(error, "retry_after", None)
        if isinstance(advised, (int, float)):
            return float(advised)
        return self.policy.backoff(state.attempt_number)

    def stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.attempts:
            return True
        needed = state.upcoming_sleep + self.attempt_timeout
        if self.deadline is not None and not self.deadline.allows(needed):
            self._give_up("deadline", state)
            return True
        error = state.outcome.exception() if state.outcome else None
        cost = _cost(error, self.budget)
        if not self.budget.withdraw(cost):
            self._give_up("retry budget exhausted", state)
            return True
        self.last_cost = cost
        return False

    def before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "retrying provider call",
            extra={
                "provider": self.service,
                "attempt": state.attempt_number,
                "sleep_seconds": round(state.upcoming_sleep, 3),
                "error": error_name(error),
                "status_code": getattr(error, "status_code", None),
            },
        )
        emit("ProviderRetry", provider=self.service)

    def _give_up(self, reason: str, state: RetryCallState) -> None:
        logger.warning(
            "not retrying provider call",
            extra={"provider": self.service, "attempt": state.attempt_number, "reason": reason},
        )
        emit("ProviderRetrySkipped", provider=self.service, reason=reason.split(maxsplit=1)[0])


DEFAULT_POLICY = RetryPolicy()


def retry_attempts(
    service: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    attempt_timeout: float = 0.0,
    deadline: Deadline | None = None,
    budget: RetryBudget | None = None,
) -> Iterator[AttemptManager]:
    """The attempts of one call, used as ``for attempt in ...: with attempt: answer = send()`` (stamina's shape).

    An attempt whose error ``policy.retry_on`` accepts is followed by another
    after a full-jitter wait (or the provider's ``Retry-After``). No wait or
    attempt starts unless ``wait + attempt_timeout`` fits before ``deadline``
    (the invocation's bound deadline by default), and no retry happens once
    ``budget`` is spent (the caller's, kept across calls; a call without one
    has a budget of its own). The last error is re-raised as it was.
    """
    deadline = deadline or current_deadline()
    if deadline is not None and not deadline.allows(attempt_timeout):
        raise DeadlineExceededError(service)
    spend = budget or RetryBudget()
    loop = _Loop(service, policy, deadline, attempt_timeout, spend)
    retrying = Retrying(
        retry=retry_if_exception(policy.retry_on),
        wait=loop.wait,
        stop=loop.stop,
        sleep=_sleep,
        before_sleep=loop.before_sleep,
        reraise=True,
    )
    yield from retrying
    retried = retrying.statistics.get("attempt_number", 1) > 1
    spend.deposit(loop.last_cost if retried else spend.success_refund)
