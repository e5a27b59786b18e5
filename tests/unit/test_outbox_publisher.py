"""The outbox's publisher on a stream batch: in order, facts and events published, a failure resumed from itself."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from seawall.webhooks.outbox import OutboxPublisher
from seawall.webhooks.projections import DomainEvent


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


def record(number: int, name: str, image: dict[str, Any]) -> dict[str, Any]:
    return {"eventName": name, "dynamodb": {"SequenceNumber": str(number), "NewImage": image}}


def fact(number: int) -> DomainEvent:
    return DomainEvent(f"stripe:evt_{number}", "integrations.stripe", "CustomerUpserted", {"sequence": number})


def test_a_batch_that_fails_midway_is_resumed_from_the_failed_record(bus: tuple[Any, str, str], aws: str) -> None:
    events, name, url = bus
    batch = [
        record(1, "INSERT", fact(1).outbox_item("aggregate:customers:cus_1")),
        record(2, "INSERT", {"id": {"S": "stripe:evt_2"}, "expires_at": {"N": "1"}}),  # an event's marker
        record(3, "MODIFY", fact(2).outbox_item("aggregate:customers:cus_1")),  # the aggregate's next fact
        record(4, "MODIFY", fact(3).outbox_item("aggregate:customers:cus_1")),
        record(5, "REMOVE", {}),  # a row expiring
    ]
    answer = OutboxPublisher(SecondPutFails(events), name)({"Records": batch})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "3"}]}  # from the record that failed, not the first
    assert received(url, aws) == ["stripe:evt_1"]
    # Lambda retries from the reported record on: nothing before it again.
    assert OutboxPublisher(events, name)({"Records": batch[2:]}) == {"batchItemFailures": []}
    assert received(url, aws) == ["stripe:evt_2", "stripe:evt_3"]
