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
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.stripe_run import Running, running_stack

EVENTS = 1000
DROP = 0.3
STRIPE_TEST_MODE_RATE = 25  # requests a second; the sandbox answers 429 beyond it
SHORT_TIMEOUT = 5.0  # seconds: room for a Stripe call (its attempt timeout) and a few pages, then cut


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_stack(tmp_path_factory.mktemp("make-run"), "SyncPageSeconds=1", "StateBackend=upstash") as stack:
        yield stack


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
    domain_events = running.facts(subscriber, EVENTS)
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
