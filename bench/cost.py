"""What the bundle costs on AWS, per million: Stripe events end to end, and each Stripe action.

Runs the real template in the local runtime on moto (as bench/webhooks.py and
bench/actions.py do) and counts every billable unit where AWS would bill it:

- API Gateway: one request per delivery and per action, at the price of the
  route's API (the webhook routes' HTTP API, the actions' REST API);
- Lambda: one request per invocation, and GB-seconds from each invocation's
  measured duration, with its init when it started a container (Lambda bills
  the init phase since August 2025), rounded up to the millisecond, at the
  function's configured memory, at arm64 prices; the event source mapping's own SQS
  requests (a ReceiveMessage and a DeleteMessageBatch per batch it invokes);
- DynamoDB on-demand: from each request a function made (moto's local IAM sees
  them all), write units ceil(item size / 1 KB) and read units ceil(size / 4 KB)
  (half for an eventually consistent read), twice for a transaction's items; an
  item's size as DynamoDB counts it, from the request or, for an update, the
  larger of the request's values and the item as stored after the path ran.
  Stream reads by a Lambda trigger are free;
- SQS: a request per 64 KB of payload; EventBridge: an entry per 64 KB;
  Secrets Manager: per call; CloudWatch Logs: the bytes each invocation wrote,
  plus Lambda's START/END/REPORT lines.

Paths: a Stripe event by webhook (API Gateway, receiver, queue, processor,
projection and outbox, publisher, domain bus); the same event by Stripe's
Amazon EventBridge destination (the partner bus's event and its rule's
SendMessage, counted as AWS bills them, then the same queue onward); the
reconciliation run that recovers events no webhook brought, per 1,000 of them,
with their processing; each Stripe action; and, as the baseline, the original
guide's synchronous handler (bench/twins/stripe_webhook_inline.py: verify and
apply in the webhook's invocation) behind the same API.

Not counted: custom metrics (billed per metric and month, not per event: see
docs/benchmarks.md), storage, data transfer, the domain bus's own consumers.
Prices are list prices in us-east-1, kept in PRICES with the date they were read.

Usage: python bench/cost.py [--events 300] [--recovered 1000] [--actions 100] [--json]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import logging
import math
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

from bench.actions import api_event  # noqa: E402
from bench.harness import local_aws, stripe_sandbox  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from bench.webhooks import customer_created, delivery  # noqa: E402
from local.aws import MotoServer, aws_client  # noqa: E402
from local.eventsource import FunctionStreams, QueuePoller  # noqa: E402
from local.iam import Grant  # noqa: E402
from local.runtime import FunctionConfig, Invocation, LocalFunction  # noqa: E402
from local.sandboxes.stripe import StripeSandbox  # noqa: E402
from local.stack import LocalStack  # noqa: E402

PRICES_READ = "2026-12-06"
# US dollars per unit, us-east-1, on-demand list prices (first tier) as read on PRICES_READ.
PRICES = {
    "api_gateway_rest_requests": 3.50 / 1e6,
    "api_gateway_http_requests": 1.00 / 1e6,
    "lambda_requests": 0.20 / 1e6,
    "lambda_gb_seconds_arm64": 0.0000133334,
    "dynamodb_write_units": 0.625 / 1e6,
    "dynamodb_read_units": 0.125 / 1e6,
    "sqs_requests": 0.40 / 1e6,
    "eventbridge_events": 1.00 / 1e6,
    "secrets_manager_calls": 0.05 / 10_000,
    "cloudwatch_log_bytes": 0.50 / 2**30,
}
# Lambda's own START, END and REPORT lines, per invocation (measured from a deployed function's log stream).
LAMBDA_LOG_BYTES = 300
CHUNK = 64 * 1024


def attribute_size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (names are counted by the caller)."""
    kind, data = next(iter(value.items()))
    scalar: dict[str, Callable[[], int]] = {
        "S": lambda: len(data.encode()),
        "N": lambda: len(data.strip("-").replace(".", "").lstrip("0")) // 2 + 2,
        "B": lambda: len(base64.b64decode(data)),
        "BOOL": lambda: 1,
        "NULL": lambda: 1,
    }
    if kind in scalar:
        return scalar[kind]()
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: item}) for item in data)
    if kind == "L":
        return 3 + sum(attribute_size(item) + 1 for item in data)
    return 3 + sum(len(name.encode()) + attribute_size(item) + 1 for name, item in data.items())  # M


