"""The outbox's publisher on a stream batch: in order, facts and events published, a failure resumed from itself."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from seawall.webhooks.outbox import OutboxPublisher
from seawall.webhooks.projections import DomainEvent
from tests.conftest import json_lines


class SecondPutFails:
    """EventBridge as the publisher's client, except that the second PutEvents fails (an outage in the batch)."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def put_events(self, **request: Any) -> Any:
        self.calls += 1
        if self.calls == 2:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}
        return self.real.put_events(**request)


@pytest.fixture
def bus(aws: str) -> tuple[Any, str, str]:
    """A bus whose every event reaches a queue: (the events client, the bus, the queue's URL)."""
    events, sqs = boto3.client("events", endpoint_url=aws), boto3.client("sqs", endpoint_url=aws)
    name = f"bus-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    url = sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=name, EventPattern=json.dumps({"source": [{"prefix": "integrations."}]}))
    events.put_targets(Rule="all", EventBusName=name, Targets=[{"Id": "queue", "Arn": arn}])
    return events, name, url


def received(url: str, aws: str) -> list[str]:
    sqs, ids = boto3.client("sqs", endpoint_url=aws), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        ids += [json.loads(message["Body"])["detail"]["event_id"] for message in batch]
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return ids


def record(number: int, name: str, image: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    images = {"NewImage": image} | ({"OldImage": old} if old is not None else {})
    return {"eventName": name, "dynamodb": {"SequenceNumber": str(number), **images}}


def aggregate(sequence: int, **extra: Any) -> dict[str, Any]:
    """A customer's item holding its ``sequence``-th fact, as the stream gives it."""
    return {
        "id": {"S": "cus_1"},
        "email": {"S": "a@example.com"},
        "fact_sequence": {"N": str(sequence)},
        "fact_event_id": {"S": f"stripe:evt_{sequence}"},
        "fact_source": {"S": "integrations.stripe"},
        "fact_type": {"S": "CustomerUpserted"},
        "fact_detail": {"S": json.dumps({"customer_id": "cus_1", "changed": True})},
        **extra,
    }


def test_a_batch_that_fails_midway_is_resumed_from_the_failed_record(
    bus: tuple[Any, str, str], aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    events, name, url = bus
    provider_event = DomainEvent("acme:msg_1", "integrations.acme", "ProviderEventReceived", {"type": "x"})
    batch = [
        record(1, "INSERT", aggregate(1)),
        record(2, "INSERT", {"id": {"S": "stripe:evt_9"}, "expires_at": {"N": "1"}}),  # a busy aggregate's marker
        record(3, "MODIFY", aggregate(2), aggregate(1)),  # the aggregate's next fact
        record(4, "INSERT", provider_event.outbox_item()),  # an event with no projection
        record(5, "MODIFY", aggregate(2, overflow={"BOOL": True}), aggregate(2)),  # tidying: no new fact
        record(6, "MODIFY", aggregate(3), aggregate(2)),
        record(7, "REMOVE", {}),  # a row expiring
    ]
    answer = OutboxPublisher(SecondPutFails(events), name)({"Records": batch})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "3"}]}  # from the record that failed, not the first
    assert received(url, aws) == ["stripe:evt_1"]
    assert published_counts(capsys) == [("CustomerUpserted", 1.0)]  # what the failed batch did publish
    # Lambda retries from the reported record on: nothing before it again.
    assert OutboxPublisher(events, name)({"Records": batch[2:]}) == {"batchItemFailures": []}
    assert received(url, aws) == ["stripe:evt_2", "acme:msg_1", "stripe:evt_3"]
    # Counted once per batch and detail type: one line each, not one an event.
    assert sorted(published_counts(capsys)) == [("CustomerUpserted", 2.0), ("ProviderEventReceived", 1.0)]


def published_counts(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, float]]:
    lines = [line for line in json_lines(capsys.readouterr().out) if "DomainEventPublished" in line]
    return [(line["detail_type"], sum(line["DomainEventPublished"])) for line in lines]


def test_a_fact_is_published_as_its_item_holds_it_numbered_by_the_count(bus: tuple[Any, str, str], aws: str) -> None:
    events, name, url = bus
    OutboxPublisher(events, name)({"Records": [record(1, "MODIFY", aggregate(4), aggregate(3))]})
    sqs = boto3.client("sqs", endpoint_url=aws)
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("integrations.stripe", "CustomerUpserted")
    assert event["detail"] == {"customer_id": "cus_1", "changed": True, "sequence": 4, "event_id": "stripe:evt_4"}


def test_an_item_that_counts_no_new_fact_or_holds_none_publishes_nothing() -> None:
    held = aggregate(2)
    forgotten = {name: value for name, value in held.items() if not name.startswith("fact_") or name == "fact_sequence"}
    assert DomainEvent.from_image(held, held) is None  # tidied: the count did not move
    assert DomainEvent.from_image(forgotten, held) is None  # a stale fact taken off a closed aggregate
    assert DomainEvent.from_image({"id": {"S": "stripe:evt_1"}, "expires_at": {"N": "1"}}) is None  # a marker
    assert DomainEvent.from_image(held, aggregate(1)) is not None
    assert DomainEvent.from_image(held) is not None  # a new item
