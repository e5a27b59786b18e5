"""Applying Stripe events: projections in DynamoDB and domain events through the outbox.

What the original guide did inline on a webhook (emails, analytics, alerting
support) subscribes to the domain events instead. Each projection converges
whatever order Stripe's events arrive in (``seawall.webhooks.projections``):
an event older than what is stored changes nothing and records nothing; a
deleted customer stays deleted and keeps nothing but its id (as Stripe's
deleted customer object); within one second a payment's later lifecycle
state wins (failed before succeeded, succeeded or canceled last), and larger
refunded amounts win over smaller ones. A domain event is recorded exactly
when its projection write lands, in the same transaction.

Every shape Stripe's API allows is accepted: nullable fields may be null,
expandable fields may come as an id or as an object, and a charge may have
no payment intent (then the charge id keys its payment).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seawall.observability.logging import logger
from seawall.observability.metrics import emit
from seawall.providers.stripe.webhooks import StripeEvent
from seawall.webhooks.projections import DomainEvent, Projector, Write, order_key

SOURCE = "integrations.stripe"

# Same-second precedence of payment intent events: later lifecycle states rank higher.
_PAYMENT_RANKS = {
    "payment_intent.created": 0,
    "payment_intent.processing": 1,
    "payment_intent.payment_failed": 2,
    "payment_intent.succeeded": 3,
    "payment_intent.canceled": 3,
}
_PAYMENT_EVENTS = {
    "payment_intent.payment_failed": "PaymentFailed",
    "payment_intent.succeeded": "PaymentSucceeded",
    "payment_intent.canceled": "PaymentCanceled",
}
_CUSTOMER_RANKS = {"customer.created": 0, "customer.updated": 1}
_DELETED_RANK = 2  # a deletion comes last in its object's history


def _id(value: Any) -> str | None:
    """An expandable field's id: Stripe sends an id, an expanded object, or null."""
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Tables:
    """Where the projections live."""

    customers: str
    payments: str


class StripeEventApplier:
    """One write per event type this bundle cares about; the rest are acknowledged and counted."""

    def __init__(self, projector: Projector, tables: Tables) -> None:
        self.projector = projector
        self.tables = tables
        self.writers: dict[str, Callable[[StripeEvent], Write]] = {
            **dict.fromkeys(_CUSTOMER_RANKS, self._customer_upserted),
            "customer.deleted": self._customer_deleted,
            **dict.fromkeys(_PAYMENT_RANKS, self._payment),
            "charge.refunded": self._refund,
        }

    def apply(self, event: StripeEvent) -> bool:
        """Apply one event; whether it changed anything (raises on failure, so the message returns to the queue)."""
        writer = self.writers.get(event.type)
        if writer is None:
            logger.info("stripe event type not handled", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventIgnored", event_type=event.type)
            return False
        if not self.projector.apply(writer(event)):
            logger.info("stale stripe event skipped", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventStale", event_type=event.type)
            return False
        emit("StripeEventApplied", event_type=event.type)
        return True

    @staticmethod
    def _domain_event(detail_type: str, detail: dict[str, Any], event: StripeEvent, order: str) -> DomainEvent:
        return DomainEvent(
            event_id=f"stripe:{event.id}",
            source=SOURCE,
            detail_type=detail_type,
            detail={**detail, "stripe_event_id": event.id, "occurred_at": event.created, "sequence": order},
        )

    def _customer_upserted(self, event: StripeEvent) -> Write:
        customer = event.payload
        values = {
            "email": customer.get("email"),
            "name": customer.get("name"),
            # Stripe refuses empty metadata keys; DynamoDB cannot store one, so one that came anyway is dropped.
            "metadata": {key: value for key, value in (customer.get("metadata") or {}).items() if key},
            "deleted": False,
        }
        order = order_key(event.created, _CUSTOMER_RANKS[event.type], event.id)
        return Write(
            self.tables.customers,
            customer["id"],
            "customer",
            values,
            order,
            # A deleted customer stays deleted, whatever order the events arrive in.
            condition="attribute_not_exists(#deleted) OR #deleted = :deleted",
            events=[self._domain_event("CustomerUpserted", {"customer_id": customer["id"], **values}, event, order)],
        )

    def _customer_deleted(self, event: StripeEvent) -> Write:
        customer_id = event.payload["id"]
        order = order_key(event.created, _DELETED_RANK, event.id)
        return Write(
            self.tables.customers,
            customer_id,
            "customer",
            {"deleted": True},
            order,
            final=True,  # deletion is final whenever it arrives, and keeps nothing of the customer (as Stripe)
            remove=("email", "name", "metadata"),
            events=[self._domain_event("CustomerDeleted", {"customer_id": customer_id}, event, order)],
        )

    def _payment(self, event: StripeEvent) -> Write:
        intent = event.payload
        failure = (intent.get("last_payment_error") or {}) if event.type == "payment_intent.payment_failed" else {}
        values = {
            "status": intent.get("status"),
            "amount": intent.get("amount"),
            "currency": intent.get("currency"),
            "customer": _id(intent.get("customer")),
            "failure_reason": failure.get("decline_code") or failure.get("code"),
        }
        order = order_key(event.created, _PAYMENT_RANKS[event.type], event.id)
        detail_type = _PAYMENT_EVENTS.get(event.type)
        events = (
            [self._domain_event(detail_type, {"payment_intent_id": intent["id"], **values}, event, order)]
            if detail_type
            else []
        )
        return Write(self.tables.payments, intent["id"], "status", values, order, events=events)

    def _refund(self, event: StripeEvent) -> Write:
        charge = event.payload
        payment_intent = _id(charge.get("payment_intent"))
        values = {
            "amount_refunded": charge.get("amount_refunded") or 0,
            "currency": charge.get("currency"),
            "charge": charge["id"],
        }
        # Refunds only grow: within one second the larger refunded amount is the later state.
        order = order_key(event.created, int(values["amount_refunded"]), event.id)
        detail = {"payment_intent_id": payment_intent, "charge_id": charge["id"], **values}
        return Write(
            self.tables.payments,
            payment_intent or charge["id"],
            "refund",
            values,
            order,
            events=[self._domain_event("PaymentRefunded", detail, event, order)],
        )
