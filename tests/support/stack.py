"""The real template running locally, as `make run` runs it: a pytest plugin (see tests/conftest.py).

Functions run in containers of their own (``local.runtime``), call moto with
their own roles (local IAM), and are fed by the same gateway and pollers.
Nothing here reaches into a function's process: tests see what a client, a
queue or the bus sees.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.aws import MotoServer, aws_client
from local.eventsource import QueuePoller, StreamPoller
from local.gateway import Gateway
from local.sandboxes.hotelbeds import HotelbedsSandbox
from local.sandboxes.stripe import StripeSandbox
from local.secrets import ensure_secrets_file
from local.stack import LocalStack
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Fresh test values for every secret of the real template, as `make run` makes them."""
    names = list(Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"))
    return ensure_secrets_file(tmp_path_factory.mktemp("local") / "secrets.json", names)


@pytest.fixture(scope="session")
def stripe_sandbox(seeded_secrets: dict[str, Any]) -> Iterator[StripeSandbox]:
    """The Stripe sandbox, accepting the seeded Stripe key, as `make run` starts it."""
    sandbox = StripeSandbox({seeded_secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def hotelbeds_sandbox(seeded_secrets: dict[str, Any]) -> Iterator[HotelbedsSandbox]:
    """The Hotelbeds sandbox, accepting the seeded key and secret, as `make run` starts it."""
    secret = seeded_secrets["HotelbedsSecret"]
    sandbox = HotelbedsSandbox({secret["api_key"]: secret["secret"]}, daily_quota=SANDBOX_DAILY_QUOTA)
    sandbox.start()
    yield sandbox
    sandbox.stop()


# Test-mode rates would make the suite's pace matter: Stripe's 25 requests a second, Hotelbeds' evaluation
# quota; the limiter and the quota have their own tests.
SANDBOX_DAILY_QUOTA = 1_000_000


def sandbox_environment(stripe: StripeSandbox, hotelbeds: HotelbedsSandbox) -> dict[str, str]:
    """Every function's settings for the sandboxes, with limits the suite's pace never meets."""
    return {
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_REQUESTS_PER_SECOND": "1000",
        "HOTELBEDS_API_BASE": hotelbeds.url,
        "HOTELBEDS_REQUESTS_PER_SECOND": "1000",
        "HOTELBEDS_DAILY_QUOTA": str(SANDBOX_DAILY_QUOTA),
        # The sandbox has made a booking before it answers (tests of slow answers set a settle time of their own).
        "HOTELBEDS_BOOKING_SETTLE_SECONDS": "0",
    }


@pytest.fixture(scope="session")
def project_stack(
    moto_server: MotoServer,
    seeded_secrets: dict[str, Any],
    stripe_sandbox: StripeSandbox,
    hotelbeds_sandbox: HotelbedsSandbox,
) -> Iterator[LocalStack]:
    """The real template's resources in moto and its functions, each in containers of its own."""
    environment = sandbox_environment(stripe_sandbox, hotelbeds_sandbox)
    stack = LocalStack(ROOT / "template.yaml", moto_server.endpoint, environment=environment)
    stack.provision(seeded_secrets, moto_server.iam)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def api(project_stack: LocalStack) -> Iterator[str]:
    """The local gateway over the real template, on a free port."""
    gateway = Gateway(project_stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{gateway.port}"
    gateway.shutdown()


@dataclass
class Pipeline:
    """The event path behind the webhooks: queues, their processors, the outbox publisher, and the bus."""

    stack: LocalStack
    stripe_events: QueuePoller
    provider_events: QueuePoller
    outbox: StreamPoller
    observer_url: str
    sqs: Any

    def send(self, queue: QueuePoller, *bodies: str, attributes: dict[str, str] | None = None) -> None:
        """Put messages on a queue as a receiver would."""
        for body in bodies:
            self.sqs.send_message(
                QueueUrl=queue.queue_url,
                MessageBody=body,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value} for name, value in (attributes or {}).items()
                },
            )

    def deliver(self, *events: dict[str, Any]) -> None:
        """Stripe events through the queue, the processor and the publisher."""
        self.send(self.stripe_events, *(json.dumps(event) for event in events))
        self.settle()

    def settle(self) -> None:
        """Run the processors and the publisher until nothing is left to do."""
        self.stripe_events.drain()
        self.provider_events.drain()
        self.outbox.drain()

    def published(self) -> list[dict[str, Any]]:
        """Domain events the bus delivered to a subscriber since the last call (moto delivers as it accepts)."""
        taken: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.observer_url, MaxNumberOfMessages=10).get("Messages", []):
            taken += [json.loads(message["Body"]) for message in batch]
            for message in batch:
                self.sqs.delete_message(QueueUrl=self.observer_url, ReceiptHandle=message["ReceiptHandle"])
        return taken


@pytest.fixture(scope="session")
def pipeline_session(project_stack: LocalStack, moto_endpoint: str) -> Pipeline:
    """One set of pollers for the run (a stream is read once: a second reader would publish everything again)."""
    events, sqs = aws_client("events", moto_endpoint), aws_client("sqs", moto_endpoint)
    bus = project_stack.template.physical["DomainEventBus"]["Name"]
    url = sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"everything-{uuid.uuid4().hex[:8]}"
    pattern = json.dumps({"source": [{"prefix": "integrations."}]})
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=pattern)
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "subscriber", "Arn": arn}])
    specs = {spec.name: spec for spec in project_stack.template.functions()}
    return Pipeline(
        stack=project_stack,
        stripe_events=QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10),
        provider_events=QueuePoller(project_stack, "ProviderEventsFunction", "ProviderEventsQueue", 10),
        outbox=StreamPoller(project_stack, "OutboxPublisherFunction", specs["OutboxPublisherFunction"].streams[0]),
        observer_url=url,
        sqs=sqs,
    )


@pytest.fixture
def pipeline(pipeline_session: Pipeline, moto_server: MotoServer) -> Iterator[Pipeline]:
    """The pipeline with nothing left over from an earlier test: queues worked off, the bus read."""
    pipeline_session.settle()
    pipeline_session.published()
    yield pipeline_session
    moto_server.down.clear()


@dataclass
class IsolatedStack:
    """The template as a stack of its own: own tables, secrets and containers, its gateway at ``api``."""

    stack: LocalStack
    api: str


@pytest.fixture
def isolated(
    moto_server: MotoServer,
    seeded_secrets: dict[str, Any],
    stripe_sandbox: StripeSandbox,
    hotelbeds_sandbox: HotelbedsSandbox,
) -> Iterator[IsolatedStack]:
    """For a test that changes what every container shares (opens Stripe's breaker, fills a limit)."""
    environment = sandbox_environment(stripe_sandbox, hotelbeds_sandbox)
    overrides = {"AWS::StackName": f"isolated-{uuid.uuid4().hex[:8]}"}
    stack = LocalStack(ROOT / "template.yaml", moto_server.endpoint, overrides, environment)
    stack.provision(seeded_secrets, moto_server.iam)
    gateway = Gateway(stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    yield IsolatedStack(stack, f"http://127.0.0.1:{gateway.port}")
    gateway.shutdown()
    stack.stop()
