"""Applying Stripe events to the projections and their facts (in DynamoDB on moto): order-independent, shape-proof."""

from __future__ import annotations

import copy
import itertools
import uuid
from typing import Any

import boto3
import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.sandboxes.stripe import FIXTURES
from local.stack import LocalStack
from seawall.aws import aws_client
from seawall.providers.stripe.events import StripeEventApplier, Tables
from seawall.providers.stripe.webhooks import StripeEvent
from seawall.webhooks.projections import DomainEvent, Projector
from seawall.webhooks.projections import projection as project
from tests.support.stripe_shapes import shape


@pytest.fixture
def tables(project_stack: LocalStack, moto_endpoint: str) -> dict[str, Any]:
    physical = project_stack.template.physical
    dynamodb = boto3.resource("dynamodb", endpoint_url=moto_endpoint)
    return {name: dynamodb.Table(physical[name]["Ref"]) for name in ("CustomersTable", "PaymentsTable")}


@pytest.fixture
def applier(project_stack: LocalStack) -> StripeEventApplier:
    physical = project_stack.template.physical
    return StripeEventApplier(
        Projector(aws_client("dynamodb"), physical["OutboxTable"]["Ref"]),
        Tables(customers=physical["CustomersTable"]["Ref"], payments=physical["PaymentsTable"]["Ref"]),
    )


class Facts:
    """The facts a table's stream brings from now on, read as the publisher reads them, by aggregate."""

    def __init__(self, table: Any) -> None:
        self.streams = boto3.client("dynamodbstreams", endpoint_url=table.meta.client.meta.endpoint_url)
        arn = table.meta.client.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterators = [
            self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            for shard in shards
        ]
        self.by_key: dict[str, list[dict[str, Any]]] = {}

    def of(self, key: str) -> list[dict[str, Any]]:
        """Every fact of aggregate ``key`` so far (the detail as a subscriber reads it), in stream order."""
        for index in range(len(self.iterators)):
            while True:
                page = self.streams.get_records(ShardIterator=self.iterators[index])
                self.iterators[index] = page["NextShardIterator"]
                for found in page["Records"]:
                    images = found["dynamodb"]
                    fact = DomainEvent.from_image(images.get("NewImage", {}), images.get("OldImage"))
                    if fact is not None:
                        held = self.by_key.setdefault(images["Keys"]["id"]["S"], [])
                        held.append({**fact.detail, "event_id": fact.event_id, "detail_type": fact.detail_type})
                if not page["Records"]:
                    break
        return self.by_key.get(key, [])


def event(kind: str, obj: dict[str, Any], created: int = 1_795_000_000) -> StripeEvent:
    envelope = {**copy.deepcopy(FIXTURES["event"]), "id": f"evt_{uuid.uuid4().hex}", "type": kind, "created": created}
    return StripeEvent.model_validate({**envelope, "data": {"object": obj}})


def projection(table: Any, key: str) -> dict[str, Any]:
    """The item as the product reads it (without the ordering, fact and marker bookkeeping)."""
    found: dict[str, Any] = table.get_item(Key={"id": key}).get("Item", {})
    return project(found)


def customer_sequence(customer_id: str) -> list[StripeEvent]:
    person = {**FIXTURES["customer"], "id": customer_id}
    return [
        event("customer.created", {**person, "name": "first"}),
        event("customer.updated", {**person, "name": "second", "email": "new@example.com"}),
        event("customer.deleted", person),
    ]


def payment_sequences(intent_id: str) -> list[list[StripeEvent]]:
    intent = {**FIXTURES["payment_intent"], "id": intent_id, "currency": "eur"}
    declined = {"code": "card_declined", "decline_code": "insufficient_funds"}
    charge = {**FIXTURES["charge"], "payment_intent": intent_id, "currency": "eur"}
    created = event("payment_intent.created", {**intent, "status": "requires_payment_method"})
    processing = event("payment_intent.processing", {**intent, "status": "processing"})
    return [
        [
            created,
            processing,
            event(
                "payment_intent.payment_failed",
                {**intent, "status": "requires_payment_method", "last_payment_error": declined},
            ),
            event("payment_intent.succeeded", {**intent, "status": "succeeded"}),
        ],
        [created, processing, event("payment_intent.canceled", {**intent, "status": "canceled"})],
        [
            event("payment_intent.succeeded", {**intent, "status": "succeeded"}),
            event("charge.refunded", {**charge, "amount_refunded": 500}),
            event("charge.refunded", {**charge, "amount_refunded": 1000}),
        ],
    ]


def _aspect(item: StripeEvent) -> str:
    return "refund" if item.type == "charge.refunded" else "state"


def _on(item: StripeEvent, key: str) -> StripeEvent:
    """The same event on object ``key``, under a fresh random id."""
    obj = copy.deepcopy(item.payload)
    obj["payment_intent" if item.type == "charge.refunded" else "id"] = key
    return StripeEvent.model_validate({**item.model_dump(), "id": f"evt_{uuid.uuid4().hex}", "data": {"object": obj}})


