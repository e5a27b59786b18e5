"""Retries with capped exponential backoff and full jitter, deadline- and budget-aware."""

from seawall.retry.budget import RetryBudget
from seawall.retry.policy import RetryPolicy, call_with_retry, is_retryable, set_testing
from seawall.retry.signals import parse_retry_after, should_retry_advice

__all__ = [
    "RetryBudget",
    "RetryPolicy",
    "call_with_retry",
    "is_retryable",
    "parse_retry_after",
    "set_testing",
    "should_retry_advice",
]
