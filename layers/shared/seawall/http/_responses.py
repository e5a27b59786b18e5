"""Turning a provider's non-2xx answer into a typed error, without its body."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

import httpx

from seawall.errors import IntegrationError, RateLimitedError, is_retryable_status
from seawall.retry._signals import parse_retry_after, should_retry_advice


def error_from_response(service: str, response: httpx.Response, advice_headers: Iterable[str] = ()) -> IntegrationError:
    """The error for a non-2xx response: retryable per the provider's advice (``advice_headers``), else per status."""
    status = response.status_code
    advice = should_retry_advice(response.headers, advice_headers)
    retryable = is_retryable_status(status) if advice is None else advice
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(service, "provider rate limit reached", retry_after=retry_after, retryable=retryable)
    return IntegrationError(
        service, f"provider answered HTTP {status}", status_code=status, retryable=retryable, retry_after=retry_after
    )
