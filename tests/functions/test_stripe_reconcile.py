"""Reconciliation: events the webhooks missed reach the processor from Stripe's Events API, each applied once.

A stack of its own (own tables, queues and state) with a Stripe sandbox of its
own that delivers its events to the stack's gateway, dropping a share; the
reconciliation function runs as the schedule would run it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from local.aws import MotoServer, aws_client
from local.eventsource import QueuePoller
from local.gateway import Gateway
from local.sandboxes.stripe import StripeSandbox, WebhookEndpoint
from local.stack import LocalStack
from tests.support.stack import ROOT


@dataclass
class Reconciled:
    stack: LocalStack
    sandbox: StripeSandbox
    processor: QueuePoller
    dynamodb: Any

    def deliver(self, customers: int, drop: float) -> list[str]:
        """Make customers in the sandbox; their events go to the gateway, ``drop`` of them lost."""
        if self.sandbox.webhook is not None:
            self.sandbox.webhook = dataclasses.replace(self.sandbox.webhook, drop=drop)
        made = self.sandbox.make_customers(customers)
        while self.sandbox.deliveries()["pending"]:
            time.sleep(0.05)
        return made

    def reconcile(self, mode: str = "events") -> dict[str, Any]:
        answer: dict[str, Any] = self.stack.function("StripeReconcileFunction").invoke({"mode": mode})
        return answer

    def queued(self) -> list[str]:
        """The event ids waiting on StripeEventsQueue (taken off it)."""
        sqs, ids = aws_client("sqs", self.stack.aws_endpoint), []
        url = self.processor.queue_url
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            ids += [json.loads(message["Body"])["id"] for message in batch]
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        return ids

    def projected(self) -> set[str]:
        table = self.stack.template.physical["CustomersTable"]["Ref"]
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="id")
        return {item["id"]["S"] for page in pages for item in page["Items"]}

    def outbox_events(self) -> list[str]:
        table = self.stack.template.physical["OutboxTable"]["Ref"]
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=table)
        return [item["id"]["S"] for page in pages for item in page["Items"]]


def _stack(moto_server: MotoServer, seeded_secrets: dict[str, Any], **environment: str) -> Iterator[Reconciled]:
    sandbox = StripeSandbox({seeded_secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    overrides = {"AWS::StackName": f"reconcile-{uuid.uuid4().hex[:8]}"}
    stack = LocalStack(
        ROOT / "template.yaml",
        moto_server.endpoint,
        overrides,
        {"STRIPE_API_BASE": sandbox.url, "STRIPE_REQUESTS_PER_SECOND": "1000", **environment},
    )
    stack.provision(seeded_secrets, moto_server.iam)
    gateway = Gateway(stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    secret = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    sandbox.webhook = WebhookEndpoint(f"http://127.0.0.1:{gateway.port}/webhooks/stripe", secret)
    yield Reconciled(
        stack,
        sandbox,
        QueuePoller(stack, "StripeEventsFunction", "StripeEventsQueue", 10),
        aws_client("dynamodb", moto_server.endpoint),
    )
    gateway.shutdown()
    stack.stop()
    sandbox.stop()


@pytest.fixture
def reconciled(moto_server: MotoServer, seeded_secrets: dict[str, Any]) -> Iterator[Reconciled]:
    yield from _stack(moto_server, seeded_secrets)


@pytest.fixture
def short_runs(moto_server: MotoServer, seeded_secrets: dict[str, Any]) -> Iterator[Reconciled]:
    # Seven seconds a run, every call held to it, and no page starts with less than 6 left (an AWS call needs 4,
    # its connect and read timeouts): a run has room for a few pages, and a page may be cut short.
    yield from _stack(moto_server, seeded_secrets, SYNC_RUN_SECONDS="7", SYNC_PAGE_SECONDS="6")


def test_missed_deliveries_are_reconciled_and_each_event_applied_once(reconciled: Reconciled) -> None:
    made = reconciled.deliver(150, drop=0.3)
    reconciled.processor.drain(60)
    lost = reconciled.sandbox.deliveries()["undelivered"]
    assert 0 < lost < 150
    assert len(reconciled.projected() & set(made)) == 150 - lost

    report = reconciled.reconcile()
    assert (report["outcome"], report["records"]) == ("caught-up", 150)
    reconciled.processor.drain(60)
    assert reconciled.projected() >= set(made)
    outbox = reconciled.outbox_events()
    assert len(outbox) == len(set(outbox)) == 150  # one domain event per event, though 70% came twice

    again = reconciled.reconcile()
    assert (again["outcome"], again["records"]) == ("caught-up", 0)  # the cursor is at the newest event
    newer = reconciled.deliver(15, drop=0.3)
    assert reconciled.reconcile()["records"] == 15
    reconciled.processor.drain(60)
    assert reconciled.projected() >= set(newer)


def test_undelivered_events_are_queued_again(reconciled: Reconciled) -> None:
    reconciled.sandbox.webhook = WebhookEndpoint("http://127.0.0.1:9/nowhere", "whsec_unused")  # every delivery fails
    made = reconciled.deliver(30, drop=0.0)
    report = reconciled.reconcile("undelivered")
    assert (report["outcome"], report["records"]) == ("caught-up", 30)
    reconciled.processor.drain(60)
    assert reconciled.projected() >= set(made)


def test_runs_cut_short_or_started_together_resume_and_skip_nothing(short_runs: Reconciled) -> None:
    short_runs.sandbox.webhook = None
    short_runs.deliver(450, drop=1.0)  # nine pages after the scan back
    rounds: list[list[str]] = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(30):  # each round two runs at once, as a schedule firing during a manual run
            rounds.append([answer["outcome"] for answer in pool.map(lambda _: short_runs.reconcile(), range(2))])
            if "caught-up" in rounds[-1]:
                break
    assert any("lease-held" in outcomes for outcomes in rounds)  # the second run found the first's lease
    outcomes = [outcome for pair in rounds for outcome in pair if outcome != "lease-held"]
    assert "out-of-time" in outcomes
    assert outcomes[-1] == "caught-up"
    queued = short_runs.queued()  # a page cut short is queued again by the next run: the processor dedupes
    assert set(queued) == {event["id"] for event in short_runs.sandbox.events}
