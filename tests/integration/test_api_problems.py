"""Every API error answers application/problem+json through the one mapping."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from seawall.api import ActionRouter
from seawall.errors import IntegrationError, RateLimitedError
from seawall.problems import Problem, ProblemError
from tests.conftest import LogCapture
from tests.support.events import api_event

app = ActionRouter()


class Order(BaseModel):
    amount: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)


@app.get("/limited")
def limited() -> None:
    raise RateLimitedError("stripe", retry_after=7)


@app.get("/upstream")
def upstream() -> None:
    raise IntegrationError("stripe", "provider answered HTTP 500", status_code=500)


@app.get("/crash")
def crash() -> None:
    raise RuntimeError("connection string postgres://admin:hunter2@db")


@app.get("/bad")
def bad() -> None:
    raise ProblemError(Problem(400, "http", "missing Idempotency-Key header"))


@app.post("/orders")
def orders(order: Order) -> dict[str, Any]:
    return order.model_dump()


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = app.resolve(event, None)  # type: ignore[arg-type]
    headers = {key: values[-1] for key, values in response["multiValueHeaders"].items()}
    return response["statusCode"], headers, json.loads(response["body"])


def test_rate_limited_answers_429_with_retry_after_and_request_id() -> None:
    status, headers, body = call(api_event("GET", "/limited"))
    assert status == 429
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "7"
    assert body["type"] == "urn:seawall:problem:rate-limited"
    assert body["status"] == 429
    assert body["request_id"] == "8b6f2d7e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"


def test_provider_failure_answers_502() -> None:
    status, _, body = call(api_event("GET", "/upstream"))
    assert (status, body["service"]) == (502, "stripe")


def test_a_crash_answers_500_with_nothing_of_the_error_but_logs_it_redacted(logs: LogCapture) -> None:
    status, _, body = call(api_event("GET", "/crash"))
    assert status == 500
    assert "hunter2" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)
    (record,) = [r for r in logs.records() if r["message"] == "request failed"]
    assert "RuntimeError" in record["exception_name"]


def test_a_refusal_keeps_its_status() -> None:
    status, _, body = call(api_event("GET", "/bad"))
    assert (status, body["detail"]) == (400, "missing Idempotency-Key header")


def test_unknown_routes_answer_404_problem() -> None:
    status, headers, body = call(api_event("GET", "/nowhere"))
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["type"] == "urn:seawall:problem:http"


def test_validation_errors_answer_422_with_fields_and_no_input_values() -> None:
    status, _, body = call(api_event("POST", "/orders", json.dumps({"amount": -5, "currency": "euros-secret"})))
    assert status == 422
    locations = sorted(tuple(error["loc"]) for error in body["errors"])
    assert locations == [("body", "amount"), ("body", "currency")]
    assert "euros-secret" not in json.dumps(body)


def test_valid_requests_pass_through() -> None:
    response = app.resolve(api_event("POST", "/orders", json.dumps({"amount": 500, "currency": "eur"})), None)  # type: ignore[arg-type]
    assert response["statusCode"] == 200


def test_json_nested_too_deeply_answers_400_not_500() -> None:
    status, headers, body = call(api_event("POST", "/orders", "[" * 100_000))
    assert (status, headers["Content-Type"]) == (400, "application/problem+json")
    assert "nested" in body["detail"]
