"""Stripe reconciliation through `make run`: a thousand events, a third of the webhooks lost, each applied once.

The stack runs as its users run it (``python -m local`` with template.yaml,
``SyncPageSeconds=1``); everything else is an outside client: the sandbox's
control endpoints, ``python -m local.invoke`` (``make invoke``) for the
reconciliation runs, boto3 against the local AWS endpoint for what landed.

Shared state (idempotency records, limiter, breaker, the job's lease and
cursor) is on Upstash (``StateBackend=upstash``, Valkey behind the local REST
endpoint): moto serves one request at a time and copies every table a
transaction touches, so at a thousand events its answers to the state calls
queue behind the projections' transactions past their 0.8-second timeouts,
which DynamoDB's do not. The DynamoDB backend's sync jobs are
tests/state/test_sync.py's.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

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

EVENTS = 1000
DROP = 0.3
STRIPE_TEST_MODE_RATE = 25  # requests a second; the sandbox answers 429 beyond it
SHORT_TIMEOUT = 5.0  # seconds: room for a Stripe call (its attempt timeout) and a few pages, then cut


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
        """``make invoke FUNCTION=StripeReconcileFunction EVENT=events/stripe_reconcile/scheduled.json [TIMEOUT=…]``.

        The run's report; a run that failed is reported as Lambda reports it, and only moto too busy to
        answer in time is expected (it serves one request at a time: under the processors' load a state
        call, or the SQS call queueing a page, can wait past its timeout). The schedule would retry it;
        here the next round does.
        """
        arguments = ["local.invoke", "StripeReconcileFunction", "-e", "events/stripe_reconcile/scheduled.json"]
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


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    state_dir = tmp_path_factory.mktemp("make-run")
    process = start(
        state_dir, ROOT / "template.yaml", "--parameter-overrides", "SyncPageSeconds=1", "StateBackend=upstash"
    )
    read_until(process, BANNER_END)
    follow(process, state_dir / "make-run.log")  # the stack's output, for when a test fails
    state = stack_state(state_dir)
    secrets = json.loads((state_dir / "secrets.json").read_text())
    with httpx.Client(base_url=state["environment"]["STRIPE_API_BASE"], timeout=60) as sandbox:
        yield Running(state_dir, state, sandbox, secrets["StripeSecret"]["api_key"])
    stop(process)


def _overlapping(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    held = sorted((run for run in runs if run["held_from"] is not None), key=lambda run: run["held_from"])
    return [(first, second) for first, second in itertools.pairwise(held) if second["held_from"] < first["held_until"]]


def test_a_thousand_events_a_third_of_their_webhooks_lost_are_each_applied_once(running: Running) -> None:
    subscriber = running.subscribe()
    running.sandbox.post("/_sandbox/faults", json={"requests_per_second": STRIPE_TEST_MODE_RATE})
    running.sandbox.post("/_sandbox/webhooks", json={"drop": DROP})
    made = set(running.sandbox.post("/_sandbox/events", json={"customers": EVENTS}).json()["customers"])
    while (deliveries := running.sandbox.get("/_sandbox/webhooks").json())["pending"]:
        time.sleep(1)
    assert 0.2 * EVENTS < deliveries["undelivered"] < 0.4 * EVENTS
    running.settled(limit=300)  # the delivered ones applied

    # Two runs at once each round, as a schedule firing during a manual run: with a deadline five seconds
    # away until one is cut short in the middle of a page (fetched, partly queued, not checkpointed: the
    # next run queues it again), then with the function's own timeout until one has caught up.
    runs: list[dict[str, Any]] = []

    def cut_mid_page() -> list[dict[str, Any]]:
        return [run for run in runs if run["outcome"] == "out-of-time" and run["requests"] > run["pages"]]

    with ThreadPoolExecutor(2) as pool:
        while not cut_mid_page() and len(runs) < 40:
            runs += pool.map(running.reconcile, [SHORT_TIMEOUT] * 2)
        until = time.monotonic() + 240
        while not any(run["outcome"] == "caught-up" for run in runs) and time.monotonic() < until:
            runs += pool.map(running.reconcile, [None] * 2)
    summary = [(run["outcome"], run["pages"], run["requests"]) for run in runs]
    assert cut_mid_page(), summary
    outcomes = Counter(run["outcome"] for run in runs)
    assert outcomes["caught-up"] >= 1, summary
    assert outcomes["lease-held"] >= 1, summary  # the second of a pair found the first's lease
    assert _overlapping(runs) == []  # never two runs holding the lease

    running.settled(limit=300)
    dead_letters = running.aws("sqs").get_queue_attributes(
        QueueUrl=running.resource("StripeEventsDeadLetterQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    missing = made - running.customers()
    assert (len(missing), dead_letters) == (0, "0"), f"see {running.state_dir / 'make-run.log'}"
    # One domain event per Stripe event: one id and one content, however often it was published (publication is
    # at least once: a PutEvents retried after a timeout may deliver twice; subscribers deduplicate on the id).
    domain_events: defaultdict[str, set[str]] = defaultdict(set)
    for event in running.received(subscriber):
        domain_events[event["detail"]["stripe_event_id"]].add(json.dumps(event["detail"], sort_keys=True))
    assert len(domain_events) == EVENTS
    assert all(len(versions) == 1 for versions in domain_events.values())
    assert {json.loads(next(iter(versions)))["customer_id"] for versions in domain_events.values()} == made
    record = running.job_record()
    assert "cursor" not in record  # the last pass ended: the next one starts over from its start time
    assert time.time() - float(record["position_at"]) < 600
    assert running.sandbox.get("/_sandbox/faults").json()["throttled"] == 0  # no 429 from Stripe

    again = running.reconcile(None)  # a new pass: it lists its overlap again, and nothing is applied twice
    assert again["outcome"] == "caught-up"
    running.settled(limit=120)
    for event in running.received(subscriber):  # at most a late copy of a fact already published
        assert json.dumps(event["detail"], sort_keys=True) in domain_events[event["detail"]["stripe_event_id"]]
