"""Reconciliation's passes over Stripe's Events API, page by page, against the sandbox (on one backend)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.sandboxes.stripe import StripeSandbox
from seawall.aws import aws_client
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.reconcile import OVERLAP_SECONDS, PAGE_SIZE, EventReconciler
from seawall.sync import Page, Position
from seawall.webhooks import WebhookInbox

on_dynamodb = pytest.mark.parametrize("state", ["dynamodb"], indirect=True)


@pytest.fixture
def reconciler(gateway: Callable[..., StripeGateway], aws: str) -> EventReconciler:
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=f"reconciled-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    return EventReconciler(gateway(), WebhookInbox("stripe", url, sqs), lookback_seconds=3600)


def ids(page: Page[bytes]) -> list[str]:
    return [json.loads(payload)["id"] for payload in page.items]


def walk(fetch: Callable[[Position], Page[bytes]], position: Position) -> tuple[list[Page[bytes]], Position]:
    pages = [fetch(position)]
    while pages[-1].has_more:
        pages.append(fetch(pages[-1].position))
    return pages, pages[-1].position


def age(sandbox: StripeSandbox, seconds: int) -> None:
    """Every event the sandbox holds, made ``seconds`` earlier than it was."""
    for event in sandbox.events:
        event["created"] -= seconds


@on_dynamodb
def test_a_pass_lists_every_event_newest_first_and_the_next_pass_only_the_overlap_and_after(
    reconciler: EventReconciler, stripe_env: StripeSandbox
) -> None:
    stripe_env.make_customers(PAGE_SIZE + 50)
    age(stripe_env, 2 * OVERLAP_SECONDS)  # made two overlaps before the first pass
    began = time.time()
    pages, end = walk(reconciler.new_events, Position())
    listed = [event_id for page in pages for event_id in ids(page)]
    assert listed == [event["id"] for event in reversed(stripe_env.events)]  # Stripe's order: newest first
    assert [page.position.cursor is None for page in pages] == [False, True]  # mid-pass: where to resume
    assert pages[0].position.cursor.startswith("pass:")  # type: ignore[union-attr]
    assert end.cursor is None
    assert end.at is not None
    assert began <= end.at <= time.time()  # the pass covers what was made before it began

    newer = stripe_env.make_customers(3)
    pages, _ = walk(reconciler.new_events, end)
    assert [event_id for page in pages for event_id in ids(page)] == [
        event["id"] for event in reversed(stripe_env.events) if event["data"]["object"]["id"] in newer
    ]  # the old ones are older than the overlap behind the last pass's start


@on_dynamodb
def test_a_pass_cut_short_resumes_where_it_stopped(reconciler: EventReconciler, stripe_env: StripeSandbox) -> None:
    stripe_env.make_customers(2 * PAGE_SIZE + 10)
    first = reconciler.new_events(Position())
    during = stripe_env.make_customers(5)  # made during the pass: the next pass lists them
    rest, end = walk(reconciler.new_events, first.position)  # a new run, from the stored position
    listed = ids(first) + [event_id for page in rest for event_id in ids(page)]
    assert len(listed) == len(set(listed)) == 2 * PAGE_SIZE + 10
    assert end.cursor is None
    after, _ = walk(reconciler.new_events, end)
    objects = {json.loads(payload)["data"]["object"]["id"] for page in after for payload in page.items}
    assert set(during) <= objects


@on_dynamodb
def test_an_earlier_releases_cursor_starts_a_pass_from_its_time(
    reconciler: EventReconciler, stripe_env: StripeSandbox
) -> None:
    stripe_env.make_customers(4)
    at = float(stripe_env.events[-1]["created"])
    age(stripe_env, 10 * OVERLAP_SECONDS)  # long before the stored time: not listed again
    recent = stripe_env.make_customers(2)
    page = reconciler.new_events(Position(stripe_env.events[0]["id"], at))  # the old form: the newest id queued
    assert {json.loads(payload)["data"]["object"]["id"] for payload in page.items} == set(recent)


@on_dynamodb
def test_a_pass_whose_last_event_is_gone_from_stripe_ends(
    reconciler: EventReconciler, stripe_env: StripeSandbox
) -> None:
    stripe_env.make_customers(PAGE_SIZE + 1)
    first = reconciler.new_events(Position())
    stripe_env.events[:] = stripe_env.events[-PAGE_SIZE:]  # the pass's last event is past Stripe's 30 days
    gone = reconciler.new_events(first.position)
    assert (gone.items, gone.has_more, gone.position.cursor) == ([], False, None)


@on_dynamodb
def test_the_undelivered_pass_lists_only_failed_or_pending_deliveries(
    reconciler: EventReconciler, stripe_env: StripeSandbox
) -> None:
    made = stripe_env.make_customers(6)
    lost = {event["id"] for event in stripe_env.events[::2]}
    stripe_env.undelivered |= lost
    pages, end = walk(reconciler.undelivered_events, Position())
    assert {event_id for page in pages for event_id in ids(page)} == lost
    assert (end.cursor, len(made)) == (None, 6)


@on_dynamodb
def test_an_event_the_processor_could_not_read_is_not_queued(
    reconciler: EventReconciler, stripe_env: StripeSandbox
) -> None:
    stripe_env.make_customers(2)
    stripe_env.events[0]["data"]["object"]["email"] = "x" * 1000  # longer than Stripe allows
    page: Page[Any] = reconciler.new_events(Position())
    assert ids(page) == [stripe_env.events[1]["id"]]
