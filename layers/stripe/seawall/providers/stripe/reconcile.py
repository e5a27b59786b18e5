"""Reconciling Stripe's events with what the webhooks delivered: the Events API, paged onto the processor's queue.

Webhook delivery is at least once but not guaranteed (an endpoint down for
three days, a deploy that dropped requests). A sync job lists Stripe's events
and queues every one for the same processor, which is idempotent on the event
id: an event that came both ways has one effect, and the order they are
queued in does not matter (projections converge whatever the order).

The ``events`` job walks in passes. A pass lists every event created since
the previous pass began, less ``OVERLAP_SECONDS``, newest first, a page at a
time; its cursor (``pass:<start time>:<last id>``) lets a run cut short resume
the pass where it stopped. When the pass has listed its oldest page, the
stored position moves to the time the pass began and the cursor is cleared:
the next run starts a new pass. Why the overlap: Stripe's ``created`` is in
whole seconds and a list taken during a second need not show every event of
that second yet, so a net that started exactly where the last pass ended would
depend on how same-second events tie and on the two clocks agreeing. The
overlap's events are queued again and the processor drops them. Without a
stored time the first pass looks back ``lookback_seconds``; a cursor of any
other form (an earlier release's) starts a pass from the stored time.

The ``undelivered`` job walks the same passes over the events whose webhook
delivery failed or is still pending (``delivery_success=false``): a pass lists
those created since its previous pass began, less the overlap.
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
# Each pass lists this far behind where the previous one began (see the module's docstring).
OVERLAP_SECONDS = 60
_CURSOR_PREFIX = "pass:"


def _pass_of(cursor: str | None) -> tuple[float | None, str | None]:
    """A pass's start time and the last event it listed, from its cursor; ``(None, None)`` starts a new pass."""
    if cursor is None or not cursor.startswith(_CURSOR_PREFIX):
        return None, None
    started, _, after = cursor.removeprefix(_CURSOR_PREFIX).partition(":")
    return float(started), after or None


class EventReconciler:
    """The fetch and apply halves of Stripe's reconciliation jobs."""

    def __init__(self, stripe: StripeGateway, inbox: WebhookInbox, *, lookback_seconds: int) -> None:
        self.stripe = stripe
        self.inbox = inbox
        self.lookback_seconds = min(lookback_seconds, MAX_LOOKBACK_SECONDS)

    def _since(self, at: float | None, overlap: float) -> int:
        """The oldest ``created`` a pass lists: ``overlap`` behind ``at``, never past the look-back window."""
        oldest = int(time.time()) - self.lookback_seconds
        return oldest if at is None else max(oldest, int(at - overlap))

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

    def new_events(self, position: Position, *, overlap: float = OVERLAP_SECONDS) -> Page[bytes]:
        """The next page of the ``events`` job's pass, or the first page of a new one (see the module's docstring).

        A pass lists from ``overlap`` seconds before the stored time (0 lists exactly from it).
        """
        return self._pass(position, overlap, {})

    def undelivered_events(self, position: Position) -> Page[bytes]:
        """The next page of the ``undelivered`` job's pass: events whose webhook delivery failed or is pending.

        Passes as the ``events`` job's: an event listed as delivered when a
        pass began cannot become undelivered later, so each pass need only
        list what was created since the previous one began (less the overlap).
        """
        return self._pass(position, OVERLAP_SECONDS, {"delivery_success": False})

    def _pass(self, position: Position, overlap: float, filters: EventListParams) -> Page[bytes]:
        started, after = _pass_of(position.cursor)
        if started is None:
            started = time.time()
        params: EventListParams = {**filters, "created": {"gte": self._since(position.at, overlap)}, "limit": PAGE_SIZE}
        if after is not None:
            params["starting_after"] = after
        try:
            page = self.stripe.list_events(params)
        except IntegrationError as error:
            if after is None or error.status_code not in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
                raise
            # The event the pass stopped at is past Stripe's 30 days, and so is every older one: the pass is done.
            logger.warning("the pass's last event is gone; the pass ends", extra={"cursor": position.cursor})
            return Page([], Position(None, started), False)
        events: list[dict[str, Any]] = page["data"]
        if page["has_more"] and events:
            return Page(
                self.payloads(events), Position(f"{_CURSOR_PREFIX}{started!r}:{events[-1]['id']}", position.at), True
            )
        return Page(self.payloads(events), Position(None, started), False)

    def queue(self, payloads: Sequence[bytes]) -> None:
        """Put the events on the processor's queue."""
        self.inbox.put_batch(payloads, correlation_id=f"reconcile-{int(time.time())}")
