"""The typed errors of the bundle, in four families that never overlap.

- :class:`IntegrationError`: a provider was called and the call failed
  (its status, whether a retry may help, its advice on when); or, as
  :class:`AwsCallError`, one of the bundle's own AWS services (a queue) was,
  answered the same way but logged as what it is.
- :class:`NotAttemptedError`: we refused before calling anyone: our rate
  limiter, an open circuit, the invocation's deadline, a store of ours down.
- :class:`WebhookRejectedError`: an inbound delivery we will not take.
- :class:`ConfigError`: the deployment is misconfigured.

Messages are written by this code, never copied from a provider's body:
callers see ``message`` (after redaction), the original exception stays in
``cause`` for the logs. This module imports nothing of the layer.
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


class AwsCallError(IntegrationError):
    """A call to one of the bundle's own AWS services (``service``: ``sqs``, ...) failed, and the caller must retry.

    Answered as a provider's failure is (a retryable 5xx: the sender delivers
    again), but it is no provider's fault: logged as an AWS call, and never
    counted by a provider's breaker (no provider call goes through one).
    """


class ProviderTimeoutError(IntegrationError):
    """The provider did not answer within the request's timeout."""

    def __init__(self, service: str, message: str = "timed out", *, cause: BaseException | None = None) -> None:
        super().__init__(service, message, retryable=True, cause=cause)


class RateLimitedError(IntegrationError):
    """The provider answered 429: its rate limit refused the call (``retry_after``: its advice, if any)."""

    def __init__(
        self,
        service: str,
        message: str = "rate limited",
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(
            service,
            message,
            status_code=HTTPStatus.TOO_MANY_REQUESTS,
            retryable=retryable,
            retry_after=retry_after,
            cause=cause,
        )


class NotAttemptedError(Exception):
    """Nothing was sent to the provider: a guard of ours refused first.

    It says nothing about the provider (the breaker does not count it) and is
    never retried by the retry loop; ``retry_after`` tells callers when to
    come back.
    """

    def __init__(self, service: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.retry_after = retry_after


class ThrottledError(NotAttemptedError):
    """Our fleet-wide rate limiter refused the call; ``reset`` is the Unix time its window resets."""

    def __init__(
        self, service: str, message: str = "rate limit reached", *, retry_after: float, reset: float | None = None
    ) -> None:
        super().__init__(service, message, retry_after=retry_after)
        self.reset = reset


class CircuitOpenError(NotAttemptedError):
    """The provider's circuit breaker is open."""

    def __init__(self, service: str, *, retry_after: float, message: str = "circuit open") -> None:
        super().__init__(service, message, retry_after=retry_after)


class DeadlineExceededError(NotAttemptedError):
    """Too little of the invocation's time is left to make (or retry) the call."""

    def __init__(self, service: str, message: str = "deadline exceeded") -> None:
        super().__init__(service, message)


class StoreUnavailableError(NotAttemptedError):
    """A store of ours could not be reached: shared state (idempotency, limiter, breaker) or Secrets Manager.

    Callers are told to come back after ``retry_after`` seconds (a 503).
    """

    def __init__(self, store: str, *, retry_after: float = 1.0, cause: BaseException | None = None) -> None:
        super().__init__(store, "unavailable", retry_after=retry_after)
        self.store = store
        self.cause = cause  # kept for the logs, whatever the raise statement says of the chain
        if cause is not None:
            self.__cause__ = cause


class WebhookRejectedError(Exception):
    """An inbound delivery this endpoint refuses; ``reason`` says why in a word, for logs and metrics."""

    def __init__(self, service: str, message: str, *, reason: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.reason = reason


class WebhookVerificationError(WebhookRejectedError):
    """The delivery's signature, timestamp or header did not verify.

    ``reason`` (never shown to the sender): ``missing-header``,
    ``malformed-header``, ``timestamp`` (outside the tolerance) or
    ``no-match`` (no signature matches any secret).
    """

    def __init__(
        self, service: str, message: str = "signature verification failed", *, reason: str = "no-match"
    ) -> None:
        super().__init__(service, message, reason=reason)


class WebhookPayloadError(WebhookRejectedError):
    """The signature verified, but this endpoint cannot take the delivery.

    ``reason`` is ``not-an-event`` (the body is not an event this endpoint
    accepts) or ``too-large`` (its event would not fit on the bus).
    """

    def __init__(
        self, service: str, message: str = "the body is not an event", *, reason: str = "not-an-event"
    ) -> None:
        super().__init__(service, message, reason=reason)


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
