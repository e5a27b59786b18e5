"""Every function keeps its own idempotency whichever ran first: containers share nothing but AWS."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.eventsource import sqs_record
from local.sandboxes.stripe import FIXTURES, StripeSandbox
from local.stack import LocalStack
from tests.support.events import api_event
from tests.support.stack import ROOT


@pytest.fixture
def fresh(project_stack: LocalStack) -> Iterator[LocalStack]:
    """The same stack's resources with no container started yet (as after a deploy)."""
    stack = LocalStack(ROOT / "template.yaml", project_stack.aws_endpoint, environment=project_stack.environment)
    stack.adopt(project_stack.template.physical)
    yield stack
    stack.stop()


def create_customer(stack: LocalStack, key: str, name: str) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "stripe" / "customers_create" / "post.json").read_text())
    event.update(body=json.dumps({"name": name}))
    event["headers"]["Idempotency-Key"] = event["multiValueHeaders"]["Idempotency-Key"][0] = key
    answer: dict[str, Any] = stack.function("CustomersCreateFunction").invoke(event)
    return answer


def apply_three_times(stack: LocalStack) -> str:
    """The same Stripe event delivered three times; the processor's logs."""
    event = {**copy.deepcopy(FIXTURES["event"]), "id": f"evt_{uuid.uuid4().hex}", "type": "customer.created"}
    event["data"] = {"object": {**FIXTURES["customer"], "id": f"cus_{uuid.uuid4().hex[:12]}"}}
    arn = stack.template.physical["StripeEventsQueue"]["Arn"]
    logs = ""
    for number in range(3):
        message = {
            "MessageId": f"m{number}",
            "ReceiptHandle": "r",
            "Body": json.dumps(event),
            "MD5OfBody": "",
            "MessageAttributes": {"provider": {"DataType": "String", "StringValue": "stripe"}},
        }
        invocation = stack.function("StripeEventsFunction").run({"Records": [sqs_record(message, arn)]})
        assert invocation.payload == {"batchItemFailures": []}
        logs += invocation.logs
    return logs


@pytest.mark.parametrize("first", ["the events processor", "an API action"])
def test_each_function_keeps_its_own_idempotency_whichever_ran_first(
    fresh: LocalStack, stripe_sandbox: StripeSandbox, first: str
) -> None:
    if first == "the events processor":
        logs = apply_three_times(fresh)
    key = str(uuid.uuid4())
    stripe_sandbox.requests.clear()
    created = create_customer(fresh, key, "Ada")
    assert created["statusCode"] == 201
    other = create_customer(fresh, key, "Grace")  # the same key with another body: ours, not Stripe's
    assert other["statusCode"] == 422, other
    assert [path for method, path, _ in stripe_sandbox.requests if method == "POST"] == ["/v1/customers"]
    if first == "an API action":
        logs = apply_three_times(fresh)
    applied = [line for line in logs.splitlines() if '"StripeEventApplied":[' in line]
    assert len(applied) == 1  # applied once; the repeats were answered from its idempotency record


def test_an_unidentified_caller_cannot_use_an_idempotency_key(fresh: LocalStack, stripe_sandbox: StripeSandbox) -> None:
    event = api_event("POST", "/customers", json.dumps({"name": "Nobody"}), {"Idempotency-Key": str(uuid.uuid4())})
    event["requestContext"]["identity"] = {"sourceIp": "10.0.0.1"}  # no IAM principal: not an IAM route
    stripe_sandbox.requests.clear()
    answer = fresh.function("CustomersCreateFunction").invoke(event)
    assert answer["statusCode"] == 403
    assert stripe_sandbox.requests == []
