"""`python -m ops` against `make run`: each command reads or changes the stack as it says, and refuses without --yes."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.aws import client_environment
from local.sandboxes.stripe import FIXTURES
from local.template import Template
from seawall.breaker import BreakerConfig, BreakerState
from seawall.ratelimit import Limit
from seawall.state import SharedState
from tests.ops.conftest import ROOT, Stack, run_ops

# A Stripe secret key's shape: the layer's redaction (the shape Stripe's package registers) must mask it.
SECRET_LOOKING = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
# How long a test waits for the stack to act on what it was given (the pipeline polls; nothing here is timed).
SETTLE_SECONDS = 120


def eventually(check: Callable[[], bool], what: str, stack: Stack) -> None:
    until = time.monotonic() + SETTLE_SECONDS
    while not check():
        assert time.monotonic() < until, f"{what}; see {stack.log}"
        time.sleep(0.5)


def customers(stack: Stack) -> set[str]:
    pages = stack.aws("dynamodb").get_paginator("scan").paginate(TableName=stack.resource("CustomersTable"))
    return {item["id"]["S"] for page in pages for item in page["Items"]}


@pytest.fixture
def shared_state(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> SharedState:
    """The stack's shared state as a function of it builds it (the layer's own stores), from this process."""
    for name, value in client_environment(stack.state["aws_endpoint"]).items():
        monkeypatch.setenv(name, value)
    return SharedState.from_env(
        {
            "STATE_BACKEND": "dynamodb",
            "STATE_TABLE": stack.resource("StateTable"),
            "IDEMPOTENCY_TABLE": stack.resource("IdempotencyTable"),
        }
    )


def test_queues_shows_how_old_a_queues_oldest_message_is(stack: Stack) -> None:
    sqs = stack.aws("sqs")
    url = stack.resource("StripeReconcileDeadLetterQueue")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"run": "aged"}))
    time.sleep(1.1)
    rows = {row["queue"]: row for row in stack.ops_json("queues")}
    assert rows["StripeReconcileDeadLetterQueue"]["oldest_age_seconds"] >= 1
    assert rows["StripeEventsQueue"]["oldest_age_seconds"] is not None  # 0 when empty, as SQS has it
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        if "aged" in message["Body"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_queues_lists_every_queue_with_its_dead_letter_queue(stack: Stack) -> None:
    rows = {row["queue"]: row for row in stack.ops_json("queues")}
    template = Template(ROOT / "template.yaml", stack.state["parameters"])
    assert set(rows) == set(template.of_type("AWS::SQS::Queue")) & set(stack.state["resources"])
    for queue, dead_letters in [
        ("StripeEventsQueue", "StripeEventsDeadLetterQueue"),
        ("ProviderEventsQueue", "ProviderEventsDeadLetterQueue"),
        ("HotelBookingsQueue", "HotelBookingsDeadLetterQueue"),
    ]:
        assert rows[queue]["dead_letter_queue"] == dead_letters
        assert rows[queue]["dead_letter_visible"] == rows[dead_letters]["visible"]
        assert rows[dead_letters]["dead_letter_of"] == [queue]
    assert rows["StripeReconcileDeadLetterQueue"]["dead_letter_of"] == []  # Scheduler's, no queue's
    table = stack.ops("queues")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["queue", "visible", "in_flight"]
    unknown = stack.ops("peek", "NoSuchQueue")
    assert unknown.returncode == 1
    assert "there are: " in unknown.stderr
    assert "StripeEventsDeadLetterQueue" in unknown.stderr


def _customer_created(customer_id: str) -> dict[str, Any]:
    customer = {**FIXTURES["customer"], "id": customer_id, "metadata": {"note": f"paid with {SECRET_LOOKING}"}}
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "customer.created",
        "created": int(time.time()),
        "data": {"object": customer},
    }


def test_a_dead_letter_is_peeked_redacted_refused_without_yes_and_redriven_with_it(stack: Stack) -> None:
    sqs, dead_letters = stack.aws("sqs"), stack.resource("StripeEventsDeadLetterQueue")
    poison = json.dumps({"id": "evt_poison", "object": "event", "api_key": SECRET_LOOKING})
    attributes = {"provider": {"DataType": "String", "StringValue": "stripe"}}
    sqs.send_message(QueueUrl=dead_letters, MessageBody=poison, MessageAttributes=attributes)
    # An event from Stripe's EventBridge destination that failed while something was down: once back on its
    # queue, it is applied.
    customer_id = f"cus_{uuid.uuid4().hex[:14]}"
    envelope = {"detail-type": "customer.created", "source": "aws.partner/stripe.com/ed_test_1"}
    sqs.send_message(
        QueueUrl=dead_letters, MessageBody=json.dumps({**envelope, "detail": _customer_created(customer_id)})
    )

    looked = stack.ops_json("peek", "StripeEventsDeadLetterQueue")
    bodies = [message["body"] for message in looked["messages"]]
    assert len(bodies) == 2
    assert any("evt_poison" in body and "[REDACTED]" in body for body in bodies)
    assert {message["attributes"].get("provider") for message in looked["messages"]} == {"stripe", None}
    shown = stack.ops("peek", "StripeEventsDeadLetterQueue")
    assert shown.returncode == 0
    assert "evt_poison" in shown.stdout
    assert SECRET_LOOKING not in shown.stdout + json.dumps(looked)

    def waiting() -> int:
        answer = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"])
        return int(answer["Attributes"]["ApproximateNumberOfMessages"])

    assert waiting() == 2  # looking took nothing
    refused = stack.ops("redrive", "StripeEventsDeadLetterQueue")
    assert refused.returncode == 2
    assert "would move the 2 messages of StripeEventsDeadLetterQueue back to StripeEventsQueue" in refused.stdout
    assert json.loads(stack.ops("redrive", "StripeEventsDeadLetterQueue", "--json").stdout)["refused"] is True
    assert waiting() == 2  # refused: nothing moved

    moved = stack.ops_json("redrive", "StripeEventsDeadLetterQueue", "--yes")
    assert (moved["from"], moved["to"], moved["moved"]) == ("StripeEventsDeadLetterQueue", "StripeEventsQueue", 2)
    assert waiting() == 0
    eventually(lambda: customer_id in customers(stack), "the redriven event was never applied", stack)


def test_a_dead_letter_queue_no_queue_feeds_is_not_redriven(stack: Stack) -> None:
    result = stack.ops("redrive", "StripeReconcileDeadLetterQueue", "--yes")
    assert result.returncode == 1
    assert "no queue of the stack sends its failures to StripeReconcileDeadLetterQueue" in result.stderr


def test_breakers_show_an_open_breaker_and_close_forces_it_closed(stack: Stack, shared_state: SharedState) -> None:
    breakers = {row["provider"]: row for row in stack.ops_json("breakers")}
    assert {"stripe", "hotelbeds"} <= set(breakers)
    assert breakers["stripe"]["state"] == "closed"

    layer_breaker = shared_state.circuit_breaker("stripe", BreakerConfig())
    assert layer_breaker.store.trip("stripe", int(time.time() * 1000) + 600_000)  # open, as ten failures would
    opened = {row["provider"]: row for row in stack.ops_json("breakers")}["stripe"]
    assert opened["state"] == "open"
    assert opened["opened_at"] is not None
    assert opened["retry_after_seconds"] > 0

    refused = stack.ops("breakers", "close", "stripe")
    assert refused.returncode == 2
    assert "would close stripe's circuit breaker (now open" in refused.stdout
    assert layer_breaker.inspect().state is BreakerState.OPEN

    closed = stack.ops_json("breakers", "close", "stripe", "--yes")
    assert (closed["before"]["state"], closed["after"]["state"]) == ("open", "closed")
    assert layer_breaker.inspect().state is BreakerState.CLOSED
    assert {row["provider"]: row for row in stack.ops_json("breakers")}["stripe"]["state"] == "closed"


def test_a_provider_with_a_breaker_per_operation_shows_each_and_closes_one_or_all(
    stack: Stack, shared_state: SharedState
) -> None:
    rows = {row["breaker"]: row for row in stack.ops_json("breakers") if row["provider"] == "hotelbeds"}
    assert set(rows) == {"hotelbeds:search", "hotelbeds:booking", "hotelbeds:cancel", "hotelbeds:content"}
    booking = shared_state.circuit_breaker("hotelbeds", BreakerConfig(), operation="booking")
    assert booking.store.trip("hotelbeds:booking", int(time.time() * 1000) + 600_000)
    states = {row["breaker"]: row["state"] for row in stack.ops_json("breakers") if row["provider"] == "hotelbeds"}
    assert (states["hotelbeds:booking"], states["hotelbeds:search"]) == ("open", "closed")  # one operation alone
    refused = stack.ops("breakers", "close", "hotelbeds")
    assert refused.returncode == 2
    assert "hotelbeds:booking open, 0 failures" in refused.stdout
    closed = stack.ops_json("breakers", "close", "hotelbeds:booking", "--yes")
    assert (closed["before"]["state"], closed["after"]["state"]) == ("open", "closed")
    assert booking.inspect().state is BreakerState.CLOSED
    assert stack.ops("breakers", "close", "hotelbeds:nothing").returncode == 1


def test_limits_read_each_providers_live_counters(stack: Stack, shared_state: SharedState) -> None:
    def rows() -> dict[tuple[str, str], dict[str, Any]]:
        return {(row["provider"], row["limit"]): row for row in stack.ops_json("limits")}

    before = rows()
    assert {("stripe", "second"), ("hotelbeds", "second"), ("hotelbeds", "day")} <= set(before)
    day = before["hotelbeds", "day"]
    assert day["allowed"] == int(stack.state["parameters"]["HotelbedsDailyQuota"])
    assert before["stripe", "second"]["scope"] == "default"
    assert (before["stripe", "second"]["counted"], day["counted"]) == ("sliding", "fixed")
    # A call counted as the Hotelbeds client counts it: in the day window of its key's scope.
    limiter = shared_state.rate_limiter("hotelbeds", [Limit("day", day["allowed"], 86_400, fixed=True)])
    assert limiter.try_acquire(day["scope"]).allowed
    assert rows()["hotelbeds", "day"]["used"] >= day["used"] + 1
    assert "hotelbeds" in stack.ops("limits").stdout


@pytest.mark.parametrize("job", ["stripe-events", "stripe-undelivered", "hotelbeds-content"])
def test_sync_run_runs_the_job_now_and_sync_shows_how_it_ended(stack: Stack, job: str) -> None:
    assert {row["job"] for row in stack.ops_json("sync")} == {
        "stripe-events",
        "stripe-undelivered",
        "hotelbeds-content",
    }
    refused = stack.ops("sync", "run", job)
    assert refused.returncode == 2
    assert "would invoke" in refused.stdout
    runs = sync_runs_counted(stack, job)
    ran = stack.ops_json("sync", "run", job, "--yes")
    assert ran["answer"]["job"] == job  # the function that ran is the one whose job this is
    row = {row["job"]: row for row in stack.ops_json("sync")}[job]
    assert row["last_run_at"] is not None
    assert row["last_outcome"] == ran["answer"]["outcome"]
    assert sync_runs_counted(stack, job) == runs + 1  # on the local dashboard ("Sync runs by outcome"), too


def sync_runs_counted(stack: Stack, job: str) -> float:
    """The SyncRun metric of ``job`` the running stack holds (every outcome), as its dashboard reads it."""
    metrics = httpx.get(f"{stack.state['gateway']}/_local/metrics").json()["metrics"]
    found = [series for series in metrics if series["name"] == "SyncRun" and series["dimensions"].get("job") == job]
    return sum(value for series in found for _, value in series["datapoints"])


def test_sync_run_takes_a_scheduled_function_too(stack: Stack) -> None:
    ran = stack.ops_json("sync", "run", "HotelBookingsResolveFunction", "--yes")
    assert (ran["function"], ran["input"]) == ("HotelBookingsResolveFunction", {})
    shown = stack.ops("sync", "run", "HotelBookingsResolveFunction", "--yes", "--verbose")
    assert "HotelBookingsResolveFunction: cold start" in shown.stderr  # the container's own output, on request
    assert "cold start" not in stack.ops("sync", "run", "HotelBookingsResolveFunction", "--yes").stderr
    unknown = stack.ops("sync", "run", "HealthFunction", "--yes")
    assert unknown.returncode == 1
    assert "neither a sync job nor a scheduled function" in unknown.stderr


@pytest.fixture
def webhooks_lost(stack: Stack) -> Iterator[None]:
    """The Stripe sandbox drops every webhook delivery for the test, as an endpoint that is down would."""
    with stack.stripe_sandbox() as sandbox:
        sandbox.post("/_sandbox/webhooks", json={"drop": 1.0})
        yield
        sandbox.post("/_sandbox/webhooks", json={"drop": 0.0})


@pytest.mark.usefixtures("webhooks_lost")
def test_replay_puts_stripe_events_through_the_pipeline_again(stack: Stack) -> None:
    since = dt.datetime.fromtimestamp(int(time.time()) - 1, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with stack.stripe_sandbox() as sandbox:
        made = set(sandbox.post("/_sandbox/events", json={"customers": 2}).json()["customers"])
        eventually(lambda: sandbox.get("/_sandbox/webhooks").json()["pending"] == 0, "deliveries never ended", stack)
    assert not made & customers(stack)  # their webhooks were lost

    refused = stack.ops("replay", "stripe", "--since", since)
    assert refused.returncode == 2
    assert f"would fetch every event since {since} from Stripe" in refused.stdout
    replayed = stack.ops_json("replay", "stripe", "--since", since, "--yes")
    assert replayed["queue"] == "StripeEventsQueue"
    assert replayed["queued"] >= len(made)
    eventually(lambda: made <= customers(stack), "the replayed events were never applied", stack)


def test_an_event_stripe_does_not_know_is_a_clear_error(stack: Stack) -> None:
    result = stack.ops("replay", "stripe", "--event", "evt_doesnotexist", "--yes")
    assert result.returncode == 1
    assert result.stderr.startswith("ops: stripe")
    assert "Traceback" not in result.stderr


def test_a_deployed_stack_that_does_not_exist_is_a_clear_error(stack: Stack) -> None:
    # CloudFormation answered by the local moto server: the stack's name is what is wrong, not the credentials.
    aws = client_environment(stack.state["aws_endpoint"])
    for result in (
        stack.ops("--stack", "no-such-stack", "queues", **aws),
        stack.ops("breakers", **aws, OPS_STACK="no-such-stack"),
    ):
        assert result.returncode == 1
        assert "no stack named 'no-such-stack' in us-east-1" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_deployed_stacks_resources_are_found_through_cloudformation(stack: Stack) -> None:
    # A stack CloudFormation made (the local moto server's): queues by logical id, physical ids from the stack.
    name = f"ops-deployed-{uuid.uuid4().hex[:8]}"
    redrive_policy = {"deadLetterTargetArn": {"Fn::GetAtt": ["Failed", "Arn"]}, "maxReceiveCount": 5}
    template = {
        "Resources": {
            "Failed": {"Type": "AWS::SQS::Queue"},
            "Work": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": redrive_policy}},
        }
    }
    stack.aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    failed = stack.aws("cloudformation").describe_stack_resource(StackName=name, LogicalResourceId="Failed")
    stack.aws("sqs").send_message(QueueUrl=failed["StackResourceDetail"]["PhysicalResourceId"], MessageBody="{}")
    aws = {**client_environment(stack.state["aws_endpoint"]), "AWS_DEFAULT_REGION": "eu-west-1"}

    rows = {
        row["queue"]: row
        for row in json.loads(stack.ops("--stack", name, "--region", "us-east-1", "queues", "--json", **aws).stdout)
    }
    assert (rows["Work"]["dead_letter_queue"], rows["Failed"]["dead_letter_of"]) == ("Failed", ["Work"])
    assert rows["Failed"]["visible"] == 1
    refused = stack.ops("redrive", "Failed", "--stack", name, "--region", "us-east-1", **aws)
    assert refused.returncode == 2
    assert "would move the 1 messages of Failed back to Work" in refused.stdout


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path: Path) -> None:
    result = run_ops(["queues"], tmp_path)
    assert result.returncode == 1
    assert "the local stack is not running: start it with `make run`" in result.stderr
    assert "Traceback" not in result.stderr


def test_peek_masks_every_value_of_the_stacks_secrets(stack: Stack) -> None:
    secrets = json.loads((stack.state_dir / "secrets.json").read_text())
    hotelbeds, upstash = secrets["HotelbedsSecret"], secrets["UpstashSecret"]["token"]
    sqs = stack.aws("sqs")
    url = stack.resource("HotelBookingsDeadLetterQueue")
    body = json.dumps({"api_key": hotelbeds["api_key"], "headers": f"X-Signature: {hotelbeds['secret']}"})
    sqs.send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes={"token": {"DataType": "String", "StringValue": upstash}}
    )
    shown = stack.ops("peek", "HotelBookingsDeadLetterQueue", "--body-chars", "2000", "--json")
    assert shown.returncode == 0, shown.stderr
    for value in (hotelbeds["api_key"], hotelbeds["secret"], upstash):
        assert value not in shown.stdout
    assert shown.stdout.count("[REDACTED]") >= 3
    sqs.purge_queue(QueueUrl=url)


def test_peek_masks_personal_data_and_keeps_the_ids(stack: Stack) -> None:
    sqs = stack.aws("sqs")
    url = stack.resource("HotelBookingsDeadLetterQueue")
    customer = {"id": "cus_personal", "email": "ada@example.com", "name": "Ada Lovelace"}
    body = {"id": "evt_personal", "data": {"object": {**customer, "card": {"number": "4242424242424242"}}}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    for shown in (
        stack.ops("peek", "HotelBookingsDeadLetterQueue", "--body-chars", "2000").stdout,
        stack.ops("peek", "HotelBookingsDeadLetterQueue", "--body-chars", "2000", "--json").stdout,
    ):
        assert "evt_personal" in shown
        assert "cus_personal" in shown
        for personal in ("ada@example.com", "Ada Lovelace", "4242424242424242"):
            assert personal not in shown
    # Taken away by hand: a purge of this queue within a minute of another test's would be refused.
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        if "evt_personal" in message["Body"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_redrive_of_an_empty_dead_letter_queue_says_so_and_succeeds(stack: Stack) -> None:
    for extra in ([], ["--yes"]):
        shown = stack.ops("redrive", "ProviderEventsDeadLetterQueue", *extra)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "holds no message to move back to ProviderEventsQueue" in shown.stdout
    answer = stack.ops_json("redrive", "ProviderEventsDeadLetterQueue")
    assert (answer["moved"], answer["status"]) == (0, "EMPTY")
