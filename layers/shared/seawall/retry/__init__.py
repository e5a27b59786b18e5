"""Retries with capped exponential backoff and full jitter, deadline- and budget-aware.

- :func:`retry_attempts`: the attempts of one call (``for attempt in ...: with attempt:``).
- :class:`RetryPolicy`: how many attempts, how long between them, what is retried.
- :class:`RetryBudget`: a container's allowance of retries per provider.
- :func:`parse_retry_after`, :func:`should_retry_advice`: what a provider's headers say.
"""

from seawall.retry._budget import RetryBudget
from seawall.retry._policy import RetryPolicy, is_retryable, retry_attempts
from seawall.retry._signals import parse_retry_after, should_retry_advice

__all__ = [
    "RetryBudget",
    "RetryPolicy",
    "is_retryable",
    "parse_retry_after",
    "retry_attempts",
    "should_retry_advice",
]
