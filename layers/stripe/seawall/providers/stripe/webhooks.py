"""Stripe deliveries: Stripe-Signature verified over the exact raw bytes, the event and its object checked.

The signature check is the layer's (``seawall.webhooks.signed``) rather than
stripe-python's: its helper checks only that a timestamp is not too old (never
too far in the future), takes one secret (an endpoint's secret is rolled by
having two valid at once), and works on decoded text rather than the bytes Stripe signed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from seawall.errors import WebhookPayloadError
from seawall.providers.stripe import SERVICE
from seawall.webhooks.signed import TOLERANCE_SECONDS, verify_signature_header


class _EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: dict[str, Any]


class StripeEvent(BaseModel):
    """The envelope of a Stripe event (``object: "event"``); the object itself is read by each handler."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    object: Literal["event"]
    type: str = Field(min_length=1, max_length=255)
    created: Annotated[StrictInt, Field(ge=0)]
    data: _EventData

    @property
    def payload(self) -> dict[str, Any]:
        """The event's object (``data.object``)."""
        return self.data.object


# What the bundle reads of the objects it handles, as Stripe's API defines them: nullable fields may be
# null, expandable ones an id or the expanded object. Text that is copied into projections and domain
# events is held to Stripe's own limits, so an item always fits DynamoDB and an event EventBridge.
_Id = Annotated[str, StringConstraints(min_length=1, max_length=255)]
_Amount = Annotated[StrictInt, Field(ge=0, lt=10**38)]  # DynamoDB numbers hold 38 digits
_Text = Annotated[str, StringConstraints(max_length=512)]


def _reference(value: Any) -> Any:
    """An expandable field as its id (Stripe sends an id, the expanded object, or null; empty is none)."""
    return (value.get("id") if isinstance(value, dict) else value) or None


_Reference = Annotated[_Id | None, BeforeValidator(_reference)]
_MetadataKey = Annotated[str, StringConstraints(max_length=40)]


class _StripeObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CustomerObject(_StripeObject):
    """A customer (of a deleted one only the id is read)."""

    id: _Id
    email: _Text | None = None
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    metadata: Annotated[dict[_MetadataKey, _Text], Field(max_length=50)] | None = None


class PaymentError(_StripeObject):
    """``last_payment_error``: why the last attempt failed."""

    code: _Text | None = None
    decline_code: _Text | None = None


class PaymentIntentObject(_StripeObject):
    """A payment intent: its status, money and customer."""

    id: _Id
    status: _Text
    amount: _Amount
    currency: _Text
    customer: _Reference = None
    last_payment_error: PaymentError | None = None


class ChargeObject(_StripeObject):
    """A charge, for its refunds; a charge need not belong to a payment intent."""

    id: _Id
    amount_refunded: _Amount
    currency: _Text
    payment_intent: _Reference = None


_PAYMENT_INTENT_TYPES = ("created", "processing", "payment_failed", "succeeded", "canceled")
HANDLED: dict[str, type[_StripeObject]] = {
    **{f"customer.{kind}": CustomerObject for kind in ("created", "updated", "deleted")},
    **{f"payment_intent.{kind}": PaymentIntentObject for kind in _PAYMENT_INTENT_TYPES},
    "charge.refunded": ChargeObject,
}


def handled_object(event: StripeEvent) -> _StripeObject | None:
    """The event's object read as its type's model; ``None`` for a type the bundle does not handle."""
    model = HANDLED.get(event.type)
    return None if model is None else model.model_validate(event.payload)


class _EventBridgeEvent(BaseModel):
    """What Stripe's Amazon EventBridge destination puts on the partner bus: its ``detail`` is the Stripe event."""

    model_config = ConfigDict(extra="ignore")

    detail_type: str = Field(alias="detail-type")
    source: Annotated[str, StringConstraints(pattern=r"^aws\.partner/stripe\.com/")]
    detail: StripeEvent


Envelope = Literal["stripe", "eventbridge"]


def parse_event(payload: bytes | str, *, envelope: Envelope = "stripe") -> StripeEvent:
    """What a Stripe event is, for the receiver, the processor and reconciliation alike: the one place that decides.

    ``envelope`` says how it came: ``"stripe"``, the event as Stripe sends and
    lists it (a webhook delivery, the Events API); ``"eventbridge"``, the
    EventBridge event from Stripe's Amazon EventBridge destination, whose
    ``detail`` is the event. Where the bundle handles the event's type, its
    object must read as the processor reads it; its ``created`` may not be
    more than the signature tolerance ahead of now (an event from the future
    would sort after every later one). Anything else is
    :class:`WebhookPayloadError`: refused at the edge, never queued, and
    dead-lettered if it reaches the queue another way.
    """
    try:
        if envelope == "eventbridge":
            event = _EventBridgeEvent.model_validate_json(payload).detail
        else:
            event = StripeEvent.model_validate_json(payload)
        handled_object(event)
    except ValidationError:
        raise WebhookPayloadError(SERVICE) from None
    if event.created > time.time() + TOLERANCE_SECONDS:
        raise WebhookPayloadError(SERVICE, "the event is dated in the future")
    return event


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Pass when any v1 signature in the ``Stripe-Signature`` header matches ``payload`` under any of ``secrets``.

    The timestamp must be within ``tolerance`` seconds of now, in either
    direction. Anything else raises :class:`WebhookVerificationError`.
    """
    verify_signature_header(SERVICE, "Stripe-Signature", payload, header, secrets, tolerance=tolerance, now=now)
