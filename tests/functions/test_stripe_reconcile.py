"""Reconciliation through the real function: passes that miss nothing, and runs refused without failing.

A stack of its own (own tables, queues and state) with a Stripe sandbox of its
own that delivers its events to the stack's gateway; the reconciliation
function runs as the schedule would run it. A thousand events, runs cut short
and two at once, are tests/e2e/test_stripe_reconcile.py; random schedules of
everything that can go wrong are tests/model/test_stripe_recovery.py.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
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

    def projected(self) -> set[str]:
        table = self.stack.template.physical["CustomersTable"]["Ref"]
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="id")
        return {item["id"]["S"] for page in pages for item in page["Items"]}


@pytest.fixture
def reconciled(moto_server: MotoServer, seeded_secrets: dict[str, Any]) -> Iterator[Reconciled]:
    sandbox = StripeSandbox({seeded_secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    overrides = {"AWS::StackName": f"reconcile-{uuid.uuid4().hex[:8]}"}
    stack = LocalStack(
        ROOT / "template.yaml",
        moto_server.endpoint,
        overrides,
        {"STRIPE_API_BASE": sandbox.url, "STRIPE_REQUESTS_PER_SECOND": "1000", "STRIPE_BREAKER_OPEN_SECONDS": "2"},
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


def test_undelivered_events_are_queued_again(reconciled: Reconciled) -> None:
    reconciled.sandbox.webhook = WebhookEndpoint("http://127.0.0.1:9/nowhere", "whsec_unused")  # every delivery fails
    made = reconciled.deliver(30, drop=0.0)
    report = reconciled.reconcile("undelivered")
    assert (report["outcome"], report["records"]) == ("caught-up", 30)
    reconciled.processor.drain(60)
    assert reconciled.projected() >= set(made)


def test_an_undelivered_pass_that_ended_is_followed_by_a_new_pass(reconciled: Reconciled) -> None:
    """A pass that ends starts the next one over: it never resumes after the last pass's last page."""
    made = reconciled.deliver(120, drop=1.0)  # two pages, every webhook lost
    first, second = reconciled.reconcile("undelivered"), reconciled.reconcile("undelivered")
    assert [(run["records"], run["pages"], run["cursor"]) for run in (first, second)] == [(120, 2, None)] * 2
    made += reconciled.deliver(30, drop=1.0)
    assert reconciled.reconcile("undelivered")["records"] == 150
    reconciled.processor.drain(120)
    assert reconciled.projected() >= set(made)


def test_events_of_a_passs_last_second_are_never_missed_whatever_their_tie_order(reconciled: Reconciled) -> None:
    """Customers made several times a second while passes run; Stripe's same-second order randomized."""
    reconciled.sandbox.configure_faults({"shuffle_ties": True})
    made: list[str] = []
    until = time.monotonic() + 4
    while time.monotonic() < until:
        made += reconciled.deliver(7, drop=1.0)
        assert reconciled.reconcile("events")["outcome"] == "caught-up"
    assert reconciled.reconcile("events")["outcome"] == "caught-up"
    reconciled.processor.drain(120)
    assert set(made) - reconciled.projected() == set()


def test_an_open_breaker_ends_runs_with_their_report_and_the_next_run_resumes(reconciled: Reconciled) -> None:
    made = reconciled.deliver(30, drop=1.0)
    reconciled.sandbox.configure_faults({"queue": [{"status": 503}] * 60})
    reports = [reconciled.reconcile("events") for _ in range(8)]  # each an answer: no function error, no DLQ
    reconciled.sandbox.configure_faults({})
    outcomes = [report["outcome"] for report in reports]
    assert set(outcomes) <= {"provider-error", "circuit-open"}, outcomes
    refused = next(report for report in reports if report["outcome"] == "circuit-open")
    assert refused["error"] == "CircuitOpenError: stripe"
    assert 0 < refused["retry_after"] <= 2
    time.sleep(2.5)  # the breaker lets a probe through; Stripe is back
    resumed = reconciled.reconcile("events")
    assert (resumed["outcome"], resumed["records"]) == ("caught-up", 30)
    reconciled.processor.drain(60)
    assert reconciled.projected() >= set(made)
