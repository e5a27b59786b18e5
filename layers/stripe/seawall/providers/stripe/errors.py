"""Stripe's errors as IntegrationErrors: status, Stripe's type and code, decline code, request id."""

from __future__ import annotations

from http import HTTPStatus

import stripe

from seawall.errors import IntegrationError, RateLimitedError, is_retryable_status
from seawall.providers.stripe import SERVICE, SHOULD_RETRY_HEADER
from seawall.retry import parse_retry_after, should_retry_advice

# What callers are told, by Stripe's error type (never Stripe's own message, which may quote input).
_MESSAGES = {
    "card_error": "the card was declined",
    "idempotency_error": "the idempotency key was already used with other parameters",
    "invalid_request_error": "Stripe rejected the request",
    "rate_limit_error": "Stripe's rate limit was reached",
    "api_error": "Stripe failed to process the request",
}


def stripe_error(error: stripe.StripeError) -> IntegrationError:
    """The IntegrationError for an error answer stripe-python raised.

    Transport failures never reach here: the layer's HTTP client raises them
    as typed errors, and the SDK passes them through.
    """
    headers = {str(key): str(value) for key, value in (error.headers or {}).items()}
    status = error.http_status
    body = error.error
    kind = getattr(body, "type", None) or "api_error"
    details = {
        key: str(value)
        for key, value in {
            "stripe_error_type": kind,
            "stripe_error_code": error.code,
            "decline_code": getattr(body, "decline_code", None),
            "stripe_request_id": error.request_id,
        }.items()
        if value
    }
    advice = should_retry_advice(headers, (SHOULD_RETRY_HEADER,))
    retryable = (status is not None and is_retryable_status(status)) if advice is None else advice
    retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    message = _MESSAGES.get(kind, "Stripe answered with an error")
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(SERVICE, message, retry_after=retry_after, retryable=retryable, cause=error)
    if kind == "idempotency_error":
        status = HTTPStatus.CONFLICT  # Stripe answers 400; for our callers it is a conflict
    elif error.code == "resource_missing":
        message = "no such object at Stripe"
    return IntegrationError(
        SERVICE,
        message,
        status_code=status,
        retryable=retryable,
        retry_after=retry_after,
        cause=error,
        details=details,
    )
