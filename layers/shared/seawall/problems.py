"""Every error a caller meets, as an RFC 9457 ``application/problem+json`` answer, without a web framework.

:func:`problem_for` is the one mapping from exceptions to problems, so
callers see the same shape everywhere and never a stack trace, a provider's
body or a secret: ``detail`` comes from messages this code wrote, and is
redacted again. :func:`answer` logs a problem by what it means and renders it.
The API actions' resolver (``seawall.api``) and the webhook receivers
(``seawall.webhooks.receiver``, which load no Powertools event handler) both
answer through it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict

from seawall.errors import (
    AwsCallError,
    CircuitOpenError,
    ConfigError,
    DeadlineExceededError,
    IntegrationError,
    ProviderTimeoutError,
    RateLimitedError,
    StoreUnavailableError,
    ThrottledError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from seawall.observability import emit, error_name, logger, redact

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


class ProblemError(Exception):
    """Answer the request with this problem (a refusal that needs headers, such as 409 with Retry-After)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def retry_after_headers(seconds: float | None) -> dict[str, str]:
    """``Retry-After`` in whole seconds, rounded up, at least 1 (``DEFAULT_RETRY_AFTER`` when unknown)."""
    return {"Retry-After": str(max(1, math.ceil(DEFAULT_RETRY_AFTER if seconds is None else seconds)))}


def _integration_status(error: IntegrationError) -> int:
    if error.status_code is not None and error.status_code in _PASSTHROUGH_STATUSES:
        return error.status_code
    return HTTPStatus.BAD_GATEWAY


def problem_for(error: BaseException) -> Problem:  # noqa: PLR0911 (one branch per error type reads best)
    """Map any exception to the problem callers see; unknown exceptions are a bare 500."""
    if isinstance(error, ProblemError):
        return error.problem
    if isinstance(error, (RateLimitedError, ThrottledError)):
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


# What each status means for the API's callers (the OpenAPI document lists them per operation).
PROBLEM_STATUSES = {
    400: "Malformed body, missing or malformed Idempotency-Key, or a webhook that is not verified or not an event",
    402: "The provider declined the request (a card error carries decline_code)",
    403: "Not authenticated (SigV4)",
    404: "No such object",
    409: "A request with this Idempotency-Key is in progress (see Retry-After)",
    413: "Body over 256 KB",
    415: "A body that is not application/json",
    422: "Validation failed (field errors in `errors`), or an Idempotency-Key reused with another body",
    429: "Rate limited: the API's, ours or the provider's (see Retry-After)",
    500: "Internal error",
    502: "The provider, or the queue behind a webhook, failed",
    503: "The provider's circuit is open, or our state store is unreachable (see Retry-After)",
    504: "The provider or the deadline ran out",
}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered (extension members may follow)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int, Any]:
    """The OpenAPI responses for the problems an operation may answer (``statuses``, and 500, which any may)."""
    content: Any = {CONTENT_TYPE: {"model": ProblemDetails}}
    return {
        status: {"description": PROBLEM_STATUSES[status], "content": content} for status in sorted({*statuses, 500})
    }


# Larger bodies are refused before anything parses them (API Gateway itself stops at 10 MB).
MAX_BODY_BYTES = 256 * 1024


def oversized(body: bytes) -> Problem | None:
    """The 413 for a body over MAX_BODY_BYTES (counted: a provider's webhook this large would be refused unseen)."""
    if len(body) <= MAX_BODY_BYTES:
        return None
    emit("RequestTooLarge")
    return Problem(413, "http", f"the request body exceeds {MAX_BODY_BYTES // 1024} KB")


def answer(problem: Problem, error: BaseException | None = None, request_id: str | None = None) -> str:
    """Log ``problem`` (caused by ``error``) by what it means, and return its JSON body.

    A bug (500) is logged with its traceback; a provider's failure (502, 504)
    once, at warning (an AWS service of ours failing, as such); refusals (4xx, and 503 from an open circuit or our
    store, whose cause is logged where it happened) at info.
    """
    extra = {"status": problem.status, "error": error_name(error) if error else "refused"}
    if problem.status == HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.exception("request failed", exc_info=error)
    elif problem.status in (HTTPStatus.BAD_GATEWAY, HTTPStatus.GATEWAY_TIMEOUT):
        failed = "aws call failed" if isinstance(error, AwsCallError) else "provider call failed"
        logger.warning(failed, extra={**extra, "service": getattr(error, "service", None), "detail": problem.detail})
    else:
        logger.info("request refused", extra=extra)
    body = problem.body()
    if request_id:
        body["request_id"] = request_id
    return json.dumps(body)


def problem_response(
    problem: Problem, error: BaseException | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """The API Gateway proxy response answering ``problem`` (logged by :func:`answer`)."""
    headers = {"Content-Type": CONTENT_TYPE, **problem.headers}
    return proxy_response(problem.status, answer(problem, error, request_id), headers)


def proxy_response(status: int, body: str, headers: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """An API Gateway (REST, proxy integration) response, shaped as Powertools' resolver shapes one."""
    return {
        "statusCode": status,
        "multiValueHeaders": {name: value if isinstance(value, list) else [value] for name, value in headers.items()},
        "body": body,
        "isBase64Encoded": False,
    }
