"""The Stripe events processor through the local runtime: each event applied once, its domain event published once."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
import uuid
from typing import Any

import boto3
import httpx
import stripe

from local.aws import MotoServer
from local.eventsource import QueuePoller, sqs_record
from local.sandboxes.stripe import FIXTURES
from local.stack import LocalStack
from seawall.webhooks.projections import projection
from tests.support.stack import STRIPE_ATTRIBUTES, Pipeline


def stripe_event(kind: str, obj: dict[str, Any], created: int, event_id: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(FIXTURES["event"])
    event.update(id=event_id or f"evt_{uuid.uuid4().hex[:16]}", type=kind, created=created, data={"object": obj})
    return event


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
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    event = stripe_event("payment_intent.succeeded", payment(intent_id, "succeeded", amount=2500, currency="eur"), 100)
    pipeline.deliver(event)
    stored = item(project_stack, moto_endpoint, "PaymentsTable", intent_id)
    assert (stored["status"], stored["amount"], stored["currency"]) == ("succeeded", 2500, "eur")
    (published,) = pipeline.published()
    assert published["detail-type"] == "PaymentSucceeded"
    assert published["detail"]["payment_intent_id"] == intent_id
    assert published["detail"]["event_id"] == f"stripe:{event['id']}"  # stable: subscribers deduplicate on it


def test_duplicates_in_sequence_have_one_effect(pipeline: Pipeline) -> None:
    event = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}", email="d@example.com"), 100)
    pipeline.deliver(event, event, event)
    assert [published["detail-type"] for published in pipeline.published()] == ["CustomerUpserted"]


def test_concurrent_duplicates_in_separate_containers_make_one_write_and_one_event(
    project_stack: LocalStack, moto_server: MotoServer, pipeline: Pipeline
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    event = stripe_event("customer.created", customer(customer_id), 100)
    function = project_stack.function("StripeEventsFunction")
    queue_arn = project_stack.template.physical["StripeEventsQueue"]["Arn"]
    message = {
        "MessageId": "",
        "ReceiptHandle": "r",
        "Body": json.dumps(event),
        "MD5OfBody": "",
        "MessageAttributes": {name: {"DataType": "String", "StringValue": v} for name, v in STRIPE_ATTRIBUTES.items()},
    }
    writes_before = len(moto_server.iam.calls)
    answers: list[Any] = []

    def deliver(copy_number: int) -> None:  # as SQS would hand the same event to several pollers
        batch = {"Records": [sqs_record({**message, "MessageId": f"m-{copy_number}"}, queue_arn)]}
        answers.append(function.run(batch))

    threads = [threading.Thread(target=deliver, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer.error is None for answer in answers)
    assert function.containers > 1  # they did run side by side
    table = project_stack.template.physical["CustomersTable"]["Arn"]
    landed = [
        call
        for call in moto_server.iam.calls[writes_before:]
        if call.principal == project_stack.principal("StripeEventsFunction")
        and call.resource == table
        and call.action == "dynamodb:UpdateItem"
        and call.status == 200
    ]
    assert len(landed) == 1
    pipeline.settle()  # the copies refused as "in progress" come back and find it done
    assert [published["detail"]["customer_id"] for published in pipeline.published()] == [customer_id]


def test_sixty_concurrent_deliveries_of_one_event_make_one_write_and_one_domain_event(
    api: str, seeded_secrets: dict[str, Any], project_stack: LocalStack, moto_server: MotoServer, pipeline: Pipeline
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    body = json.dumps(stripe_event("customer.created", customer(customer_id), 100))
    secret = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    signature = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    statuses: list[int] = []

    def deliver() -> None:
        answer = httpx.post(f"{api}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}, timeout=60)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=deliver) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 60
    start = len(moto_server.iam.calls)
    pipeline.stripe_events.drain(seconds=120, concurrently=True)  # batches side by side, as Lambda's pollers run them
    pipeline.outbox.drain()
    table = project_stack.template.physical["CustomersTable"]["Arn"]
    writes = [
        call
        for call in moto_server.iam.calls[start:]
        if call.resource == table and call.action == "dynamodb:UpdateItem" and call.status == 200
    ]
    assert len(writes) == 1
    assert [event["detail"]["customer_id"] for event in pipeline.published()] == [customer_id]


def test_shuffled_customer_events_end_in_the_right_state(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    history = [
        stripe_event("customer.created", customer(customer_id, name="v1"), 100),
        stripe_event("customer.updated", customer(customer_id, name="v2"), 200),
        stripe_event("customer.updated", customer(customer_id, name="v3"), 300),
    ]
    random.Random(7).shuffle(history)  # noqa: S311 (a repeatable order, not a secret)
    pipeline.deliver(*history)
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["name"] == "v3"
    pipeline.deliver(stripe_event("customer.deleted", customer(customer_id), 400))
    late = stripe_event("customer.updated", customer(customer_id, name="ghost"), 500)  # after deletion: ignored
    pipeline.deliver(late)
    stored = item(project_stack, moto_endpoint, "CustomersTable", customer_id)
    assert stored["fact_sequence"] == 5  # five facts recorded, the late update's too
    assert projection(stored) == {"id": customer_id, "deleted": True}  # as Stripe's deleted customer: its id
    assert "ghost" not in json.dumps(stored, default=str)  # nor in the facts it held: the late one was taken off
    published = pipeline.published()
    late_fact = next(event for event in published if event["detail"]["stripe_event_id"] == late["id"])
    assert (late_fact["detail-type"], late_fact["detail"]["changed"]) == ("CustomerUpserted", False)


def test_a_same_second_update_and_delete_end_deleted_in_either_order(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    for first in ("customer.updated", "customer.deleted"):
        customer_id = f"cus_{uuid.uuid4().hex[:12]}"
        # Ids that sort the delete first: ordering by (created, id) alone would let the update win.
        updated = stripe_event("customer.updated", customer(customer_id, name="late"), 500, f"evt_z{uuid.uuid4().hex}")
        deleted = stripe_event("customer.deleted", customer(customer_id), 500, f"evt_a{uuid.uuid4().hex}")
        pipeline.deliver(*((updated, deleted) if first == "customer.updated" else (deleted, updated)))
        assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["deleted"] is True
        kinds = [published["detail-type"] for published in pipeline.published()]
        assert kinds.count("CustomerDeleted") == 1


def test_refunds_and_failures_are_projected(project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline) -> None:
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
    pipeline.deliver(
        stripe_event("payment_intent.payment_failed", failed, 100), stripe_event("charge.refunded", charge, 200)
    )
    stored = item(project_stack, moto_endpoint, "PaymentsTable", intent_id)
    assert (stored["failure_reason"], stored["amount_refunded"]) == ("insufficient_funds", 500)
    assert sorted(event["detail-type"] for event in pipeline.published()) == ["PaymentFailed", "PaymentRefunded"]


def test_a_refund_of_a_charge_without_a_payment_intent_is_projected_not_dead_lettered(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    charge_id = f"ch_{uuid.uuid4().hex[:14]}"
    charge = {**copy.deepcopy(FIXTURES["charge"]), "id": charge_id, "payment_intent": None, "amount_refunded": 300}
    pipeline.deliver(stripe_event("charge.refunded", charge, 100))
    assert item(project_stack, moto_endpoint, "PaymentsTable", charge_id)["amount_refunded"] == 300
    (published,) = pipeline.published()
    assert (published["detail"]["charge_id"], published["detail"]["payment_intent_id"]) == (charge_id, None)


def test_unhandled_types_are_acknowledged(pipeline: Pipeline) -> None:
    pipeline.deliver(stripe_event("plan.created", FIXTURES["event"]["data"]["object"], 100))
    assert pipeline.stripe_events.poll_once() == 0  # not left on the queue
    assert pipeline.published() == []


def test_a_message_that_is_no_event_is_logged_once_counted_and_dead_lettered(
    project_stack: LocalStack, pipeline: Pipeline, capfd: Any
) -> None:
    good = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}"), 100)
    poison = json.dumps({"id": "evt_poison", "type": "customer.created", "secret_looking": "sk_live_notinlogs0"})
    pipeline.send(pipeline.stripe_events, json.dumps(good), poison, attributes=STRIPE_ATTRIBUTES)
    QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10, retry_delay=0).drain()
    dead = project_stack.template.physical["StripeEventsDeadLetterQueue"]["QueueUrl"]
    moved = pipeline.sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
    assert [message["Body"] for message in moved] == [poison]
    for message in moved:
        pipeline.sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
    output = capfd.readouterr().out
    failures = [json.loads(line) for line in output.splitlines() if '"record failed' in line]
    assert len(failures) == 5  # once per receive, until the redrive policy moved it
    assert {(failure["event_id"], failure["event_type"], failure["error"]) for failure in failures} == {
        ("evt_poison", "customer.created", "WebhookPayloadError")
    }
    assert "sk_live_notinlogs0" not in output  # never the payload
    assert output.count('"RecordFailed"') >= 5


def test_end_to_end_from_a_signed_delivery_to_the_domain_event(
    api: str, seeded_secrets: dict[str, Any], project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    body = json.dumps(stripe_event("customer.created", customer(customer_id, email="e2e@example.com"), 100))
    secret = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    signature = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    for _ in range(2):  # Stripe retries a delivery now and then: the same event twice
        answer = httpx.post(f"{api}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature})
        assert answer.status_code == 200
    pipeline.settle()
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["email"] == "e2e@example.com"
    assert [event["detail-type"] for event in pipeline.published()] == ["CustomerUpserted"]


def test_with_eventbridge_down_no_domain_event_is_lost_nor_sent_twice(
    moto_server: MotoServer, pipeline: Pipeline
) -> None:
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    failed = stripe_event("payment_intent.payment_failed", payment(intent_id, "requires_payment_method"), 100)
    succeeded = stripe_event("payment_intent.succeeded", payment(intent_id, "succeeded"), 200)
    moto_server.down.add("events")
    pipeline.queue(failed)
    pipeline.stripe_events.drain()
    pipeline.outbox.poll_once()  # the publisher tries, and fails: the event stays in the outbox
    pipeline.queue(succeeded)  # a newer event is applied meanwhile
    pipeline.stripe_events.drain()
    for _ in range(3):
        pipeline.outbox.poll_once()
    assert pipeline.published() == []
    moto_server.down.discard("events")  # EventBridge is back
    pipeline.settle()
    published = pipeline.published()
    assert sorted(event["detail-type"] for event in published) == ["PaymentFailed", "PaymentSucceeded"]
    assert len({event["detail"]["event_id"] for event in published}) == 2


def test_an_event_from_stripes_eventbridge_destination_and_by_webhook_has_one_effect(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    event = stripe_event("customer.created", customer(customer_id, email="eb@example.com"), 100)
    envelope = {  # as Stripe's Amazon EventBridge destination puts it on the partner bus
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event["type"],
        "source": "aws.partner/stripe.com/ed_test_61Qx",
        "account": "123456789012",
        "time": "2026-11-27T08:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": event,
    }
    pipeline.send(pipeline.stripe_events, json.dumps(envelope))  # EventBridge sets no message attributes
    pipeline.queue(event)
    pipeline.settle()
    assert item(project_stack, moto_endpoint, "CustomersTable", customer_id)["email"] == "eb@example.com"
    assert [published["detail"]["customer_id"] for published in pipeline.published()] == [customer_id]


def signed_post(api: str, seeded_secrets: dict[str, Any], event: dict[str, Any]) -> httpx.Response:
    body = json.dumps(event)
    secret = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    signature = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    return httpx.post(f"{api}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}, timeout=30)


def dead_letters(project_stack: LocalStack, pipeline: Pipeline) -> list[str]:
    """What StripeEventsDeadLetterQueue holds, taken off it."""
    url = project_stack.template.physical["StripeEventsDeadLetterQueue"]["QueueUrl"]
    bodies = []
    while batch := pipeline.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [message["Body"] for message in batch]
        for message in batch:
            pipeline.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_what_the_receiver_accepts_is_what_the_processor_applies(
    api: str, seeded_secrets: dict[str, Any], project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    """A webhook is read as Stripe's event, never as the EventBridge envelope it may also look like."""
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    malformed = stripe_event("payment_intent.succeeded", {"id": intent_id, "status": "succeeded"}, 100)
    disguised = {
        **stripe_event("invoice.paid", {"id": "in_1"}, 100),
        "detail-type": "payment_intent.succeeded",
        "detail": malformed,
    }
    assert signed_post(api, seeded_secrets, disguised).status_code == 200  # a valid event of a type not handled
    QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10, retry_delay=0).drain()
    pipeline.settle()
    assert item(project_stack, moto_endpoint, "PaymentsTable", intent_id) == {}  # the detail is not an event here
    assert pipeline.published() == []
    assert dead_letters(project_stack, pipeline) == []
    envelope = {"detail-type": "customer.created", "source": "aws.partner/stripe.com/ed_1", "detail": malformed}
    assert signed_post(api, seeded_secrets, envelope).status_code == 400  # the webhook route takes Stripe's shape only


