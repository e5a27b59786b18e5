"""The one mapping from errors to RFC 9457 problem+json."""

from __future__ import annotations

from http import HTTPStatus

import pytest

import seawall.providers.stripe  # noqa: F401 (teaches redaction Stripe's key shapes)
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
from seawall.problems import answer, problem_for
from tests.conftest import LogCapture


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (RateLimitedError("stripe", retry_after=2.2), 429, "rate-limited"),
        (ThrottledError("stripe", retry_after=0.4), 429, "rate-limited"),
        (CircuitOpenError("stripe", retry_after=30), 503, "circuit-open"),
        (DeadlineExceededError("stripe"), 504, "timeout"),
        (ProviderTimeoutError("hotelbeds"), 504, "timeout"),
        (WebhookVerificationError("stripe"), 400, "invalid-signature"),
        (WebhookPayloadError("stripe"), 400, "invalid-payload"),
        (StoreUnavailableError("idempotency store"), 503, "store-unavailable"),
        (IntegrationError("stripe", "card declined", status_code=402), 402, "provider-rejected"),
        (IntegrationError("stripe", "no such customer", status_code=404), 404, "provider-rejected"),
        (IntegrationError("stripe", "upstream failed", status_code=500), 502, "provider-error"),
        (IntegrationError("stripe", "bad credentials", status_code=401), 502, "provider-error"),
        (IntegrationError("stripe", "connection failed", retryable=True), 502, "provider-error"),
        (ConfigError("environment", ["STAGE"]), 500, "misconfigured"),
        (KeyError("boom"), 500, "internal"),
    ],
)
def test_each_error_maps_to_its_status_and_type(error: BaseException, status: int, slug: str) -> None:
    problem = problem_for(error)
    body = problem.body()
    assert body["status"] == problem.status == status
    assert body["type"] == f"urn:seawall:problem:{slug}"
    assert body["title"] == HTTPStatus(status).phrase


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert problem_for(RateLimitedError("stripe", retry_after=2.2)).headers == {"Retry-After": "3"}
    assert problem_for(CircuitOpenError("stripe", retry_after=0.1)).headers == {"Retry-After": "1"}


@pytest.mark.parametrize(
    "error",
    [
        RateLimitedError("stripe"),  # a provider's 429 that said nothing of when
        ThrottledError("stripe", retry_after=0),
        StoreUnavailableError("rate limiter"),
        CircuitOpenError("stripe", retry_after=0),
    ],
)
def test_every_429_and_503_says_when_to_come_back(error: BaseException) -> None:
    problem = problem_for(error)
    assert problem.status in (429, 503)
    assert int(problem.headers["Retry-After"]) >= 1


def test_unknown_errors_reveal_nothing_of_themselves() -> None:
    body = problem_for(RuntimeError("db password is hunter2 at /srv/app.py line 3")).body()
    assert "hunter2" not in str(body)
    assert body["detail"] == "an internal error occurred"


def test_config_errors_do_not_name_the_field_to_callers() -> None:
    body = problem_for(ConfigError("secret stripe", ["api_key"], "must start with sk_")).body()
    assert "api_key" not in str(body)


def test_detail_is_redacted_even_if_a_message_carried_a_secret() -> None:
    body = problem_for(IntegrationError("stripe", "rejected key sk_live_abc123DEF", status_code=400)).body()
    assert "sk_live_abc123DEF" not in body["detail"]
    assert "[REDACTED]" in body["detail"]


def test_config_error_names_source_and_fields_but_never_a_value() -> None:
    error = ConfigError("environment", ["STATE_BACKEND"], "Input should be 'dynamodb' or 'upstash'")
    assert str(error) == "environment: STATE_BACKEND: Input should be 'dynamodb' or 'upstash'"
    assert error.fields == ("STATE_BACKEND",)


@pytest.mark.parametrize(
    ("error", "logged"),
    [
        (AwsCallError("sqs", "the delivery could not be queued", retryable=True), "aws call failed"),
        (IntegrationError("stripe", "provider answered HTTP 502", status_code=502), "provider call failed"),
        (ProviderTimeoutError("hotelbeds"), "provider call failed"),
    ],
)
def test_a_failed_call_is_logged_as_what_failed_a_queue_of_ours_or_a_provider(
    error: IntegrationError, logged: str, logs: LogCapture
) -> None:
    problem = problem_for(error)
    assert problem.status in (HTTPStatus.BAD_GATEWAY, HTTPStatus.GATEWAY_TIMEOUT)  # both answered as a 5xx to retry
    answer(problem, error)
    (line,) = [record for record in logs.records() if record["level"] == "WARNING"]
    assert (line["message"], line["service"], line["error"]) == (logged, error.service, type(error).__name__)
