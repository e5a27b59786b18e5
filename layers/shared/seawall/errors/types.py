"""A small hierarchy of errors for talking to third-party services.

Messages are written by this code, never copied from a provider's body: the
problem+json mapping shows ``message`` to callers (after redaction), while the
original exception stays in ``cause`` for the logs only.
"""

from __future__ import annotations

from http import HTTPStatus


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status from a provider is worth another attempt: 429 and 5xx only."""
    return status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR


class IntegrationError(Exception):
    """A call to a third-party service failed.

    ``status_code`` is the provider's HTTP status when there was one (``None``
    for connection failures); ``retry_after`` is the provider's advice in
    seconds, when it gave any; ``details`` go to callers in the problem body.
    """

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        cause: BaseException | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status_code = status_code
        # Facts safe to show callers (a decline code, the provider's request id); never a body or a secret.
        self.details = details or {}
        if retryable is None:
            retryable = status_code is not None and is_retryable_status(status_code)
        self.retryable = retryable
        self.retry_after = retry_after
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause


class ProviderTimeoutError(IntegrationError):
    """The provider did not answer within the request's timeout."""

    def __init__(self, service: str, message: str = "timed out", *, cause: BaseException | None = None) -> None:
        super().__init__(service, message, retryable=True, cause=cause)


class RateLimitedError(IntegrationError):
    """A rate limit (ours or the provider's) refused the call.

    ``remaining`` is the number of calls left in the window, ``reset`` the Unix
    time at which the window resets, ``retry_after`` the seconds to wait.
    """

    def __init__(
        self,
        service: str,
        message: str = "rate limited",
        *,
        retry_after: float | None = None,
        remaining: int = 0,
        reset: float | None = None,
        status_code: int | None = 429,
        retryable: bool | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            service,
            message,
            status_code=status_code,
            retryable=retryable,
            retry_after=retry_after,
            cause=cause,
        )
        self.remaining = remaining
        self.reset = reset


class CircuitOpenError(IntegrationError):
    """The provider's circuit breaker is open: the call was not attempted."""

    def __init__(self, service: str, *, retry_after: float, message: str = "circuit open") -> None:
        super().__init__(service, message, retryable=False, retry_after=retry_after)


class DeadlineExceededError(IntegrationError):
    """Too little of the invocation's time is left to make (or retry) the call."""

    def __init__(self, service: str, message: str = "deadline exceeded") -> None:
        super().__init__(service, message, retryable=False)


class WebhookVerificationError(IntegrationError):
    """An inbound webhook's signature, timestamp or header did not verify.

    ``reason`` says why in a word, for logs and metrics (never for the
    sender): ``missing-header``, ``malformed-header``, ``timestamp`` (outside
    the tolerance) or ``no-match`` (no signature matches any secret).
    """

    def __init__(
        self, service: str, message: str = "signature verification failed", *, reason: str = "no-match"
    ) -> None:
        super().__init__(service, message, status_code=None, retryable=False)
        self.reason = reason


class WebhookPayloadError(WebhookVerificationError):
    """A delivery whose signature verified but that this endpoint cannot take.

    ``reason`` is ``not-an-event`` (the body is not an event this endpoint
    accepts) or ``too-large`` (its event would not fit on the bus).
    """

    def __init__(
        self, service: str, message: str = "the body is not an event", *, reason: str = "not-an-event"
    ) -> None:
        super().__init__(service, message, reason=reason)


class StoreUnavailableError(Exception):
    """A store of ours could not be reached: shared state (idempotency, limiter, breaker) or Secrets Manager.

    Nothing was sent to the provider. Callers are told to come back after
    ``retry_after`` seconds (a 503); it never counts against a provider.
    """

    def __init__(self, store: str, *, retry_after: float = 1.0, cause: BaseException | None = None) -> None:
        super().__init__(f"{store} unavailable")
        self.store = store
        self.retry_after = retry_after
        if cause is not None:
            self.__cause__ = cause


class ConfigError(Exception):
    """The deployment is misconfigured: an environment variable, secret or parameter.

    ``source`` names where the value comes from (an environment variable, a
    secret's id) and ``fields`` the fields at fault. The value itself is never
    part of the error.
    """

    def __init__(self, source: str, fields: list[str] | tuple[str, ...] = (), reason: str = "invalid") -> None:
        self.source = source
        self.fields = tuple(fields)
        self.reason = reason
        where = f"{source}: " + ", ".join(self.fields) if self.fields else source
        super().__init__(f"{where}: {reason}")
