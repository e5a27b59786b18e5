"""The Stripe client: models against Stripe's own objects, error mapping, and resilience against the sandbox."""

from __future__ import annotations

import json
import threading
import time
import typing
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from local.sandboxes.faults import Fault
from local.sandboxes.stripe import FIXTURES, StripeSandbox, stripe_fault
from seawall.breaker import BreakerState
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import CircuitOpenError, IntegrationError, ProviderTimeoutError, RateLimitedError, ThrottledError
from seawall.http import parse_payload
from seawall.problems import problem_for
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.errors import stripe_error
from seawall.providers.stripe.models import Customer, DeletedCustomer, PaymentIntent, PaymentIntentStatus
from tests.conftest import LogCapture
from tests.providers.conftest import KEY
from tests.support.http_server import ProviderServer, Reply

# The client's resilience on one backend; both backends' behaviour is tests/state's business.
on_dynamodb = pytest.mark.parametrize("state", ["dynamodb"], indirect=True)

STATUSES = typing.get_args(PaymentIntentStatus)


def test_models_read_stripes_example_objects() -> None:
    customer = parse_payload(Customer, FIXTURES["customer"], service="stripe")
    assert (customer.email, customer.name) == (None, None)  # real customers may have neither
    assert parse_payload(DeletedCustomer, FIXTURES["deleted_customer"], service="stripe").deleted is True
    intent = parse_payload(PaymentIntent, FIXTURES["payment_intent"], service="stripe")
    assert (intent.amount, intent.currency, intent.status) == (1099, "usd", "requires_payment_method")


@pytest.mark.parametrize("status", STATUSES)
def test_every_payment_intent_status_is_accepted(status: str) -> None:
    assert (
        parse_payload(PaymentIntent, {**FIXTURES["payment_intent"], "status": status}, service="stripe").status
        == status
    )


def test_a_missing_field_is_an_integration_error_logged_once_redacted(logs: LogCapture) -> None:
    broken = {key: value for key, value in FIXTURES["payment_intent"].items() if key != "amount"}
    broken["description"] = "card sk_live_leaked00000000 used"
    with pytest.raises(IntegrationError):
        parse_payload(PaymentIntent, broken, service="stripe")
    (record,) = logs.records()
    assert "sk_live_leaked00000000" not in logs.text
    assert record["errors"] == [{"loc": "amount", "type": "missing"}]


def sdk_error(sandbox: StripeSandbox, call: Any) -> stripe.StripeError:
    sdk = stripe.StripeClient(
        KEY, base_addresses={"api": sandbox.url}, http_client=stripe.HTTPXClient(allow_sync_methods=True)
    )
    with pytest.raises(stripe.StripeError) as caught:
        call(sdk)
    return caught.value


def test_stripe_errors_map_to_statuses_callers_understand(sandbox: StripeSandbox) -> None:
    declined = stripe_error(
        sdk_error(
            sandbox,
            lambda sdk: sdk.v1.payment_intents.create(
                params={"amount": 500, "currency": "eur", "payment_method": "pm_card_chargeDeclined", "confirm": True}
            ),
        )
    )
    problem = problem_for(declined)
    assert (problem.status, problem.body()["decline_code"]) == (402, "generic_decline")
    assert problem.body()["stripe_request_id"].startswith("req_")
    missing = stripe_error(sdk_error(sandbox, lambda sdk: sdk.v1.customers.retrieve("cus_none")))
    assert (problem_for(missing).status, missing.details["stripe_error_code"]) == (404, "resource_missing")
    sandbox.faults.plan.queue.append(stripe_fault(500, should_retry=False))
    no_retry = stripe_error(sdk_error(sandbox, lambda sdk: sdk.v1.customers.list()))
    assert (no_retry.retryable, problem_for(no_retry).status) == (False, 502)
    sandbox.faults.plan.queue.append(stripe_fault(429, retry_after=3))
    limited = stripe_error(sdk_error(sandbox, lambda sdk: sdk.v1.customers.list()))
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 3
    assert "Injected" not in json.dumps(problem_for(limited).body())  # Stripe's own words stay out


