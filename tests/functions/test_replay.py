"""Replaying domain events: the archive on DomainEventBus keeps every published event for its subscribers."""

from __future__ import annotations

import datetime as dt
import uuid

from local.aws import aws_client
from local.stack import LocalStack
from tests.functions.test_stripe_events import customer, stripe_event
from tests.support.stack import Pipeline


def test_a_replay_sends_the_archived_domain_events_again(
    project_stack: LocalStack, moto_endpoint: str, pipeline: Pipeline
) -> None:
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    customer_id = f"cus_{uuid.uuid4().hex[:12]}"
    pipeline.deliver(stripe_event("customer.created", customer(customer_id, email="r@example.com"), 100))
    (original,) = pipeline.published()

    events = aws_client("events", moto_endpoint)
    archive = project_stack.template.physical["DomainEventArchive"]
    bus = project_stack.template.physical["DomainEventBus"]
    assert events.describe_archive(ArchiveName=archive["ArchiveName"])["EventSourceArn"] == bus["Arn"]
    replay = f"replay-{uuid.uuid4().hex[:8]}"
    events.start_replay(  # as docs/operations.md's "Replaying domain events" does it, for a time range
        ReplayName=replay,
        EventSourceArn=archive["Arn"],
        EventStartTime=started,
        EventEndTime=dt.datetime.now(dt.UTC),
        Destination={"Arn": bus["Arn"]},
    )
    replayed = [
        event for event in pipeline.published() if event["detail"]["event_id"] == original["detail"]["event_id"]
    ]
    assert replayed, "the archived event was not replayed"
    assert replayed[0]["detail"] == original["detail"]  # subscribers deduplicate on detail.event_id
    assert replayed[0]["replay-name"] == replay