def converges(applier: StripeEventApplier, table: Any, history: list[StripeEvent], key: str) -> None:
    """Every order of ``history`` (one second, random ids) ends in one projection, and records each event once.

    Each event applied is one fact, numbered 1, 2, 3... in the order its aggregate recorded them, saying
    whether it changed the projection; a second delivery changes nothing and records nothing.
    """
    finals, winners = [], []
    stream = Facts(table)
    for number, order in enumerate(itertools.permutations(range(len(history)))):
        object_key = f"{key}-{number}"
        copies = {index: _on(history[index], object_key) for index in order}
        for index in order:
            applied = applier.apply(copies[index])
            fact = stream.of(object_key)[-1]
            assert (fact["stripe_event_id"], fact["changed"]) == (copies[index].id, applied == "changed")
        facts = list(stream.of(object_key))
        assert [fact["sequence"] for fact in facts] == list(range(1, len(order) + 1))
        snapshot = projection(table, object_key)
        for index in order:  # every event delivered again: no new effect, no new fact
            assert applier.apply(copies[index]) == "duplicate"
        assert projection(table, object_key) == snapshot
        assert stream.of(object_key) == facts
        finals.append({name: value for name, value in snapshot.items() if name != "id"})
        # The events whose writes stand: the last fact of each aspect that changed the projection.
        standing = {}
        for index, fact in zip(order, facts, strict=True):
            if fact["changed"]:
                standing[_aspect(history[index])] = index
        winners.append(standing)
    assert all(final == finals[0] for final in finals), finals
    assert all(standing == winners[0] for standing in winners), winners  # the final state's event changed it


def test_same_second_customer_events_converge_in_any_order(applier: StripeEventApplier, tables: dict[str, Any]) -> None:
    key = f"cus_{uuid.uuid4().hex[:12]}"
    converges(applier, tables["CustomersTable"], customer_sequence(key), key)


@pytest.mark.parametrize("sequence", range(3), ids=["failed then succeeded", "canceled", "refunds"])
def test_same_second_payment_events_converge_in_any_order(
    applier: StripeEventApplier, tables: dict[str, Any], sequence: int
) -> None:
    key = f"pi_{uuid.uuid4().hex[:14]}"
    history = payment_sequences(key)[sequence]
    converges(applier, tables["PaymentsTable"], history, key)


def test_within_one_second_later_lifecycle_states_win(applier: StripeEventApplier, tables: dict[str, Any]) -> None:
    key = f"pi_{uuid.uuid4().hex[:14]}"
    failed, succeeded = payment_sequences(key)[0][2:]
    for item in (succeeded, failed):  # the failure arrives last, but happened first
        applier.apply(item)
    assert projection(tables["PaymentsTable"], key)["status"] == "succeeded"


HANDLED = {
    "customer.created": (stripe.Customer, "cus_"),
    "customer.updated": (stripe.Customer, "cus_"),
    "customer.deleted": (stripe.Customer, "cus_"),
    "payment_intent.created": (stripe.PaymentIntent, "pi_"),
    "payment_intent.processing": (stripe.PaymentIntent, "pi_"),
    "payment_intent.payment_failed": (stripe.PaymentIntent, "pi_"),
    "payment_intent.succeeded": (stripe.PaymentIntent, "pi_"),
    "payment_intent.canceled": (stripe.PaymentIntent, "pi_"),
    "charge.refunded": (stripe.Charge, "ch_"),
}


@st.composite
def stripe_events(draw: st.DrawFn) -> StripeEvent:
    kind = draw(st.sampled_from(sorted(HANDLED)))
    cls, prefix = HANDLED[kind]
    obj = draw(shape(cls))
    # A new object every time (not drawn: hypothesis would repeat its ids); Stripe's ids are never empty.
    obj["id"] = f"{prefix}{uuid.uuid4().hex}"
    if kind == "charge.refunded":  # its payment: none, an id, or the expanded object
        intent = f"pi_{uuid.uuid4().hex}"
        obj["payment_intent"] = draw(st.sampled_from([None, intent, {"id": intent, "object": "payment_intent"}]))
    created = draw(st.integers(min_value=0, max_value=10**12 - 1))  # an order key holds twelve digits
    return event(kind, obj, created)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(item=stripe_events())
def test_every_shape_stripe_allows_is_applied(
    applier: StripeEventApplier, tables: dict[str, Any], item: StripeEvent
) -> None:
    assert applier.apply(item) == "changed"  # a new object: the write lands, nothing raises
    obj = item.payload
    if item.type.startswith("customer."):
        stored = projection(tables["CustomersTable"], obj["id"])
        assert stored["deleted"] is (item.type == "customer.deleted")
    elif item.type == "charge.refunded":
        key = obj["payment_intent"]["id"] if isinstance(obj["payment_intent"], dict) else obj["payment_intent"]
        stored = projection(tables["PaymentsTable"], key or obj["id"])
        assert stored["amount_refunded"] == (obj["amount_refunded"] or 0)
    else:
        stored = projection(tables["PaymentsTable"], obj["id"])
        assert stored["status"] == obj["status"]