def item_size(item: dict[str, Any]) -> int:
    """An item's size: its attribute names and values."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass
class Meter:
    """Billable units, added up while paths run."""

    units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # The AWS requests behind them, by function and operation: where the units come from.
    requests: Counter[str] = field(default_factory=Counter)

    def dollars(self) -> float:
        """What the units cost."""
        return sum(PRICES[unit] * count for unit, count in self.units.items())


class Recorder:
    """Every AWS request a function makes (through moto's local IAM) and every invocation, as billable units."""

    def __init__(self, moto: MotoServer, stack: LocalStack) -> None:
        self.stack = stack
        self.dynamodb = aws_client("dynamodb", stack.aws_endpoint)
        self.requests: list[tuple[str, str, str, dict[str, Any]]] = []
        # Each function's memory, and the name its access key stands for (a baseline's function is added).
        self.memory = {spec.name: spec.memory for spec in stack.template.functions()}
        self.functions = functions = {stack.principal(spec.name): spec.name for spec in stack.template.functions()}
        self.invocations: list[Invocation] = []
        authorize, run = moto.iam.authorize, LocalFunction.run

        def recording_authorize(principal: str, service: str, operation: str, body: Any) -> Any:
            calls = authorize(principal, service, operation, body)
            if calls:  # a function's request
                self.requests.append((functions.get(principal, principal), service, operation, dict(body)))
            return calls

        def recording_run(function: LocalFunction, event: Any) -> Invocation:
            invocation = run(function, event)
            self.invocations.append(invocation)
            return invocation

        moto.iam.authorize = recording_authorize  # type: ignore[method-assign]
        LocalFunction.run = recording_run  # type: ignore[method-assign,assignment]

    @contextlib.contextmanager
    def measure(self, meter: Meter) -> Iterator[None]:
        """Add what the block's requests and invocations cost to ``meter``."""
        requests, invocations = len(self.requests), len(self.invocations)
        yield
        for invocation in self.invocations[invocations:]:
            billed_ms = math.ceil(invocation.duration_ms + (invocation.init_ms or 0))
            meter.units["lambda_requests"] += 1
            meter.units["lambda_gb_seconds_arm64"] += billed_ms / 1000 * self.memory[invocation.function] / 1024
            meter.units["cloudwatch_log_bytes"] += len(invocation.logs.encode()) + LAMBDA_LOG_BYTES
        for function, service, operation, body in self.requests[requests:]:
            meter.requests[f"{function} {service}:{operation}"] += 1
            self._bill(meter, service, operation, body)

    def _stored(self, table: str, key: dict[str, Any]) -> int:
        item = self.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
        return item_size(item)

    def _written(self, operation: str, body: dict[str, Any]) -> int:
        """A write's item size: the item put, or the larger of the request's key and values and the item stored."""
        if operation == "Put":
            return item_size(body["Item"])
        sent = item_size(body["Key"]) + sum(
            attribute_size(value) for value in body.get("ExpressionAttributeValues", {}).values()
        )
        return max(sent, self._stored(body["TableName"], body["Key"]))

    def _bill(self, meter: Meter, service: str, operation: str, body: dict[str, Any]) -> None:
        units = meter.units
        if service == "dynamodb":
            if operation in ("PutItem", "UpdateItem", "DeleteItem"):
                units["dynamodb_write_units"] += math.ceil(self._written(operation.removesuffix("Item"), body) / 1024)
            elif operation == "TransactWriteItems":
                for entry in body["TransactItems"]:
                    ((kind, request),) = entry.items()
                    size = self._written(kind, request) if kind != "ConditionCheck" else item_size(request["Key"])
                    units["dynamodb_write_units"] += 2 * math.ceil(size / 1024)
            elif operation in ("GetItem", "Query"):
                key = body.get("Key")
                size = self._stored(body["TableName"], key) if key else 1
                units["dynamodb_read_units"] += math.ceil(size / 4096) * (1 if body.get("ConsistentRead") else 0.5)
            elif operation == "TransactGetItems":
                units["dynamodb_read_units"] += 2 * len(body["TransactItems"])
        elif service == "sqs":
            entries = body.get("Entries") or [body]
            payload = sum(len(str(entry.get("MessageBody", "")).encode()) for entry in entries)
            units["sqs_requests"] += max(1, math.ceil(payload / CHUNK))
        elif service == "events" and operation == "PutEvents":
            units["eventbridge_events"] += sum(
                max(1, math.ceil(len(json.dumps(entry).encode()) / CHUNK)) for entry in body["Entries"]
            )
        elif service == "secretsmanager":
            units["secrets_manager_calls"] += 1


def per_million(meter: Meter, count: int) -> dict[str, Any]:
    """Units and dollars per million of ``count`` things measured."""
    scale = 1e6 / count
    return {
        "dollars": round(meter.dollars() * scale, 2),
        "dollars_by_unit": {unit: round(PRICES[unit] * n * scale, 3) for unit, n in sorted(meter.units.items())},
        "units": {unit: round(n * scale) for unit, n in sorted(meter.units.items())},
        "aws_requests_each": {name: round(n / count, 2) for name, n in sorted(meter.requests.items())},
    }


# What Powertools idempotency does with its records (the guide's handler keeps one an event).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


class Pipeline:
    """The queue's processor and the outbox's publisher, drained the way their event sources would run them."""

    def __init__(self, stack: LocalStack) -> None:
        batch = stack.spec("StripeEventsFunction").queues[0].batch_size
        self.processor = QueuePoller(stack, "StripeEventsFunction", "StripeEventsQueue", batch)
        self.publisher = FunctionStreams(stack, "OutboxPublisherFunction")

    def drain(self, recorder: Recorder, meter: Meter) -> None:
        """Process the queue and publish the outbox; the event source mapping's own SQS requests added."""
        start = len(recorder.invocations)
        self.processor.drain(seconds=3600)
        batches = sum(1 for run in recorder.invocations[start:] if run.function == "StripeEventsFunction")
        meter.units["sqs_requests"] += 2 * batches  # the event source mapping: a receive and a batch delete each
        self.publisher.drain(seconds=3600)


def ingress(stack: LocalStack, function: str) -> str:
    """The billable unit of one request to ``function``'s routes: its API's kind."""
    (api,) = {route.api for route in stack.spec(function).routes}
    return f"api_gateway_{api}_requests"


def by_ingress(row: dict[str, Any], api: str) -> dict[str, float]:
    """The path's dollars per million as measured, had its requests come through each ingress instead of ``api``."""
    rest = row["dollars"] - row["dollars_by_unit"].get(api, 0.0)
    return {
        "rest_api": round(rest + PRICES["api_gateway_rest_requests"] * 1e6, 2),
        "http_api": round(rest + PRICES["api_gateway_http_requests"] * 1e6, 2),
        "function_url": round(rest, 2),  # billed as the function's own requests, already counted
    }


def deliveries(
    recorder: Recorder, pipeline: Pipeline, receiver: LocalFunction, *, api: str, secret: str, events: int
) -> dict[str, Any]:
    """Each new event delivered once to ``receiver`` through ``api`` (a billable unit), then queue, processor, bus."""
    run = uuid.uuid4().hex[:6]
    receiver.invoke(delivery(customer_created(run, 99_999), secret))  # the cold start is bench/coldstart.py's
    pipeline.drain(recorder, Meter())  # the warm-up's own processing, not measured
    meter = Meter()
    with recorder.measure(meter):
        for index in range(events):
            meter.units[api] += 1
            receiver.invoke(delivery(customer_created(run, index), secret))
        pipeline.drain(recorder, meter)
    row = per_million(meter, events)
    return {**row, "dollars_by_ingress": by_ingress(row, api)}


def eventbridge_ingress(stack: LocalStack, recorder: Recorder, pipeline: Pipeline, events: int) -> dict[str, Any]:
    """Each new event from Stripe's EventBridge destination: the partner bus's event, its rule's send, then on."""
    sqs = aws_client("sqs", stack.aws_endpoint)
    queue = stack.template.physical["StripeEventsQueue"]["Ref"]
    run = uuid.uuid4().hex[:6]
    meter = Meter()
    with recorder.measure(meter):
        for index in range(events):
            event = json.loads(customer_created(run, index))
            envelope = {"version": "0", "detail-type": event["type"], "source": "aws.partner/stripe.com/ed_1"}
            sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({**envelope, "detail": event}))
            meter.units["eventbridge_events"] += 1  # the partner event bus's ingestion
            meter.units["sqs_requests"] += 1  # the rule's SendMessage to the queue
        pipeline.drain(recorder, meter)
    return per_million(meter, events)


