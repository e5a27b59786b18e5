"""Non-secret Stripe settings, from the environment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The API version the models were checked against; Stripe answers in it whatever the account's default.
API_VERSION = "2026-10-28.endive"


class StripeSettings(BaseModel):
    """Where the Stripe secret is, and how to call Stripe."""

    model_config = ConfigDict(frozen=True)

    secret_arn: str = Field(alias="STRIPE_SECRET_ARN", min_length=1)
    api_base: str = Field(alias="STRIPE_API_BASE", default="https://api.stripe.com", pattern=r"^https?://")
    api_version: str = Field(alias="STRIPE_API_VERSION", default=API_VERSION, min_length=1)
    timeout_seconds: float = Field(alias="STRIPE_TIMEOUT_SECONDS", default=10.0, gt=0)
    requests_per_second: int = Field(alias="STRIPE_REQUESTS_PER_SECOND", default=25, ge=1)
    breaker_open_seconds: float = Field(alias="STRIPE_BREAKER_OPEN_SECONDS", default=30.0, gt=0)
