"""The real template running locally, as `make run` runs it: a pytest plugin (see tests/conftest.py).

Functions run in containers of their own (``local.runtime``), call moto with
their own roles (local IAM), and are fed by the same gateway and pollers.
Nothing here reaches into a function's process: tests see what a client, a
queue or the bus sees.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.aws import MotoServer, aws_client
from local.eventsource import FunctionStreams, QueuePoller
from local.gateway import Gateway, served
from local.httpserver import ServedOnThread
from local.sandboxes import local_providers
from local.sandboxes.hotelbeds import SUITE_DAILY_QUOTA, HotelbedsSandbox
from local.sandboxes.stripe import StripeSandbox
from local.secrets import ensure_secrets_file
from local.stack import LocalStack
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Fresh test values for every secret of the real template and of the sandboxes, as `make run` makes them."""
    names = [
        *Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"),
        *(name for provider in local_providers() for name in provider.secrets),
    ]
    return ensure_secrets_file(tmp_path_factory.mktemp("local") / "secrets.json", names)


# The template's parameters as the sandboxes read them in the suite: the Hotelbeds sandbox's quota is the
# suite's (the functions', from its test environment), not an evaluation key's.
SANDBOX_PARAMETERS = {"HotelbedsDailyQuota": str(SUITE_DAILY_QUOTA)}


@pytest.fixture(scope="session")
def sandboxes(seeded_secrets: dict[str, Any]) -> Iterator[dict[str, ServedOnThread]]:
    """Every local provider's sandbox by name, accepting the seeded secrets, as `make run` starts it."""
    parameters = Template(ROOT / "template.yaml", SANDBOX_PARAMETERS).parameters
    started: dict[str, ServedOnThread] = {}
    with contextlib.ExitStack() as running:
        for provider in local_providers():
            started[provider.name] = provider.start(seeded_secrets, parameters, 0)
            running.callback(started[provider.name].stop)
        yield started


@pytest.fixture(scope="session")
def stripe_sandbox(sandboxes: dict[str, ServedOnThread]) -> StripeSandbox:
    """The Stripe sandbox, accepting the seeded Stripe key, as `make run` starts it."""
    sandbox = sandboxes["stripe"]
    assert isinstance(sandbox, StripeSandbox)
    return sandbox


@pytest.fixture(scope="session")
def hotelbeds_sandbox(sandboxes: dict[str, ServedOnThread]) -> HotelbedsSandbox:
    """The Hotelbeds sandbox, accepting the seeded key and secret, as `make run` starts it."""
    sandbox = sandboxes["hotelbeds"]
    assert isinstance(sandbox, HotelbedsSandbox)
    return sandbox


def sandbox_environment(sandboxes: Mapping[str, ServedOnThread]) -> dict[str, str]:
    """Every function's settings for the sandboxes (by provider name), with limits the suite's pace never meets."""
    environment: dict[str, str] = {}
    for provider in local_providers():
        environment |= provider.environment(sandboxes[provider.name]) | dict(provider.test_environment)
    return environment


@pytest.fixture(scope="session")
def project_stack(
    moto_server: MotoServer, seeded_secrets: dict[str, Any], sandboxes: dict[str, ServedOnThread]
) -> Iterator[LocalStack]:
    """The real template's resources in moto and its functions, each in containers of its own."""
    stack = LocalStack(ROOT / "template.yaml", moto_server.endpoint, environment=sandbox_environment(sandboxes))
    stack.provision(seeded_secrets, moto_server.iam)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def api(project_stack: LocalStack) -> Iterator[str]:
    """The local gateway over the real template, on a free port."""
    with served(project_stack) as url:
        yield url


# What WebhookInbox puts on every message it queues (Stripe's EventBridge destination can put none).
STRIPE_ATTRIBUTES = {"provider": "stripe"}


@dataclass
class Pipeline:
    """The event path behind the webhooks: queues, their processors, the outbox publisher, and the bus."""

    stack: LocalStack
    stripe_events: QueuePoller
    provider_events: QueuePoller
    outbox: FunctionStreams
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

    def queue(self, *events: dict[str, Any]) -> None:
        """Stripe events on their queue, as the receiver and reconciliation put them (marked with their provider)."""
        self.send(self.stripe_events, *(json.dumps(event) for event in events), attributes=STRIPE_ATTRIBUTES)

    def deliver(self, *events: dict[str, Any]) -> None:
        """Stripe events through the queue, the processor and the publisher."""
        self.queue(*events)
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
    return Pipeline(
        stack=project_stack,
        stripe_events=QueuePoller(project_stack, "StripeEventsFunction", "StripeEventsQueue", 10),
        provider_events=QueuePoller(project_stack, "ProviderEventsFunction", "ProviderEventsQueue", 10),
        outbox=FunctionStreams(project_stack, "OutboxPublisherFunction"),
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
    sandboxes: dict[str, ServedOnThread],
) -> Iterator[IsolatedStack]:
    """For a test that changes what every container shares (opens Stripe's breaker, fills a limit)."""
    environment = sandbox_environment(sandboxes)
    overrides = {"AWS::StackName": f"isolated-{uuid.uuid4().hex[:8]}"}
    stack = LocalStack(ROOT / "template.yaml", moto_server.endpoint, overrides, environment)
    stack.provision(seeded_secrets, moto_server.iam)
    gateway = Gateway(stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    yield IsolatedStack(stack, f"http://127.0.0.1:{gateway.port}")
    gateway.shutdown()
    stack.stop()
