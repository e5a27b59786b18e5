"""A `make run` of the real template for Stripe's recovery tests, and what an outsider can do with it."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.make_run import (
    BANNER_END,
    ROOT,
    follow,
    outside_client,
    read_until,
    run_module,
    stack_state,
    start,
    stop,
)


@dataclass
class Running:
    """The running stack and the clients an outsider has for it."""

    state_dir: Path
    state: dict[str, Any]
    sandbox: httpx.Client
    api_key: str

    def aws(self, service: str) -> Any:
        return outside_client(self.state, service)

    def resource(self, name: str) -> str:
        physical: str = self.state["resources"][name]["Ref"]
        return physical

    def reconcile(self, timeout: float | None) -> dict[str, Any]:
        """``make invoke FUNCTION=StripeReconcileFunction EVENT=events/stripe/stripe_reconcile/scheduled.json``.

        The run's report; a run that failed is reported as Lambda reports it, and only moto too busy to
        answer in time is expected (it serves one request at a time: under the processors' load a state
        call, or the SQS call queueing a page, can wait past its timeout). The schedule would retry it;
        here the next round does.
        """
        arguments = ["local.invoke", "StripeReconcileFunction", "-e", "events/stripe/stripe_reconcile/scheduled.json"]
        if timeout is not None:
            arguments += ["--timeout", str(timeout)]
        result = run_module(arguments, self.state_dir, timeout=180)
        answer: dict[str, Any] = json.loads(result.stdout)
        if result.returncode != 0:
            busy = answer.get("errorType") == "StoreUnavailableError" or str(answer.get("errorMessage")).startswith(
                "sqs: the events could not be queued"
            )
            assert busy, result.stdout + result.stderr[-2000:]
            return {"outcome": "failed", "held_from": None, "requests": 0, "pages": 0}
        return answer

    def subscribe(self) -> str:
        """A queue receiving every domain event, as a subscriber of DomainEventBus would."""
        sqs, events = self.aws("sqs"), self.aws("events")
        url: str = sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = self.state["resources"]["DomainEventBus"]["Name"]
        events.put_rule(
            Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": ["integrations.stripe"]})
        )
        events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "subscriber", "Arn": arn}])
        return url

    def received(self, url: str) -> list[dict[str, Any]]:
        sqs, taken = self.aws("sqs"), []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            taken += [json.loads(message["Body"]) for message in batch]
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        return taken

    def facts(self, url: str, expected: int, limit: float = 60) -> dict[str, set[str]]:
        """Each Stripe event's domain events the subscriber at ``url`` received (their details, as JSON).

        The publisher reads the projections' streams after the queue is empty: this waits (up to ``limit``
        seconds) until ``expected`` events have one each.
        """
        found: defaultdict[str, set[str]] = defaultdict(set)
        until = time.monotonic() + limit
        while len(found) < expected and time.monotonic() < until:
            for event in self.received(url):
                found[event["detail"]["stripe_event_id"]].add(json.dumps(event["detail"], sort_keys=True))
            time.sleep(0.5)
        return found

    def settled(self, limit: float) -> None:
        """Wait until StripeEventsQueue has nothing waiting or in flight, twice in a row."""
        sqs, url, quiet = self.aws("sqs"), self.resource("StripeEventsQueue"), 0
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        until = time.monotonic() + limit
        while quiet < 2:
            assert time.monotonic() < until, "StripeEventsQueue did not drain"
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
            quiet = quiet + 1 if not any(int(attributes[name]) for name in names) else 0
            time.sleep(1)

    def customers(self) -> set[str]:
        pages = (
            self.aws("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=self.resource("CustomersTable"), ProjectionExpression="id")
        )
        return {item["id"]["S"] for page in pages for item in page["Items"]}

    def job_record(self) -> dict[str, str]:
        """The job's stored record, read as an operator would: Upstash's URL and token from Secrets Manager."""
        secret = self.aws("secretsmanager").get_secret_value(SecretId=self.resource("UpstashSecret"))
        upstash = json.loads(secret["SecretString"])
        answer = httpx.post(
            upstash["url"],
            json=["HGETALL", "sync:stripe-events"],
            headers={"Authorization": f"Bearer {upstash['token']}"},
        )
        fields: list[str] = answer.json()["result"]
        return dict(zip(fields[::2], fields[1::2], strict=True))


@contextmanager
def running_stack(state_dir: Path, *parameters: str, options: tuple[str, ...] = ()) -> Iterator[Running]:
    """``python -m local`` with these parameter overrides (and options), its output copied to make-run.log."""
    process = start(state_dir, ROOT / "template.yaml", *options, "--parameter-overrides", *parameters)
    try:
        read_until(process, BANNER_END)
        follow(process, state_dir / "make-run.log")  # the stack's output, for when a test fails
        state = stack_state(state_dir)
        secrets = json.loads((state_dir / "secrets.json").read_text())
        with httpx.Client(base_url=state["environment"]["STRIPE_API_BASE"], timeout=60) as sandbox:
            yield Running(state_dir, state, sandbox, secrets["StripeSecret"]["api_key"])
    finally:
        stop(process)
