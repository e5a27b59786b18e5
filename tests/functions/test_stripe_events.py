"""The Stripe events processor: every event applied once, in the right final state, or dead-lettered."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import threading
import time
import uuid
from typing import Any

import boto3
import httpx
import pytest
import stripe

from local.aws import aws_client
from local.eventsource import QueuePoller
from local.sandboxes.stripe import FIXTURES
from local.stack import LocalStack


@pytest.fixture(scope="module")
def observer(project_stack: LocalStack, moto_endpoint: str) -> Any:
    """A queue subscribed to the domain event bus: what the product's subscribers would get."""
    events = aws_client("events", moto_endpoint)
    sqs = aws_client("sqs", moto_endpoint)
    bus = project_stack.template.physical["DomainEventBus"]["Name"]
    url = sqs.create_queue(QueueName=f"observer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": ["integrations.stripe"]}))
    events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "observer", "Arn": arn}])

    def published() -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            taken += [json.loads(message["Body"]) for message in batch]
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return taken

    return published


@pytest.fixture
def poller(project_stack: LocalStack, observer: Any) -> QueuePoller:
    poller = QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10)
    poller.drain()
    observer()
    return poller


def stripe_event(kind: str, obj: dict[str, Any], created: int, event_id: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(FIXTURES["event"])
    event.update(id=event_id or f"evt_{uuid.uuid4().hex[:16]}", type=kind, created=created, data={"object": obj})
    return event


def deliver(poller: QueuePoller, *events: dict[str, Any]) -> None:
    for event in events:
        poller.sqs.send_message(QueueUrl=poller.queue_url, MessageBody=json.dumps(event))
    poller.drain()


def item(project_stack: LocalStack, moto_endpoint: str, table: str, key: str) -> dict[str, Any]:
    dynamodb = boto3.resource("dynamodb", endpoint_url=moto_endpoint)
    found: dict[str, Any] = (
        dynamodb.Table(project_stack.template.physical[table]["Ref"]).get_item(Key={"id": key}).get("Item", {})
    )
    return found


def customer(customer_id: str, **fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(FIXTURES["customer"]), "id": customer_id, **fields}


def payment(intent_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(FIXTURES["payment_intent"]), "id": intent_id, "status": status, **fields}


def test_a_payment_succeeded_is_projected_and_published(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller, observer: Any
) -> None:
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    deliver(
        poller,
        stripe_event("payment_intent.succeeded", payment(intent_id, "succeeded", amount=2500, currency="eur"), 100),
    )
    stored = item(project_stack, moto_endpoint, "PaymentsTable", intent_id)
    assert (stored["status"], stored["amount"], stored["currency"]) == ("succeeded", 2500, "eur")
    (published,) = observer()
    assert published["detail-type"] == "PaymentSucceeded"
    assert published["detail"]["payment_intent_id"] == intent_id


def test_duplicates_in_sequence_have_one_effect(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller, observer: Any
) -> None:
    event = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}", email="d@example.com"), 100)
    deliver(poller, event, event, event)
    assert len(observer()) == 1


def test_concurrent_duplicates_have_one_effect(project_stack: LocalStack, observer: Any, poller: QueuePoller) -> None:
    module = project_stack.function("StripeEventsFunction").module
    event = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}"), 100)
    outcomes: list[str] = []

    def apply() -> None:
        try:
            module.apply_once(event=event)
            outcomes.append("applied or replayed")
        except Exception as error:  # in progress elsewhere: SQS would redeliver it
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8
    assert len(observer()) == 1


