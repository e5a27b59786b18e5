"""``replay stripe``: Stripe events fetched from Stripe again and put on StripeEventsQueue, as reconciliation does.

The events are read from Stripe's Events API with the layer's client
(``StripeGateway``: the stack's Stripe secret, its limiter and breaker, so a
replay takes the account's quota as the fleet does), checked and queued by
the reconciler's own halves (``EventReconciler``, ``WebhookInbox.put_batch``).
The processor is idempotent on the event id: an event it already applied has
no second effect, one it never saw is applied once.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from argparse import Namespace
from collections.abc import Callable, Sequence

from ops.errors import OpsError, Refused
from ops.output import Output, timestamp
from ops.target import Target
from seawall.aws import aws_client
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.reconcile import MAX_LOOKBACK_SECONDS, EventReconciler
from seawall.providers.stripe.settings import StripeSettings
from seawall.sync import Position
from seawall.webhooks import WebhookInbox

QUEUE = "StripeEventsQueue"


def since(text: str) -> float:
    """``--since``: an ISO 8601 time (``2026-11-27T08:00:00Z``; without an offset, UTC) as Unix seconds."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OpsError(f"--since {text!r} is not an ISO 8601 time (e.g. 2026-11-27T08:00:00Z)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _reconciler(target: Target) -> EventReconciler:
    settings = target.settings(StripeSettings)
    if settings is None:
        raise OpsError(f"no function of {target.description} calls Stripe: nothing to replay with")
    stripe = StripeGateway(target.state, settings, wait_for_rate_limit=True)
    inbox = WebhookInbox("stripe", target.physical_id(QUEUE), aws_client("sqs"))
    return EventReconciler(stripe, inbox, lookback_seconds=MAX_LOOKBACK_SECONDS)


def _since(reconciler: EventReconciler, start: float) -> list[bytes]:
    """Every event from ``start`` on, newest first: one pass of the reconciliation's walk, from exactly ``start``."""
    queued: list[bytes] = []
    position = Position(None, start)
    correlation_id = f"ops-replay-{int(time.time())}"
    while True:
        page = reconciler.new_events(position, overlap=0)
        reconciler.inbox.put_batch(page.items, correlation_id)  # page by page: a failure leaves the rest for a rerun
        queued += page.items
        position = page.position
        if not page.has_more:
            return queued


def _events(reconciler: EventReconciler, event_ids: Sequence[str]) -> list[bytes]:
    """The events ``event_ids``, each read from Stripe, queued in the order given."""
    payloads = reconciler.payloads([reconciler.stripe.get_event(event_id) for event_id in event_ids])
    reconciler.inbox.put_batch(payloads, f"ops-replay-{int(time.time())}")
    return payloads


def replay(target: Target, args: Namespace) -> Output:
    """``replay stripe --event ID ... | --since TIME``: the events on StripeEventsQueue (``--yes``; else the plan)."""
    fetch: Callable[[EventReconciler], list[bytes]]
    if args.event:
        what, fetch = f"the events {', '.join(args.event)}", lambda reconciler: _events(reconciler, args.event)
    else:
        start = since(args.since)
        what, fetch = f"every event since {timestamp(start)}", lambda reconciler: _since(reconciler, start)
    if not args.yes:
        raise Refused(
            f"would fetch {what} from Stripe and put them on {QUEUE} for StripeEventsFunction",
            {"events": args.event, "since": args.since, "queue": QUEUE},
        )
    event_ids = [json.loads(payload)["id"] for payload in fetch(_reconciler(target))]
    data = {"queue": QUEUE, "queued": len(event_ids), "event_ids": event_ids}
    return Output(data, [f"Put {len(event_ids)} Stripe events on {QUEUE}: {what}."])