def reconciliation(
    stack: LocalStack, recorder: Recorder, pipeline: Pipeline, sandbox: StripeSandbox, events: int
) -> dict[str, Any]:
    """A scheduled reconciliation (a cold container) recovering ``events`` no webhook brought, and their processing."""
    sandbox.make_customers(events)
    function = stack.function("StripeReconcileFunction", max_containers=1)
    meter = Meter()
    with recorder.measure(meter):
        while True:
            invocation = function.run({"mode": "events"})
            if invocation.error is not None:
                raise RuntimeError(f"the reconciliation failed: {invocation.error}")
            if invocation.payload["outcome"] == "caught-up":
                break
        pipeline.drain(recorder, meter)
    return {**per_million(meter, events), "dollars_per_thousand": round(meter.dollars() * 1000 / events, 4)}


def inline_baseline(stack: LocalStack, moto: MotoServer, recorder: Recorder) -> LocalFunction:
    """The guide's synchronous webhook, run with the receiver's and the processor's rights and settings together.

    And the idempotency table's: the guide keeps Powertools idempotency records of its events.
    """
    receiver, processor = stack.spec("StripeWebhookFunction"), stack.spec("StripeEventsFunction")
    principal = f"{stack.principal(receiver.name)}-inline"
    records = Grant(IDEMPOTENCY_ACTIONS, (stack.template.physical["IdempotencyTable"]["Arn"],))
    moto.iam.grants[principal] = [
        *moto.iam.grants[stack.principal(receiver.name)],
        *moto.iam.grants[stack.principal(processor.name)],
        records,
    ]
    name = "InlineWebhookBaseline"
    recorder.functions[principal], recorder.memory[name] = name, receiver.memory
    config = FunctionConfig(
        name=name,
        code_dir=ROOT / "bench" / "twins",
        handler="stripe_webhook_inline.handler",
        timeout=receiver.timeout,
        memory=receiver.memory,
        environment={
            **stack.environment_of(processor),
            **stack.environment_of(receiver),
            "AWS_ACCESS_KEY_ID": principal,
        },
        layer_dirs=[],
        max_containers=1,
    )
    return LocalFunction(config, stack.metrics)


