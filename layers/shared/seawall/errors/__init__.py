"""The typed errors every part of the bundle raises, and what callers see of them."""

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
    is_retryable_status,
)

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "DeadlineExceededError",
    "IntegrationError",
    "ProviderTimeoutError",
    "RateLimitedError",
    "StoreUnavailableError",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "is_retryable_status",
]
