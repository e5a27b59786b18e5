"""Reconciling Stripe's events with what the webhooks delivered: the Events API, paged onto the processor's queue.

Webhook delivery is at least once but not guaranteed (an endpoint down for
three days, a deploy that dropped requests). A sync job walks the Events API
oldest first and queues every event for the same processor, which is
idempotent on the event id: an event that came both ways has one effect.

Stripe lists events newest first. A cursor is the id of the newest event
queued; ``ending_before=<cursor>`` answers the page just newer than it, so
each run walks forward from where the last one checkpointed. With no cursor
the job first pages back through the look-back window (``scan:<id>``
cursors, one request a page, checkpointed like any page) to its oldest
events, and walks forward from there. A cursor Stripe no longer knows (its
event is past Stripe's 30 days) starts a scan from the cursor's time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from seawall.errors import IntegrationError, WebhookPayloadError
from seawall.observability import emit, logger
from seawall.providers.stripe import SERVICE
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.webhooks import parse_event
from seawall.sync import Page, Position
from seawall.webhooks import WebhookInbox

if TYPE_CHECKING:  # typing only: stripe.params loads every parameter type, about 60 ms
    from stripe.params import EventListParams

# Stripe keeps events for 30 days.
MAX_LOOKBACK_SECONDS = 30 * 24 * 3600
PAGE_SIZE = 100
_SCAN = "scan:"


def _newest(events: Sequence[dict[str, Any]]) -> Position:
    """The position after a page listed newest first: its first event."""
    return Position(events[0]["id"], float(events[0]["created"]))


class EventReconciler:
    """The fetch and apply halves of Stripe's reconciliation jobs."""

    def __init__(self, stripe: StripeGateway, inbox: WebhookInbox, *, lookback_seconds: int) -> None:
        self.stripe = stripe
        self.inbox = inbox
        self.lookback_seconds = min(lookback_seconds, MAX_LOOKBACK_SECONDS)

    def _since(self, at: float | None) -> int:
        oldest = int(time.time()) - self.lookback_seconds
        return oldest if at is None else max(oldest, int(at))

    def payloads(self, events: Sequence[dict[str, Any]]) -> list[bytes]:
        """Each event as the processor reads it; one it could not read is logged and left out, never queued."""
        payloads = []
        for event in events:
            payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            try:
                parse_event(payload)
            except WebhookPayloadError as error:
                logger.warning("listed event not queued", extra={"event_id": event.get("id"), "reason": error.reason})
                emit("ReconcileSkipped", provider=SERVICE, reason=error.reason)
                continue
            payloads.append(payload)
        return payloads

    def new_events(self, position: Position) -> Page[bytes]:
        """The next page of events after ``position``, oldest first (see the module's docstring)."""
        cursor = position.cursor
        if cursor is None or cursor.startswith(_SCAN):
            return self._scan(position)
        try:
            page = self.stripe.list_events({"ending_before": cursor, "limit": PAGE_SIZE})
        except IntegrationError as error:
            if error.status_code not in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
                raise
            logger.warning("the cursor's event is gone; scanning from its time", extra={"cursor": cursor})
            return Page([], Position(None, position.at), True)
        events: list[dict[str, Any]] = page["data"]
        if not events:
            return Page([], position, False)
        return Page(self.payloads(events[::-1]), _newest(events), page["has_more"])

    def _scan(self, position: Position) -> Page[bytes]:
        """One page back through the look-back window; its last page holds the oldest events, queued first."""
        params: EventListParams = {"created": {"gte": self._since(position.at)}, "limit": PAGE_SIZE}
        if position.cursor is not None:
            params["starting_after"] = position.cursor.removeprefix(_SCAN)
        page = self.stripe.list_events(params)
        events: list[dict[str, Any]] = page["data"]
        if page["has_more"]:
            return Page([], Position(_SCAN + events[-1]["id"], position.at), True)
        if not events:
            return Page([], Position(None, position.at), False)
        # The walk goes on forward from the newest event of this, the oldest, page.
        return Page(self.payloads(events[::-1]), _newest(events), True)

    def undelivered_events(self, position: Position) -> Page[bytes]:
        """The next page of events whose webhook delivery failed, within the look-back window.

        Stripe lists them newest first with no cursor of their own: each run
        pages through all of them (``after:<id>``) and the next starts over;
        queuing one again has no effect.
        """
        params: EventListParams = {"delivery_success": False, "created": {"gte": self._since(None)}, "limit": PAGE_SIZE}
        if position.cursor is not None:
            params["starting_after"] = position.cursor
        page = self.stripe.list_events(params)
        events: list[dict[str, Any]] = page["data"]
        if not page["has_more"] or not events:
            return Page(self.payloads(events), Position(None, None), False)
        return Page(self.payloads(events), Position(events[-1]["id"], None), True)

    def queue(self, payloads: Sequence[bytes]) -> None:
        """Put the events on the processor's queue."""
        self.inbox.put_batch(payloads, correlation_id=f"reconcile-{int(time.time())}")
