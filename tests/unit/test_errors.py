"""The error families never overlap: what a guard refused, what a provider failed, what a sender sent."""

from __future__ import annotations

import pytest

from seawall.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    IntegrationError,
    NotAttemptedError,
    RateLimitedError,
    StoreUnavailableError,
    ThrottledError,
    WebhookPayloadError,
    WebhookRejectedError,
    WebhookVerificationError,
)


@pytest.mark.parametrize(
    "error",
    [
        ThrottledError("stripe", retry_after=1),
        CircuitOpenError("stripe", retry_after=1),
        DeadlineExceededError("stripe"),
        StoreUnavailableError("rate limiter"),
    ],
)
def test_our_refusals_are_not_provider_failures(error: NotAttemptedError) -> None:
    assert not isinstance(error, (IntegrationError, WebhookRejectedError))


@pytest.mark.parametrize("error", [WebhookVerificationError("stripe"), WebhookPayloadError("stripe")])
def test_inbound_rejections_are_not_outbound_failures(error: WebhookRejectedError) -> None:
    assert not isinstance(error, (IntegrationError, NotAttemptedError))


def test_a_providers_429_is_a_provider_failure_with_its_status() -> None:
    error = RateLimitedError("stripe", retry_after=2)
    assert isinstance(error, IntegrationError)
    assert (error.status_code, error.retryable) == (429, True)


def test_our_limiters_refusal_is_told_apart_by_type_not_by_a_missing_status() -> None:
    error = ThrottledError("stripe", retry_after=0.5, reset=1_800_000_000.0)
    assert not hasattr(error, "status_code")
    assert (error.retry_after, error.reset) == (0.5, 1_800_000_000.0)
