"""What the bundle returns of Stripe's objects (unknown fields ignored)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PaymentIntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]


class _StripeObject(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Customer(_StripeObject):
    """A live customer: email and name may be null, as Stripe allows."""

    id: str
    email: str | None = None
    name: str | None = None
    created: int
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


class DeletedCustomer(_StripeObject):
    """What Stripe answers for a deleted customer: ``{id, object, deleted: true}``."""

    id: str
    deleted: Literal[True]


class PaymentIntent(_StripeObject):
    """A payment intent; money is an integer amount in minor units and a currency."""

    id: str
    amount: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    status: PaymentIntentStatus
    customer: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int
    client_secret: str | None = None
    livemode: bool = False