def actions(stack: LocalStack, recorder: Recorder, calls: int) -> dict[str, Any]:
    """Each Stripe action, called ``calls`` times warm."""
    create, get, pay = "CustomersCreateFunction", "CustomersGetFunction", "PaymentIntentsCreateFunction"
    customer = json.loads(
        stack.function(create).invoke(api_event("POST", "/customers", "/customers", {"name": "cost"}))["body"]
    )
    # Each call a new request (a POST with its own Idempotency-Key).
    cases: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
        "POST /customers": (create, lambda: api_event("POST", "/customers", "/customers", {"name": "c"})),
        "GET /customers/{id}": (
            get,
            lambda: api_event(
                "GET", f"/customers/{customer['id']}", "/customers/{customer_id}", None, {"customer_id": customer["id"]}
            ),
        ),
        "POST /payment-intents": (
            pay,
            lambda: api_event("POST", "/payment-intents", "/payment-intents", {"amount": 1099, "currency": "eur"}),
        ),
    }
    report = {}
    for name, (function, request) in cases.items():
        stack.function(function).invoke(request())  # warm
        meter = Meter()
        with recorder.measure(meter):
            for _ in range(calls):
                meter.units[ingress(stack, function)] += 1
                stack.function(function).invoke(request())
        report[name] = per_million(meter, calls)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--recovered", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"events": 5, "recovered": 10, "actions": 2})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with contextlib.ExitStack() as running:
        moto, endpoint, secrets = local_aws(running, ["StripeSecret", "StripeWebhookSecret"])
        sandbox = stripe_sandbox(running, secrets)
        stack = LocalStack(
            ROOT / "template.yaml",
            endpoint,
            None,
            {"STRIPE_API_BASE": sandbox.url, "STRIPE_REQUESTS_PER_SECOND": "1000"},
        )
        stack.provision(secrets, moto.iam)
        running.callback(stack.stop)
        recorder = Recorder(moto, stack)
        running.enter_context(contextlib.redirect_stdout(io.StringIO()))  # the functions' log and metric lines
        pipeline = Pipeline(stack)
        secret = secrets["StripeWebhookSecret"]["webhook_secrets"][0]
        recovered = reconciliation(stack, recorder, pipeline, sandbox, args.recovered)
        report = {
            "prices_read": PRICES_READ,
            "events": args.events,
            "recovered": args.recovered,
            "calls_per_action": args.actions,
            "per_million_stripe_events": {
                "webhook": deliveries(
                    recorder,
                    pipeline,
                    stack.function("StripeWebhookFunction"),
                    api=ingress(stack, "StripeWebhookFunction"),
                    secret=secret,
                    events=args.events,
                ),
                "eventbridge_destination": eventbridge_ingress(stack, recorder, pipeline, args.events),
                "reconciliation": recovered,
                # The guide's handler sat on the one REST API with the actions.
                "baseline_inline_webhook": deliveries(
                    recorder,
                    pipeline,
                    inline_baseline(stack, moto, recorder),
                    api="api_gateway_rest_requests",
                    secret=secret,
                    events=args.events,
                ),
            },
            "per_million_actions": actions(stack, recorder, args.actions),
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"US dollars per million, us-east-1 list prices read {PRICES_READ}")
    rows = [(f"Stripe event by {path}", row) for path, row in report["per_million_stripe_events"].items()]
    rows += list(report["per_million_actions"].items())
    for name, row in rows:
        parts = ", ".join(f"{unit} {dollars}" for unit, dollars in row["dollars_by_unit"].items())
        print(f"  {name:<40} ${row['dollars']:>7.2f}  ({parts})")
        if "dollars_by_ingress" in row:
            print(
                "  "
                + " " * 40
                + "  by ingress: "
                + ", ".join(f"{k} ${v:.2f}" for k, v in row["dollars_by_ingress"].items())
            )


if __name__ == "__main__":
    main()