def test_an_idempotency_key_reused_with_other_parameters_is_a_conflict(sandbox: StripeSandbox) -> None:
    sdk = stripe.StripeClient(
        KEY, base_addresses={"api": sandbox.url}, http_client=stripe.HTTPXClient(allow_sync_methods=True)
    )
    sdk.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "same"})
    conflict = stripe_error(
        sdk_error(
            sandbox,
            lambda s: s.v1.customers.create(params={"email": "b@example.com"}, options={"idempotency_key": "same"}),
        )
    )
    assert problem_for(conflict).status == 409


@on_dynamodb
def test_customers_and_payment_intents_come_back_typed(gateway: Callable[..., StripeGateway]) -> None:
    stripe = gateway()
    customer = stripe.create_customer(email=None, name="Ada", metadata={"crm": "1"}, idempotency_key="c-1")
    assert stripe.get_customer(customer.id) == customer
    intent = stripe.create_payment_intent(
        amount=1099, currency="eur", customer=customer.id, metadata={}, idempotency_key="pi-1"
    )
    assert (intent.amount, intent.currency, intent.customer) == (1099, "eur", customer.id)


@on_dynamodb
def test_unknown_and_deleted_customers_are_not_found(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe = gateway()
    customer = stripe.create_customer(email="x@example.com", name=None, metadata={}, idempotency_key="c-2")
    stripe_env.customers[customer.id]["deleted"] = True
    for customer_id in (customer.id, "cus_unknown"):
        with pytest.raises(IntegrationError) as caught:
            stripe.get_customer(customer_id)
        assert problem_for(caught.value).status == 404


@on_dynamodb
def test_retries_resend_a_post_under_the_same_idempotency_key(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe_env.faults.plan.queue.extend([stripe_fault(503, should_retry=True), Fault(kind="reset")])
    before = len(stripe_env.customers)
    gateway().create_customer(email="r@example.com", name=None, metadata={}, idempotency_key="one-key")
    posts = [headers for method, path, headers in stripe_env.requests if method == "POST"]
    assert len(posts) == 3
    assert {headers["Idempotency-Key"] for headers in posts} == {"one-key"}
    assert len(stripe_env.customers) == before + 1


@on_dynamodb
def test_stripes_advice_not_to_retry_is_followed(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe_env.faults.plan.queue.append(stripe_fault(500, should_retry=False))
    with pytest.raises(IntegrationError):
        gateway().create_customer(email=None, name=None, metadata={}, idempotency_key="k-3")
    assert len(stripe_env.requests) == 1


@on_dynamodb
def test_a_rotated_key_is_picked_up_on_401(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox, put_secret: Any
) -> None:
    stripe = gateway()
    stripe.get_customer(stripe.create_customer(email=None, name=None, metadata={}, idempotency_key="k-4").id)
    rotated = "sk_test_rotated00000000001"
    put_secret(stripe_env.secret_name, {"api_key": rotated})  # type: ignore[attr-defined]
    stripe_env.api_keys = {rotated}
    assert stripe.create_customer(email=None, name=None, metadata={}, idempotency_key="k-5").id.startswith("cus_")
    assert stripe_env.requests[-2][2]["Authorization"] == f"Bearer {KEY}"
    assert stripe_env.requests[-1][2]["Authorization"] == f"Bearer {rotated}"


@on_dynamodb
def test_the_breaker_opens_after_repeated_faults_and_stops_calling(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe_env.configure_faults({"queue": [{"status": 503}] * 12})
    stripe = gateway()
    for _ in range(4):
        with pytest.raises((IntegrationError, CircuitOpenError)):
            stripe.create_customer(email=None, name=None, metadata={}, idempotency_key="k-6")
    assert stripe.call.breaker is not None
    assert stripe.call.breaker.state is BreakerState.OPEN
    sent = len(stripe_env.requests)
    with pytest.raises(CircuitOpenError):
        stripe.create_customer(email=None, name=None, metadata={}, idempotency_key="k-7")
    assert len(stripe_env.requests) == sent
    another_container = gateway()
    with pytest.raises(CircuitOpenError):  # the breaker is the fleet's, not this container's
        another_container.create_customer(email=None, name=None, metadata={}, idempotency_key="k-7")
    assert len(stripe_env.requests) == sent


@on_dynamodb
def test_the_breaker_recovers_once_stripe_does(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe = gateway(STRIPE_BREAKER_OPEN_SECONDS=0.5)
    breaker = stripe.call.breaker
    assert breaker is not None
    stripe_env.configure_faults({"queue": [{"status": 503}] * 12})
    while breaker.state is not BreakerState.OPEN:
        with pytest.raises((IntegrationError, CircuitOpenError)):
            stripe.create_customer(
                email=None, name=None, metadata={}, idempotency_key=f"k-r-{len(stripe_env.requests)}"
            )
    stripe_env.faults.plan.queue.clear()  # Stripe is back
    time.sleep(0.6)
    for index in range(3):  # two probes close it, then calls flow as usual
        stripe.create_customer(email=None, name=None, metadata={}, idempotency_key=f"k-ok-{index}")
    assert breaker.state is BreakerState.CLOSED


@on_dynamodb
def test_the_limiter_paces_callers_to_stripes_rate_and_refuses_a_turn_too_far_off(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    # Five containers call at once against two requests a second, which the sandbox enforces as Stripe does.
    containers = [gateway(STRIPE_REQUESTS_PER_SECOND=2) for _ in range(5)]
    for container in containers:  # each loads its secret: what follows is quick
        container.get_customer("cus_QXg1o8vcGmoR32")
        (pace,) = container.call.limiter.usage()  # type: ignore[union-attr]
        time.sleep(max(0.0, pace.reset - time.time()) + 0.01)  # this call's turn is past
    stripe_env.requests.clear()
    stripe_env.faults.requests_per_second = 2
    start = threading.Barrier(len(containers))

    def create(stripe: StripeGateway) -> ThrottledError | None:
        start.wait()
        try:
            stripe.create_customer(email=None, name=None, metadata={}, idempotency_key=f"k-8-{uuid.uuid4().hex}")
        except ThrottledError as error:  # ours, not Stripe's
            return error
        return None

    with ThreadPoolExecutor(len(containers)) as pool:
        outcomes = list(pool.map(create, containers))
    refusals = [outcome for outcome in outcomes if outcome is not None]
    # Turns half a second apart: the first goes at once, the second takes the next turn and waits for it, so may
    # the third (a second off, as long as a caller may wait); the others' turns are further off, and each is told
    # when its turn would be.
    assert 2 <= len(stripe_env.requests) == len(containers) - len(refusals) <= 3
    assert all(0.9 < refusal.retry_after <= 2.5 for refusal in refusals)
    assert stripe_env.fault_report()["throttled"] == 0  # Stripe never had to refuse
    time.sleep(1.0)  # the turns taken are past: the next test's own


@on_dynamodb
def test_the_deadline_cuts_a_slow_stripe_short(
    gateway: Callable[..., StripeGateway], stripe_env: StripeSandbox
) -> None:
    stripe = gateway()
    stripe.get_customer("cus_QXg1o8vcGmoR32")  # a warm container: the secret is cached
    stripe_env.faults.latency = 5.0  # the SDK's own timeout (10 s) would wait for it; the deadline does not
    with bind_deadline(Deadline.after(2.5)), pytest.raises(ProviderTimeoutError):
        stripe.create_customer(email=None, name=None, metadata={}, idempotency_key="k-9")


@on_dynamodb
def test_one_event_is_read_by_its_id(gateway: Callable[..., StripeGateway], provider: ProviderServer) -> None:
    event = {**FIXTURES["event"], "id": "evt_1Replayed"}
    provider.replies["/v1/events/evt_1Replayed"] = Reply(body=json.dumps(event).encode())
    missing = {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such event"}}
    provider.replies["/v1/events/evt_gone"] = Reply(404, json.dumps(missing).encode())
    stripe = gateway(STRIPE_API_BASE=provider.url)
    assert stripe.get_event("evt_1Replayed") == event
    with pytest.raises(IntegrationError) as caught:
        stripe.get_event("evt_gone")
    assert caught.value.status_code == 404
    assert [seen.path for seen in provider.seen] == ["/v1/events/evt_1Replayed", "/v1/events/evt_gone"]
