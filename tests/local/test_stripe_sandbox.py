"""The Stripe sandbox speaks Stripe's wire format: the real stripe SDK talks to it over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe

from local.sandboxes.faults import Fault
from local.sandboxes.stripe import FIXTURES, StripeSandbox, stripe_fault
from tests.conftest import STRIPE_KEY as KEY


def client(sandbox: StripeSandbox, key: str = KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": sandbox.url},
        max_network_retries=0,
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
    )


def test_customers_round_trip_in_stripes_shape(sandbox: StripeSandbox) -> None:
    stripe_client = client(sandbox)
    created = stripe_client.v1.customers.create(params={"email": "ada@example.com", "metadata": {"crm": "42"}})
    assert created.id.startswith("cus_")
    assert set(FIXTURES["customer"]) <= set(created.to_dict())
    assert stripe_client.v1.customers.retrieve(created.id).metadata.to_dict() == {"crm": "42"}
    updated = stripe_client.v1.customers.update(created.id, params={"name": "Ada"})
    assert (updated.name, updated.email) == ("Ada", "ada@example.com")
    deleted = stripe_client.v1.customers.delete(created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "customer", "deleted": True}
    assert stripe_client.v1.customers.retrieve(created.id).to_dict() == deleted.to_dict()


def test_unknown_objects_are_stripe_404s(sandbox: StripeSandbox) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client(sandbox).v1.customers.retrieve("cus_missing")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.request_id.startswith("req_")


def test_lists_paginate(sandbox: StripeSandbox) -> None:
    stripe_client = client(sandbox)
    ids = {stripe_client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(5)}
    ids.add(FIXTURES["customer"]["id"])  # the sandbox starts with Stripe's example customer
    first = stripe_client.v1.customers.list(params={"limit": 3})
    assert first.has_more
    second = stripe_client.v1.customers.list(params={"limit": 4, "starting_after": first.data[-1].id})
    assert not second.has_more
    assert {c.id for c in first.data} | {c.id for c in second.data} == ids
    events = stripe_client.v1.events.list(params={"limit": 100, "type": "customer.created"})
    assert len(events.data) == 5


def test_payment_intents_and_a_declined_card(sandbox: StripeSandbox) -> None:
    stripe_client = client(sandbox)
    intent = stripe_client.v1.payment_intents.create(params={"amount": 1099, "currency": "eur"})
    assert (intent.status, intent.amount, intent.currency) == ("requires_payment_method", 1099, "eur")
    assert stripe_client.v1.payment_intents.retrieve(intent.id).id == intent.id
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.create(
            params={"amount": 500, "currency": "eur", "payment_method": "pm_card_chargeDeclined", "confirm": True}
        )
    assert caught.value.http_status == 402
    assert caught.value.error.decline_code == "generic_decline"


def test_idempotency_keys_replay_and_refuse_other_parameters(sandbox: StripeSandbox) -> None:
    stripe_client = client(sandbox)
    before = len(sandbox.customers)
    first = stripe_client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k-1"})
    again = stripe_client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k-1"})
    assert again.id == first.id
    assert len(sandbox.customers) == before + 1
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create(params={"email": "b@example.com"}, options={"idempotency_key": "k-1"})


def test_only_its_api_keys_are_accepted(sandbox: StripeSandbox) -> None:
    with pytest.raises(stripe.AuthenticationError):
        client(sandbox, "sk_test_somebodyelse").v1.customers.list()


def test_a_key_may_come_as_http_basics_user_as_stripe_takes_it(sandbox: StripeSandbox) -> None:
    # `curl -u sk_test_...:` sends the key as the user, with no password.
    assert httpx.get(f"{sandbox.url}/v1/customers", auth=(KEY, "")).status_code == 200
    assert httpx.get(f"{sandbox.url}/v1/customers", auth=("sk_test_somebodyelse", "")).status_code == 401
    garbled = httpx.get(f"{sandbox.url}/v1/customers", headers={"Authorization": "Basic not-base64!"})
    assert garbled.status_code == 401


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        (stripe_fault(503, should_retry=True), stripe.APIError, 503),
        (stripe_fault(500, should_retry=False), stripe.APIError, 500),
        (stripe_fault(429, retry_after=2), stripe.RateLimitError, 429),
        (Fault(kind="reset"), stripe.APIConnectionError, None),
        (Fault(kind="malformed"), stripe.APIError, 200),
    ],
)
def test_injected_faults_reach_the_sdk(
    sandbox: StripeSandbox, fault: Fault, error: type[stripe.StripeError], status: int | None
) -> None:
    sandbox.faults.plan.queue.append(fault)
    with pytest.raises(error) as caught:
        client(sandbox).v1.customers.list()
    assert caught.value.http_status == status
    if "Stripe-Should-Retry" in fault.headers:
        assert caught.value.headers["stripe-should-retry"] == fault.headers["Stripe-Should-Retry"]
    client(sandbox).v1.customers.list()  # one-off: the next call is fine


def test_a_rate_limit_and_faults_can_be_set_over_http(sandbox: StripeSandbox) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", content=json.dumps({"requests_per_second": 2}))
    stripe_client = client(sandbox)
    stripe_client.v1.customers.list()
    stripe_client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError):
        stripe_client.v1.customers.list()


@pytest.mark.parametrize(
    "body",
    [
        b'{"requests_per_secnd": 2}',  # a typo: refused, not silently ignored
        b'{"queue": [{"kind": "status", "statsu": 500}]}',
        b"not json",
        b"[1, 2]",
    ],
)
def test_a_bad_control_request_is_answered_400_and_changes_nothing(sandbox: StripeSandbox, body: bytes) -> None:
    answer = httpx.post(f"{sandbox.url}/_sandbox/faults", content=body)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "bad sandbox request" in answer.json()["detail"]
    assert httpx.get(f"{sandbox.url}/_sandbox/faults").json()["requests_per_second"] is None
    assert httpx.post(f"{sandbox.url}/_sandbox/nothing").status_code == 404


def test_the_shared_fault_plan_reaches_stripe_a_request_done_then_lost_and_a_rule_for_one_path(
    sandbox: StripeSandbox,
) -> None:
    stripe_client = client(sandbox)
    sandbox.faults.plan.queue.append(Fault(kind="lost", method="POST", path="/v1/customers"))
    with pytest.raises(stripe.APIConnectionError):
        stripe_client.v1.customers.create(params={"email": "lost@example.com"})
    # Done, then the answer lost: the customer exists although the client never heard.
    assert [c.email for c in stripe_client.v1.customers.list().data].count("lost@example.com") == 1
    rules = {"rules": [{"path": "/v1/payment_intents", "status": 1.0, "status_code": 503}]}
    assert httpx.post(f"{sandbox.url}/_sandbox/faults", content=json.dumps(rules)).status_code == 204
    with pytest.raises(stripe.APIError) as caught:
        stripe_client.v1.payment_intents.create(params={"amount": 1099, "currency": "eur"})
    assert caught.value.http_status == 503
    stripe_client.v1.customers.list()  # another path: untouched
