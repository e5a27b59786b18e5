"""The Stripe API actions end to end: signed HTTP → local gateway → function → Stripe sandbox."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from local.aws import MotoServer
from local.sandboxes.stripe import FIXTURES, StripeSandbox, stripe_fault
from tests.support.sigv4 import LOCAL_PRINCIPAL, SECOND_PRINCIPAL, signed_headers
from tests.support.stack import ROOT, IsolatedStack


def call(
    api: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    raw: bytes | None = None,
    caller: Credentials = LOCAL_PRINCIPAL,
) -> httpx.Response:
    """A SigV4-signed request (by ``caller``), with an Idempotency-Key when given."""
    url = f"{api}{path}"
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = {"Content-Type": "application/json"} if content else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    signed = signed_headers(method, url, content, headers, credentials=caller)
    return httpx.request(method, url, content=content, headers=signed, timeout=30)


def posts(sandbox: StripeSandbox, path: str) -> int:
    return sum(1 for method, seen, _ in sandbox.requests if method == "POST" and seen == path)


@pytest.fixture(autouse=True)
def _clean_sandbox(stripe_sandbox: StripeSandbox) -> None:
    stripe_sandbox.faults.plan.queue.clear()
    stripe_sandbox.requests.clear()


def test_create_a_customer_once_per_idempotency_key(api: str, stripe_sandbox: StripeSandbox) -> None:
    key = str(uuid.uuid4())
    body = {"email": "ada@example.com", "name": "Ada", "metadata": {"crm": "1", "account": "7"}}
    first = call(api, "POST", "/customers", body, key=key)
    assert first.status_code == 201, first.text
    created = first.json()
    assert (created["email"], created["name"], created["metadata"]) == ("ada@example.com", "Ada", body["metadata"])
    again = call(api, "POST", "/customers", body, key=key)
    assert (again.status_code, again.content) == (201, first.content)  # the first answer, byte for byte
    assert posts(stripe_sandbox, "/v1/customers") == 1
    other = call(api, "POST", "/customers", {**body, "name": "Grace"}, key=key)
    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]
    assert posts(stripe_sandbox, "/v1/customers") == 1


def test_a_customer_needs_no_email(api: str) -> None:
    response = call(api, "POST", "/customers", {}, key=str(uuid.uuid4()))
    assert response.status_code == 201
    assert response.json()["email"] is None


@pytest.mark.parametrize(
    ("body", "raw", "key", "status"),
    [
        ({"email": "a@example.com"}, None, None, 400),  # no Idempotency-Key
        (None, b'{"email": ', "k", 400),  # not JSON
        ({"email": "not-an-address"}, None, "k", 422),
        ({"email": "a@example.com", "role": "admin"}, None, "k", 422),  # unknown field
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, None, "k", 422),  # Stripe allows 50 keys
        ({"metadata": {"k" * 41: "v"}}, None, "k", 422),
        ({"metadata": {"k": "v" * 501}}, None, "k", 422),
        (None, json.dumps({"name": "x" * 300_000}).encode(), "k", 413),
        ({"metadata": {"order]": "B-2"}}, None, "k", 422),  # Stripe refuses square brackets in keys
        ({"metadata": {"x[y]": "z"}}, None, "k", 422),
        (None, b'{"email": "\xff@b.co"}', "k", 400),  # not UTF-8
        (None, '{"name": "Ada"}'.encode("utf-16"), "k", 400),
    ],
)
def test_bad_customer_requests_never_reach_stripe(  # noqa: PLR0917 (the parameters of the case)
    api: str, stripe_sandbox: StripeSandbox, body: Any, raw: bytes | None, key: str | None, status: int
) -> None:
    response = call(api, "POST", "/customers", body, key=key and f"{key}-{uuid.uuid4()}", raw=raw)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert stripe_sandbox.requests == []


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/vnd.api+json"],
)
def test_a_body_that_is_not_json_is_415_and_never_reaches_stripe(
    api: str, stripe_sandbox: StripeSandbox, content_type: str
) -> None:
    url, body = f"{api}/customers", b'{"name": "Ada"}'
    headers = {"Content-Type": content_type, "Idempotency-Key": str(uuid.uuid4())}
    response = httpx.post(url, content=body, headers=signed_headers("POST", url, body, headers), timeout=30)
    assert response.status_code == 415, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert stripe_sandbox.requests == []


def test_validation_errors_name_the_fields(api: str) -> None:
    response = call(api, "POST", "/payment-intents", {"amount": 0, "currency": "euro"}, key=str(uuid.uuid4()))
    assert response.status_code == 422
    assert {tuple(error["loc"]) for error in response.json()["errors"]} == {("body", "amount"), ("body", "currency")}


def test_get_a_customer_and_not_found(api: str, stripe_sandbox: StripeSandbox) -> None:
    created = call(api, "POST", "/customers", {"name": "Lin"}, key=str(uuid.uuid4())).json()
    found = call(api, "GET", f"/customers/{created['id']}")
    assert (found.status_code, found.json()["id"]) == (200, created["id"])
    assert call(api, "GET", "/customers/cus_doesnotexist").status_code == 404
    stripe_sandbox.customers[created["id"]]["deleted"] = True
    gone = call(api, "GET", f"/customers/{created['id']}")
    assert gone.status_code == 404
    assert call(api, "GET", "/customers/not-a-customer-id").status_code == 422


def test_payment_intents_keep_money_exact(api: str) -> None:
    customer = call(api, "POST", "/customers", {"email": "p@example.com"}, key=str(uuid.uuid4())).json()
    body = {"amount": 1099, "currency": "EUR", "customer": customer["id"], "metadata": {"order": "o-1"}}
    response = call(api, "POST", "/payment-intents", body, key=str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    intent = response.json()
    assert (intent["amount"], intent["currency"], intent["status"]) == (1099, "eur", "requires_payment_method")
    assert intent["customer"] == customer["id"]


@pytest.mark.parametrize("amount", [0, -5, 100_000_000, "1000", 10.5])
def test_amounts_are_positive_integers_within_stripes_limit(
    api: str, stripe_sandbox: StripeSandbox, amount: Any
) -> None:
    response = call(api, "POST", "/payment-intents", {"amount": amount, "currency": "eur"}, key=str(uuid.uuid4()))
    assert response.status_code == 422
    assert stripe_sandbox.requests == []


def test_a_wrong_method_is_405_with_allow(api: str) -> None:
    response = call(api, "GET", "/customers")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert call(api, "DELETE", f"/customers/{FIXTURES['customer']['id']}").headers["Allow"] == "GET"


def test_unsigned_calls_are_refused(api: str, stripe_sandbox: StripeSandbox) -> None:
    response = httpx.post(f"{api}/customers", json={}, headers={"Idempotency-Key": "x"})
    assert response.status_code == 403
    assert stripe_sandbox.requests == []


def test_a_transient_stripe_failure_is_retried_under_the_same_key(api: str, stripe_sandbox: StripeSandbox) -> None:
    stripe_sandbox.faults.plan.queue.append(stripe_fault(503, should_retry=True))
    response = call(api, "POST", "/customers", {"name": "Retry"}, key=str(uuid.uuid4()))
    assert response.status_code == 201
    keys = [headers["Idempotency-Key"] for method, _, headers in stripe_sandbox.requests if method == "POST"]
    assert len(keys) == 2
    assert len(set(keys)) == 1


@pytest.mark.parametrize("retry_after", [0.01, None], ids=["Stripe's Retry-After", "none from Stripe"])
def test_stripes_rate_limit_reaches_the_caller_with_retry_after(
    api: str, stripe_sandbox: StripeSandbox, retry_after: float | None
) -> None:
    stripe_sandbox.faults.plan.queue.extend([stripe_fault(429, should_retry=True, retry_after=retry_after)] * 3)
    response = call(api, "POST", "/customers", {"name": "Busy"}, key=str(uuid.uuid4()))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["service"] == "stripe"


def test_an_idempotency_key_belongs_to_its_caller(api: str, stripe_sandbox: StripeSandbox) -> None:
    key, body = str(uuid.uuid4()), {"amount": 1500, "currency": "eur"}
    mine = call(api, "POST", "/payment-intents", body, key=key)
    theirs = call(api, "POST", "/payment-intents", body, key=key, caller=SECOND_PRINCIPAL)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["client_secret"] != theirs.json()["client_secret"]  # never the other caller's secret
    assert posts(stripe_sandbox, "/v1/payment_intents") == 2
    keys = {headers["Idempotency-Key"] for method, _, headers in stripe_sandbox.requests if method == "POST"}
    assert len(keys) == 2  # and two keys at Stripe
    again = call(api, "POST", "/payment-intents", body, key=key, caller=SECOND_PRINCIPAL)
    assert again.json() == theirs.json()
    assert posts(stripe_sandbox, "/v1/payment_intents") == 2


def test_sixteen_concurrent_clients_with_one_key_make_one_stripe_call(api: str, stripe_sandbox: StripeSandbox) -> None:
    key, body = str(uuid.uuid4()), {"name": "Crowd"}
    stripe_sandbox.faults.latency = 0.5  # the first is still at Stripe while the others arrive
    answers: list[httpx.Response] = []

    def client() -> None:
        answers.append(call(api, "POST", "/customers", body, key=key))

    threads = [threading.Thread(target=client) for _ in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stripe_sandbox.faults.latency = 0
    assert posts(stripe_sandbox, "/v1/customers") == 1
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["Content-Type"] == "application/problem+json"
    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert len(created) == 1
    retried = call(api, "POST", "/customers", body, key=key)  # a 409'd client retries, as told
    assert (retried.status_code, retried.json()["id"]) == (201, created.pop())


def test_a_state_store_outage_is_503_with_retry_after_on_every_route(
    isolated: IsolatedStack, moto_server: MotoServer, stripe_sandbox: StripeSandbox
) -> None:
    requests = [
        ("POST", "/customers", {"name": "Outage"}),
        ("POST", "/payment-intents", {"amount": 100, "currency": "eur"}),
        ("GET", f"/customers/{FIXTURES['customer']['id']}", None),
    ]
    moto_server.down.add("dynamodb")
    try:
        answers = [call(isolated.api, method, path, body, key=str(uuid.uuid4())) for method, path, body in requests]
    finally:
        moto_server.down.discard("dynamodb")
    timeout = isolated.stack.spec("CustomersCreateFunction").timeout
    for (method, _, _), answer in zip(requests, answers, strict=True):
        assert answer.status_code == 503, answer.text
        # An idempotent action's in-progress record may have been written: it can live as long as the invocation.
        lifetime = int(answer.headers["Retry-After"])
        assert 1 < lifetime <= timeout if method == "POST" else lifetime == 1
        assert answer.json()["type"] == "urn:seawall:problem:store-unavailable"
    assert stripe_sandbox.requests == []  # nothing reached Stripe without its protections


def test_an_open_circuit_is_logged_once_not_per_request(isolated: IsolatedStack, stripe_sandbox: StripeSandbox) -> None:
    function = isolated.stack.function("CustomersGetFunction", max_containers=1)
    stripe_sandbox.configure_faults({"queue": [{"status": 503}] * 30})
    event = json.loads((ROOT / "events" / "stripe" / "customers_get" / "get.json").read_text())
    logs = ""
    for _ in range(12):
        invocation = function.run(event)
        logs += invocation.logs
    stripe_sandbox.faults.plan.queue.clear()
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"level"' in line]
    opened = [r for r in records if r["message"] == "circuit breaker changed state" and r["to"] == "open"]
    assert [r["level"] for r in opened] == ["WARNING"]
    assert not [r for r in records if r["level"] == "ERROR"]  # no traceback per refused request
    refusals = [r for r in records if r["message"] == "request refused" and r.get("status") == 503]
    assert refusals
    assert all(r["level"] == "INFO" for r in refusals)
