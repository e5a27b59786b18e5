"""Applying Stripe events: projections in DynamoDB, domain events on EventBridge.

What the original guide did inline on a webhook (emails, analytics, alerting
support) subscribes to the domain events instead. An event older than what is
stored changes nothing and publishes nothing; a deleted customer stays deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from seawall.observability.logging import logger
from seawall.observability.metrics import emit
from seawall.webhooks.projections import ordered_update

SOURCE = "integrations.stripe"


class StripeEvent(BaseModel):
    """The envelope of a Stripe event; the object is checked by each handler."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    created: int
    data: dict[str, Any]

    @property
    def object(self) -> dict[str, Any]:
        """The event's object (``data.object``)."""
        found: dict[str, Any] = self.data["object"]
        return found


@dataclass(frozen=True)
class Destinations:
    """Where projections and domain events go."""

    dynamodb: Any
    events: Any
    customers_table: str
    payments_table: str
    event_bus: str


class StripeEventApplier:
    """One handler per event type this bundle cares about; the rest are acknowledged and counted."""

    def __init__(self, destinations: Destinations) -> None:
        self.to = destinations
        self.handlers: dict[str, Callable[[StripeEvent], None]] = {
            "customer.created": self._customer_upserted,
            "customer.updated": self._customer_upserted,
            "customer.deleted": self._customer_deleted,
            "payment_intent.succeeded": self._payment,
            "payment_intent.payment_failed": self._payment,
            "charge.refunded": self._refund,
        }

    def apply(self, event: StripeEvent) -> None:
        """Apply one event (raises on failure, so the message returns to the queue)."""
        handler = self.handlers.get(event.type)
        if handler is None:
            logger.info("stripe event type not handled", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventIgnored", event_type=event.type)
            return
        handler(event)
        emit("StripeEventApplied", event_type=event.type)

    def _update(self, table: str, key: str, values: dict[str, Any], order: str, event: StripeEvent, **kw: str) -> bool:
        applied = ordered_update(
            self.to.dynamodb,
            table=table,
            key=key,
            values=values,
            order=order,
            created=event.created,
            event_id=event.id,
            **kw,
        )
        if not applied:
            logger.info("stale stripe event skipped", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventStale", event_type=event.type)
        return applied

    def _publish(self, detail_type: str, detail: dict[str, Any], event: StripeEvent) -> None:
        answer = self.to.events.put_events(
            Entries=[
                {
                    "EventBusName": self.to.event_bus,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps({**detail, "stripe_event_id": event.id, "occurred_at": event.created}),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the {detail_type} event")

    def _customer_upserted(self, event: StripeEvent) -> None:
        customer = event.object
        values = {
            "email": customer.get("email"),
            "name": customer.get("name"),
            "metadata": customer.get("metadata") or {},
            "deleted": False,
        }
        # A deleted customer stays deleted, whatever order the events arrive in.
        stays_deleted = "attribute_not_exists(#deleted) OR #deleted = :deleted"
        if self._update(self.to.customers_table, customer["id"], values, "customer", event, condition=stays_deleted):
            self._publish("CustomerUpserted", {"customer_id": customer["id"], **values}, event)

    def _customer_deleted(self, event: StripeEvent) -> None:
        customer_id = event.object["id"]
        if self._update(self.to.customers_table, customer_id, {"deleted": True}, "customer", event):
            self._publish("CustomerDeleted", {"customer_id": customer_id}, event)

    def _payment(self, event: StripeEvent) -> None:
        intent = event.object
        failure = (intent.get("last_payment_error") or {}) if event.type.endswith("failed") else {}
        values = {
            "status": intent["status"],
            "amount": intent["amount"],
            "currency": intent["currency"],
            "customer": intent.get("customer"),
            "failure_reason": failure.get("decline_code") or failure.get("code"),
        }
        if self._update(self.to.payments_table, intent["id"], values, "status", event):
            kind = "PaymentSucceeded" if event.type == "payment_intent.succeeded" else "PaymentFailed"
            self._publish(kind, {"payment_intent_id": intent["id"], **values}, event)

    def _refund(self, event: StripeEvent) -> None:
        charge = event.object
        values = {"amount_refunded": charge["amount_refunded"], "currency": charge["currency"]}
        if self._update(self.to.payments_table, charge["payment_intent"], values, "refund", event):
            self._publish("PaymentRefunded", {"payment_intent_id": charge["payment_intent"], **values}, event)
