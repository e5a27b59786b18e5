"""The guide's Stripe package: the SDK client made at import, its API key read from Secrets Manager."""

import os

import stripe
from pydantic import BaseModel, Field
from seed import secret

client = stripe.StripeClient(
    secret("STRIPE_SECRET_ARN")["api_key"], base_addresses={"api": os.environ["STRIPE_API_BASE"]}
)


class Customer(BaseModel):
    """A customer as the API answers it."""

    id: str
    email: str | None = None
    name: str | None = None
    created: int
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False
