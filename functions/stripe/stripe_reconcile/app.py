"""Scheduled: Stripe's events that the webhooks missed, from the Events API onto StripeEventsQueue.

Two schedules call it: ``{"mode": "events"}`` walks every event after the
cursor, oldest first; ``{"mode": "undelivered"}`` lists the events whose
webhook delivery failed. Either way the same processor applies them, once per
event id. Runs never overlap (a fleet-wide lease), stop before the deadline
and resume from their checkpoint, and take only their share of Stripe's quota.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.reconcile import EventReconciler
from seawall.ratelimit import Limit
from seawall.state import SharedState
from seawall.sync import Page, Position
from seawall.webhooks import WebhookInbox


class ReconcileSettings(BaseModel):
    """How far back a first run looks, the job's share of Stripe's quota, the time a page and a run may take."""

    lookback_days: int = Field(alias="STRIPE_RECONCILE_LOOKBACK_DAYS", default=3, ge=1, le=30)
    quota_share: float = Field(alias="SYNC_QUOTA_SHARE", default=0.5, gt=0, le=1)
    page_seconds: float = Field(alias="SYNC_PAGE_SECONDS", default=5.0, gt=0)
    run_seconds: float = Field(alias="SYNC_RUN_SECONDS", default=0, ge=0)  # 0: until the function's deadline


class ScheduledRun(BaseModel):
    """The schedule's input."""

    model_config = ConfigDict(extra="ignore")

    mode: Literal["events", "undelivered"] = "events"


settings = load_settings(ReconcileSettings)
state = SharedState.from_env()
stripe = StripeGateway(state, wait_for_rate_limit=True)
reconciler = EventReconciler(
    stripe, WebhookInbox.from_env("stripe", "STRIPE_EVENTS_QUEUE_URL"), lookback_seconds=settings.lookback_days * 86_400
)
quota = max(1, math.floor(stripe.settings.requests_per_second * settings.quota_share))
pacing = state.rate_limiter("stripe-sync", [Limit("second", quota, 1)])
fetchers: dict[str, Callable[[Position], Page[bytes]]] = {
    "events": reconciler.new_events,
    "undelivered": reconciler.undelivered_events,
}
jobs = {
    mode: state.sync_job(
        f"stripe-{mode}",
        pacing=pacing,
        quota_per_second=quota,
        page_seconds=settings.page_seconds,
        run_seconds=settings.run_seconds or None,
    )
    for mode in fetchers
}


@instrumented()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge Scheduler entry point; the report is the answer (and a log line, and metrics)."""
    mode = ScheduledRun.model_validate(event).mode
    report = jobs[mode].run(fetchers[mode], reconciler.queue)
    return {**dataclasses.asdict(report), "goodput": report.goodput}