def test_an_eventbridge_envelope_whose_detail_is_no_event_is_dead_lettered(
    project_stack: LocalStack, pipeline: Pipeline
) -> None:
    malformed = stripe_event("payment_intent.succeeded", {"id": "pi_x", "status": "succeeded"}, 100)
    envelope = json.dumps({"detail-type": "x", "source": "aws.partner/stripe.com/ed_1", "detail": malformed})
    pipeline.send(pipeline.stripe_events, envelope)
    QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10, retry_delay=0).drain()
    assert dead_letters(project_stack, pipeline) == [envelope]


def test_an_event_dated_in_the_future_is_refused_at_the_edge(api: str, seeded_secrets: dict[str, Any]) -> None:
    future = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}"), 10**20)
    assert signed_post(api, seeded_secrets, future).status_code == 400
    soon = stripe_event("customer.created", customer(f"cus_{uuid.uuid4().hex[:12]}"), int(time.time()) + 3600)
    assert signed_post(api, seeded_secrets, soon).status_code == 400


def test_refunds_too_large_for_twelve_digits_still_order_by_amount(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    intent_id = f"pi_{uuid.uuid4().hex[:14]}"
    charge = {**copy.deepcopy(FIXTURES["charge"]), "payment_intent": intent_id, "currency": "eur"}
    smaller = stripe_event("charge.refunded", {**charge, "amount_refunded": 999_999_999_999}, 100)
    larger = stripe_event("charge.refunded", {**charge, "amount_refunded": 10**12}, 100)
    pipeline.deliver(larger, smaller)
    assert item(project_stack, moto_endpoint, "PaymentsTable", intent_id)["amount_refunded"] == 10**12
    published = {event["detail"]["amount_refunded"]: event["detail"]["changed"] for event in pipeline.published()}
    assert published == {10**12: True, 999_999_999_999: False}


def test_every_fact_is_published_once_in_sequence_whatever_the_order_of_arrival(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    """Twenty payments, each failed then succeeded, the events shuffled and applied by containers side by side."""
    histories = {}
    for _ in range(20):
        intent_id = f"pi_{uuid.uuid4().hex[:14]}"
        histories[intent_id] = [
            stripe_event("payment_intent.created", payment(intent_id, "requires_payment_method"), 100),
            stripe_event("payment_intent.payment_failed", payment(intent_id, "requires_payment_method"), 101),
            stripe_event("payment_intent.succeeded", payment(intent_id, "succeeded"), 102),
        ]
    events = [event for history in histories.values() for event in history]
    random.Random(22).shuffle(events)  # noqa: S311 (a repeatable order, not a secret)
    pipeline.queue(*events)
    pipeline.stripe_events.drain(seconds=120, concurrently=True)
    pipeline.outbox.drain()
    published: dict[str, list[dict[str, Any]]] = {intent_id: [] for intent_id in histories}
    for event in pipeline.published():
        published[event["detail"]["payment_intent_id"]].append({**event["detail"], "type": event["detail-type"]})
    for intent_id, history in histories.items():
        facts = published[intent_id]
        assert [fact["sequence"] for fact in facts] == [1, 2, 3]  # on the bus in the order they were recorded
        assert sorted(fact["stripe_event_id"] for fact in facts) == sorted(event["id"] for event in history)
        assert item(project_stack, moto_endpoint, "PaymentsTable", intent_id)["status"] == "succeeded"
        assert sorted(fact["type"] for fact in facts) == ["PaymentCreated", "PaymentFailed", "PaymentSucceeded"]
    assert sum(not fact["changed"] for facts in published.values() for fact in facts) > 0  # some arrived late
