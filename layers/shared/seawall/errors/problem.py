"""The one mapping from exceptions to RFC 9457 ``application/problem+json`` bodies.

Every API handler answers errors through :func:`problem_for`, so callers see
the same shape everywhere and never a stack trace, a provider's body or a
secret: ``detail`` comes from messages this code wrote, and is redacted again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from seawall.errors.types import (
    CircuitOpenError,
    ConfigError,
    DeadlineExceededError,
    IntegrationError,
    ProviderTimeoutError,
    RateLimitedError,
    StoreUnavailableError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from seawall.observability.redaction import redact

CONTENT_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:seawall:problem:"

# Said when nobody said how long to wait: every 429 and 503 tells the caller when to come back.
DEFAULT_RETRY_AFTER = 1.0

# Provider statuses that describe the caller's request and pass through as they are.
_PASSTHROUGH_STATUSES = frozenset({400, 402, 404, 409, 422})


@dataclass(frozen=True)
class Problem:
    """A problem details object (RFC 9457) and the headers that go with it."""

    status: int
    slug: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The HTTP reason phrase of ``status``."""
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        """The JSON body: the standard members first, then the extensions."""
        return {
            "type": _TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": redact(self.detail),
            **self.extensions,
        }


def retry_after_headers(seconds: float | None) -> dict[str, str]:
    """``Retry-After`` in whole seconds, rounded up, at least 1 (``DEFAULT_RETRY_AFTER`` when unknown)."""
    return {"Retry-After": str(max(1, math.ceil(DEFAULT_RETRY_AFTER if seconds is None else seconds)))}


def _integration_status(error: IntegrationError) -> int:
    if error.status_code is not None and error.status_code in _PASSTHROUGH_STATUSES:
        return error.status_code
    return HTTPStatus.BAD_GATEWAY


def problem_for(error: BaseException) -> Problem:  # noqa: PLR0911 (one branch per error type reads best)
    """Map any exception to the problem callers see; unknown exceptions are a bare 500."""
    if isinstance(error, RateLimitedError):
        return Problem(
            429, "rate-limited", error.message, {"service": error.service}, retry_after_headers(error.retry_after)
        )
    if isinstance(error, CircuitOpenError):
        return Problem(
            503,
            "circuit-open",
            f"{error.service} is unavailable; try again later",
            {"service": error.service},
            retry_after_headers(error.retry_after),
        )
    if isinstance(error, StoreUnavailableError):
        return Problem(
            503,
            "store-unavailable",
            "the service is briefly unavailable; try again",
            {},
            retry_after_headers(error.retry_after),
        )
    if isinstance(error, (DeadlineExceededError, ProviderTimeoutError)):
        return Problem(504, "timeout", f"{error.service} did not answer in time", {"service": error.service})
    if isinstance(error, WebhookPayloadError) and error.reason == "too-large":
        return Problem(413, "payload-too-large", "the event is too large to publish")
    if isinstance(error, WebhookPayloadError):
        return Problem(400, "invalid-payload", "the delivery is not an event this endpoint accepts")
    if isinstance(error, WebhookVerificationError):
        return Problem(400, "invalid-signature", "the webhook could not be verified")
    if isinstance(error, IntegrationError):
        status = _integration_status(error)
        return Problem(
            status,
            "provider-error" if status == HTTPStatus.BAD_GATEWAY else "provider-rejected",
            error.message,
            {"service": error.service, **error.details},
            retry_after_headers(error.retry_after) if error.retryable and error.retry_after is not None else {},
        )
    if isinstance(error, ConfigError):
        return Problem(500, "misconfigured", "the service is not configured correctly")
    return Problem(500, "internal", "an internal error occurred")
