"""Stripe webhooks end to end: AWS calls per delivery and per event, and a 2,000-delivery run.

Runs the real template in the local runtime on moto: the receiver (with API
Gateway events), the events queue, the processor fed by the local event-source
poller, the projections and outbox, and the outbox publisher onto the domain
event bus. AWS calls are counted where AWS sees them: each function calls moto
with credentials of its own, and local IAM records every call.

Usage: python bench/webhooks.py [--deliveries 2000] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

import stripe  # noqa: E402

from bench.harness import local_aws  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from local.aws import MotoServer, aws_client  # noqa: E402
from local.eventsource import FunctionStreams, QueuePoller, sqs_record  # noqa: E402
from local.sandboxes.stripe import FIXTURES  # noqa: E402
from local.stack import LocalStack  # noqa: E402

SAMPLE = json.loads((ROOT / "events" / "stripe" / "stripe_webhook" / "payment_intent_succeeded.json").read_text())


def delivery(body: str, secret: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(SAMPLE)
    event["body"] = body
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    header = stripe.WebhookSignature.generate_signature_header(body, secret, int(time.time()))
    event["headers"]["Stripe-Signature"] = header
    event["multiValueHeaders"]["Stripe-Signature"] = [header]
    return event


def customer_created(run: str, index: int) -> str:
    customer = {**copy.deepcopy(FIXTURES["customer"]), "id": f"cus_{run}{index:05d}", "email": f"c{index}@example.com"}
    event = {**copy.deepcopy(FIXTURES["event"]), "id": f"evt_{run}{index:05d}", "type": "customer.created"}
    event.update(created=1_795_000_000 + index, data={"object": customer})
    return json.dumps(event)


def calls(moto: MotoServer, principal: str, action: Any) -> int:
    """AWS requests ``principal`` made while ``action`` ran (a transaction of several items is one)."""
    start = len(moto.iam.calls)
    action()
    return len({call.request for call in moto.iam.calls[start:] if call.principal == principal})


def _subscriber(stack: LocalStack, endpoint: str) -> Any:
    """A queue subscribed to the domain bus; calling the result counts (and removes) what arrived."""
    events, sqs = aws_client("events", endpoint), aws_client("sqs", endpoint)
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.template.physical["DomainEventBus"]["Name"]
    events.put_rule(Name="bench", EventBusName=bus, EventPattern=json.dumps({"source": ["integrations.stripe"]}))
    events.put_targets(Rule="bench", EventBusName=bus, Targets=[{"Id": "bench", "Arn": arn}])

    def count() -> int:
        seen = 0
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            seen += len(batch)
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        return seen

    return count


def run_shuffled(stack: LocalStack, path: tuple[Any, ...], run: str, secret: str, deliveries: int) -> dict[str, Any]:
    """Shuffled deliveries (10% duplicates, 5% forged) through receiver, queue, processor and publisher."""
    receiver, poller, publisher, published = path
    unique = round(deliveries * 0.85)
    duplicates = round(deliveries * 0.10)
    forged = deliveries - unique - duplicates
    bodies = [customer_created(run, index) for index in range(unique)]
    shuffler = random.Random(42)
    plan = [(body, secret) for body in bodies]
    plan += [(shuffler.choice(bodies), secret) for _ in range(duplicates)]
    plan += [(shuffler.choice(bodies), "whsec_forged0000000000000000") for _ in range(forged)]
    shuffler.shuffle(plan)
    started = time.perf_counter()
    answers = [receiver.invoke(delivery(body, key))["statusCode"] for body, key in plan]
    poller.drain(seconds=3600)
    publisher.drain(seconds=3600)
    elapsed = time.perf_counter() - started
    customers = aws_client("dynamodb", stack.aws_endpoint).scan(
        TableName=stack.template.physical["CustomersTable"]["Ref"],
        FilterExpression="begins_with(id, :run)",
        ExpressionAttributeValues={":run": {"S": f"cus_{run}0"}},
        Select="COUNT",
    )["Count"]
    dead = aws_client("sqs", stack.aws_endpoint).get_queue_attributes(
        QueueUrl=stack.template.physical["StripeEventsDeadLetterQueue"]["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]["ApproximateNumberOfMessages"]
    return {
        "deliveries": len(plan),
        "unique_valid_events": unique,
        "duplicates": duplicates,
        "bad_signatures": forged,
        "accepted": answers.count(200),
        "rejected": answers.count(400),
        "projected_customers": customers,
        "published_domain_events": published(),
        "dead_lettered": int(dead),
        "seconds": round(elapsed, 1),
        "deliveries_per_second": round(len(plan) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"deliveries": 10})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    report: dict[str, Any] = {}
    with contextlib.ExitStack() as running:
        moto, endpoint, secrets = local_aws(running, ["StripeSecret", "StripeWebhookSecret"])
        secret = secrets["StripeWebhookSecret"]["webhook_secrets"][0]
        stack = LocalStack(ROOT / "template.yaml", endpoint)
        stack.provision(secrets, moto.iam)
        running.callback(stack.stop)
        running.enter_context(contextlib.redirect_stdout(io.StringIO()))  # the functions' log and metric lines
        receiver = stack.function("StripeWebhookFunction")
        processor = stack.function("StripeEventsFunction")
        poller = QueuePoller(stack, "StripeEventsFunction", "StripeEventsQueue", 10)
        publisher = FunctionStreams(stack, "OutboxPublisherFunction")
        published = _subscriber(stack, endpoint)
        run = uuid.uuid4().hex[:6]

        receiver.invoke(delivery(customer_created(run, 99_999), secret))  # cold start, secret fetched
        poller.drain()
        warm = delivery(customer_created(run, 99_998), secret)
        report["aws_calls_per_warm_delivery"] = calls(
            moto, stack.principal("StripeWebhookFunction"), lambda: receiver.invoke(warm)
        )
        message = poller.sqs.receive_message(
            QueueUrl=poller.queue_url, AttributeNames=["All"], MessageAttributeNames=["All"]
        )["Messages"][0]
        batch = {"Records": [sqs_record(message, poller.queue_arn)]}
        processing = stack.principal("StripeEventsFunction")
        report["aws_calls_per_new_event"] = calls(moto, processing, lambda: processor.invoke(batch))
        report["aws_calls_per_duplicate_event"] = calls(moto, processing, lambda: processor.invoke(batch))
        poller.sqs.delete_message(QueueUrl=poller.queue_url, ReceiptHandle=message["ReceiptHandle"])

        publisher.drain()
        published()  # the warm-up's own events
        report["end_to_end"] = run_shuffled(
            stack, (receiver, poller, publisher, published), run, secret, args.deliveries
        )

    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name, value in report.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
