"""The JSON held in the Stripe secrets: the API key, and apart from it the webhook signing secrets.

They are two secrets so that the public webhook receiver can verify
signatures without being able to read the API key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class StripeSecret(BaseModel):
    """``{"api_key": "sk_...|rk_..."}``: what the API actions call Stripe with."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    api_key: SecretStr

    @field_validator("api_key")
    @classmethod
    def _is_secret_or_restricted_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("sk_", "rk_")):
            raise ValueError("must be a secret (sk_) or restricted (rk_) API key")
        return value


class StripeWebhookSecret(BaseModel):
    """``{"webhook_secrets": ["whsec_...", ...]}``: every signing secret valid now.

    Several may be valid at once while an endpoint's secret is rolled; a
    signature matching any of them verifies.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    webhook_secrets: list[SecretStr] = Field(min_length=1)

    @field_validator("webhook_secrets")
    @classmethod
    def _are_signing_secrets(cls, values: list[SecretStr]) -> list[SecretStr]:
        if not all(value.get_secret_value().startswith("whsec_") for value in values):
            raise ValueError("every webhook secret must start with whsec_")
        return values
