"""Every webhook lost, customers made for a while, the reconciliation's schedules running: nothing lost.

Through `make run` with its schedules sped up (``--schedule-speedup 60``: the
15-minute pass every 15 seconds, the hourly undelivered pass every minute),
Stripe failing with 503s from the middle of it until the reconciliation's runs
have opened its breaker. Each
``customer.created`` must be projected once and published once, no run may
fail (runs refused by the breaker end with their report and the next resumes),
and no message may reach a dead-letter queue.

The suite makes ``RECOVERY_CUSTOMERS`` (300) customers across
``RECOVERY_SECONDS`` (15); the figures in docs/benchmarks.md come from
``RECOVERY_CUSTOMERS=2000 RECOVERY_SECONDS=60``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.stripe_run import Running, running_stack

CUSTOMERS = int(os.environ.get("RECOVERY_CUSTOMERS", "300"))
SECONDS = int(os.environ.get("RECOVERY_SECONDS", "15"))
# Enough 503s for the reconciliation's runs to open Stripe's breaker (ten calls, half failing).
OUTAGE = [{"status": 503}] * 40


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_stack(
        tmp_path_factory.mktemp("make-run"),
        "SyncPageSeconds=1",
        "StateBackend=upstash",
        options=("--schedule-speedup", "60"),
    ) as stack:
        yield stack


def sync_runs(stack: Running) -> list[dict[str, Any]]:
    """Every run's log line so far (the functions' JSON logs in make run's output)."""
    runs = []
    for line in (stack.state_dir / "make-run.log").read_text().splitlines():
        start = line.find("{")
        if start < 0 or '"sync run finished"' not in line:
            continue
        runs.append(json.loads(line[start:]))
    return runs


def test_with_every_webhook_lost_and_the_breaker_opened_midway_every_customer_arrives_once(
    scheduled: Running,
) -> None:
    subscriber = scheduled.subscribe()
    scheduled.sandbox.post("/_sandbox/webhooks", json={"drop": 1.0})
    made: set[str] = set()
    began = time.monotonic()
    per_second = max(1, CUSTOMERS // SECONDS)
    for second in range(SECONDS):
        if second == SECONDS // 2:
            scheduled.sandbox.post("/_sandbox/faults", json={"queue": OUTAGE})
        batch = per_second if second < SECONDS - 1 else CUSTOMERS - len(made)
        made |= set(scheduled.sandbox.post("/_sandbox/events", json={"customers": batch}).json()["customers"])
        time.sleep(max(0.0, began + second + 1 - time.monotonic()))
    assert len(made) == CUSTOMERS
    opened_by = time.monotonic() + 180
    while not any(run["outcome"] == "circuit-open" for run in sync_runs(scheduled)):
        assert time.monotonic() < opened_by, "the breaker never opened"
        time.sleep(1)
    scheduled.sandbox.post("/_sandbox/faults", json={})  # Stripe is back; the breaker lets a probe through soon
    created_by = time.monotonic()

    # A copy of an event met while another container applies it returns after the queue's 180 s visibility.
    until = created_by + 240 + 180 + SECONDS
    while (missing := made - scheduled.customers()) and time.monotonic() < until:
        time.sleep(2)
    recovered_after = time.monotonic() - created_by
    scheduled.settled(limit=240 + CUSTOMERS // 10)  # past the queue's 180 s visibility: a retried record returns
    assert missing == set(), f"{len(missing)} never projected; see {scheduled.state_dir / 'make-run.log'}"

    facts = scheduled.facts(subscriber, CUSTOMERS)
    assert len(facts) == CUSTOMERS  # one domain event per customer.created (a publish repeated is the same fact)
    assert all(len(versions) == 1 for versions in facts.values())
    assert {json.loads(next(iter(versions)))["customer_id"] for versions in facts.values()} == made

    sqs = scheduled.aws("sqs")
    for queue in ("StripeEventsDeadLetterQueue", "StripeReconcileDeadLetterQueue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=scheduled.resource(queue), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0", queue
    outcomes = Counter(run["outcome"] for run in sync_runs(scheduled))
    assert outcomes["circuit-open"] >= 1, outcomes  # refused runs ended with their report...
    assert outcomes["caught-up"] >= 1, outcomes  # ...and the next resumed
    print(
        json.dumps(
            {
                "customers": CUSTOMERS,
                "seconds_creating": SECONDS,
                "webhooks_dropped": 1.0,
                "recovered_seconds_after_stripe_was_back": round(recovered_after, 1),
                "projected_once": len(made),
                "domain_events": len(facts),
                "lost": 0,
                "doubled": 0,
                "runs_by_outcome": dict(outcomes),
            }
        )
    )