def test_shuffled_customer_events_end_in_the_right_state(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller, observer: Any
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    history = [
        stripe_event("customer.created", customer(customer_id, name="v1"), 100),
        stripe_event("customer.updated", customer(customer_id, name="v2"), 200),
        stripe_event("customer.updated", customer(customer_id, name="v3"), 300),
    ]
    random.Random(7).shuffle(history)  # noqa: S311 (a repeatable order, not a secret)
    deliver(poller, *history)
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["name"] == "v3"
    deliver(poller, stripe_event("customer.deleted", customer(customer_id), 400))
    late = stripe_event("customer.updated", customer(customer_id, name="ghost"), 500)  # after deletion: ignored
    deliver(poller, late)
    stored = item(project_stack, moto_endpoint, "CustomersTable", customer_id)
    assert stored["deleted"] is True
    assert stored["name"] == "v3"


def test_an_update_before_the_create_ends_as_the_update(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    deliver(
        poller,
        stripe_event("customer.updated", customer(customer_id, email="new@example.com"), 200),
        stripe_event("customer.created", customer(customer_id, email="old@example.com"), 100),
    )
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["email"] == "new@example.com"


def test_refunds_and_failures_are_projected(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller, observer: Any
) -> None:
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    failed = payment(
        intent_id,
        "requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
    )
    charge = {
        **copy.deepcopy(FIXTURES["charge"]),
        "payment_intent": intent_id,
        "amount_refunded": 500,
        "currency": "eur",
    }
    deliver(
        poller, stripe_event("payment_intent.payment_failed", failed, 100), stripe_event("charge.refunded", charge, 200)
    )
    stored = item(project_stack, moto_endpoint, "PaymentsTable", intent_id)
    assert (stored["failure_reason"], stored["amount_refunded"]) == ("insufficient_funds", 500)
    assert sorted(event["detail-type"] for event in observer()) == ["PaymentFailed", "PaymentRefunded"]


def test_unhandled_types_are_acknowledged(poller: QueuePoller, observer: Any) -> None:
    deliver(poller, stripe_event("plan.created", FIXTURES["event"]["data"]["object"], 100))
    assert poller.poll_once() == 0  # not left on the queue
    assert observer() == []


def test_a_poison_message_ends_in_the_dead_letter_queue_and_its_batch_mates_do_not(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller
) -> None:
    sqs = poller.sqs
    dead = project_stack.template.physical["StripeEventsDeadLetterQueue"]["QueueUrl"]
    good = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}"), 100)
    poison = json.dumps({"id": "evt_poison", "type": "customer.created"})  # no created, no data
    for body in (json.dumps(good), poison):
        sqs.send_message(QueueUrl=poller.queue_url, MessageBody=body)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and poller.poll_once():
        pass
    moved = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
    assert [message["Body"] for message in moved] == [poison]
    assert item(project_stack, moto_endpoint, "CustomersTable", good["data"]["object"]["id"])


def test_end_to_end_from_a_signed_delivery_to_the_projection(  # noqa: PLR0917 (fixtures)
    api: str,
    seeded_secrets: dict[str, Any],
    project_stack: LocalStack,
    moto_endpoint: str,
    poller: QueuePoller,
    observer: Any,
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    body = json.dumps(stripe_event("customer.created", customer(customer_id, email="e2e@example.com"), 100))
    secret = seeded_secrets["StripeSecret"]["webhook_secrets"][0]
    signature = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    for _ in range(2):  # Stripe retries a delivery now and then: the same event twice
        answer = httpx.post(f"{api}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature})
        assert answer.status_code == 200
    poller.drain()
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["email"] == "e2e@example.com"
    assert [event["detail-type"] for event in observer()] == ["CustomerUpserted"]


class FailingOnce:
    """EventBridge that fails its first call (the store going away mid-batch), then recovers."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.failed = False

    def put_events(self, **request: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise ConnectionError("EventBridge unreachable")
        return self.real.put_events(**request)


def test_a_failure_mid_batch_loses_nothing_and_applies_once(
    project_stack: LocalStack, moto_endpoint: str, poller: QueuePoller, observer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    applier = project_stack.function("StripeEventsFunction").module.applier
    monkeypatch.setattr(applier, "to", dataclasses.replace(applier.to, events=FailingOnce(applier.to.events)))
    ids = [f"cus_{uuid.uuid4().hex[:12]}" for _ in range(3)]
    deliver(poller, *(stripe_event("customer.created", customer(customer_id), 100) for customer_id in ids))
    for customer_id in ids:
        assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)
    published = sorted(event["detail"]["customer_id"] for event in observer())
    assert published == sorted(ids)  # the failed one came back and was applied once
