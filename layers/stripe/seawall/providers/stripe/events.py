"""Applying Stripe events: projections in DynamoDB and domain events through the outbox.

What the original guide did inline on a webhook (emails, analytics, alerting
support) subscribes to the domain events instead. Each projection converges
whatever order Stripe's events arrive in (``seawall.webhooks.projections``):
an event older than what is stored changes nothing; a deleted customer stays
deleted and keeps nothing but its id (as Stripe's deleted customer object);
within one second a payment's later lifecycle state wins (failed before
succeeded, succeeded or canceled last), and larger refunded amounts win over
smaller ones. Every event of a handled type is one domain event, recorded
once in the same transaction as its projection's write, stale or not: its
``changed`` says whether the projection moved, its ``sequence`` is its place
among its aggregate's facts (a customer; a payment intent, or a charge
without one), and ``order`` its place in Stripe's history of the object.

Every shape Stripe's API allows is accepted (``seawall.providers.stripe.webhooks``
reads each handled object: nullable fields may be null, expandable fields come
as an id or as an object); a charge may have no payment intent (then the charge
id keys its payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seawall.observability._logging import logger
from seawall.observability._metrics import emit
from seawall.providers.stripe.webhooks import (
    ChargeObject,
    CustomerObject,
    PaymentIntentObject,
    StripeEvent,
    handled_object,
)
from seawall.webhooks.projections import Applied, DomainEvent, Projector, Write, order_key

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
    "payment_intent.created": "PaymentCreated",
    "payment_intent.processing": "PaymentProcessing",
    "payment_intent.payment_failed": "PaymentFailed",
    "payment_intent.succeeded": "PaymentSucceeded",
    "payment_intent.canceled": "PaymentCanceled",
}
_CUSTOMER_RANKS = {"customer.created": 0, "customer.updated": 1}
_DELETED_RANK = 2  # a deletion comes last in its object's history


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

    def apply(self, event: StripeEvent) -> Applied | None:
        """Apply one event: how (``None`` for a type not handled); raises on failure, so the message is retried."""
        obj = handled_object(event)
        if obj is None:
            logger.info("stripe event type not handled", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventIgnored", event_type=event.type)
            return None
        applied = self.projector.apply(self._write(event, obj))
        if applied == "unchanged":
            logger.info("stale stripe event recorded", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventStale", event_type=event.type)
        elif applied == "duplicate":
            logger.info("stripe event already recorded", extra={"event_id": event.id, "event_type": event.type})
            emit("StripeEventDuplicate", event_type=event.type)
        else:
            emit("StripeEventApplied", event_type=event.type)
        return applied

    def _write(self, event: StripeEvent, obj: object) -> Write:
        if isinstance(obj, CustomerObject):
            if event.type == "customer.deleted":
                return self._customer_deleted(event, obj)
            return self._customer_upserted(event, obj)
        if isinstance(obj, PaymentIntentObject):
            return self._payment(event, obj)
        if isinstance(obj, ChargeObject):
            return self._refund(event, obj)
        raise TypeError(f"no write for {type(obj).__name__}")

    @staticmethod
    def _domain_event(detail_type: str, detail: dict[str, Any], event: StripeEvent, order: str) -> DomainEvent:
        return DomainEvent(
            event_id=f"stripe:{event.id}",
            source=SOURCE,
            detail_type=detail_type,
            detail={**detail, "stripe_event_id": event.id, "occurred_at": event.created, "order": order},
        )

    def _customer_upserted(self, event: StripeEvent, customer: CustomerObject) -> Write:
        values = {
            "email": customer.email,
            "name": customer.name,
            # Stripe refuses empty metadata keys; DynamoDB cannot store one, so one that came anyway is dropped.
            "metadata": {key: value for key, value in (customer.metadata or {}).items() if key},
            "deleted": False,
        }
        order = order_key(event.created, _CUSTOMER_RANKS[event.type], event.id)
        return Write(
            self.tables.customers,
            customer.id,
            "customer",
            values,
            order,
            # A deleted customer stays deleted, whatever order the events arrive in.
            event=self._domain_event("CustomerUpserted", {"customer_id": customer.id, **values}, event, order),
            condition="attribute_not_exists(#deleted) OR #deleted = :deleted",
        )

    def _customer_deleted(self, event: StripeEvent, customer: CustomerObject) -> Write:
        order = order_key(event.created, _DELETED_RANK, event.id)
        return Write(
            self.tables.customers,
            customer.id,
            "customer",
            {"deleted": True},
            order,
            self._domain_event("CustomerDeleted", {"customer_id": customer.id}, event, order),
            final=True,  # deletion is final whenever it arrives, and keeps nothing of the customer (as Stripe)
            remove=("email", "name", "metadata"),
        )

    def _payment(self, event: StripeEvent, intent: PaymentIntentObject) -> Write:
        failure = intent.last_payment_error if event.type == "payment_intent.payment_failed" else None
        values = {
            "status": intent.status,
            "amount": intent.amount,
            "currency": intent.currency,
            "customer": intent.customer,
            "failure_reason": failure and (failure.decline_code or failure.code),
        }
        order = order_key(event.created, _PAYMENT_RANKS[event.type], event.id)
        detail = {"payment_intent_id": intent.id, **values}
        fact = self._domain_event(_PAYMENT_EVENTS[event.type], detail, event, order)
        return Write(self.tables.payments, intent.id, "status", values, order, fact)

    def _refund(self, event: StripeEvent, charge: ChargeObject) -> Write:
        values = {"amount_refunded": charge.amount_refunded, "currency": charge.currency, "charge": charge.id}
        # Refunds only grow: within one second the larger refunded amount is the later state.
        order = order_key(event.created, charge.amount_refunded, event.id)
        detail = {"payment_intent_id": charge.payment_intent, "charge_id": charge.id, **values}
        return Write(
            self.tables.payments,
            charge.payment_intent or charge.id,
            "refund",
            values,
            order,
            self._domain_event("PaymentRefunded", detail, event, order),
        )
