"""Providers that sign with the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature).

Verification is the standardwebhooks library's; this adds secret rotation
(several secrets per provider) and the bundle's error type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as LibraryVerificationError

from seawall.errors import WebhookVerificationError


class StandardWebhookSecrets(BaseModel):
    """``{"providers": {"<name>": ["whsec_...", ...]}}``: each provider's signing secrets (several while rolling)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    providers: dict[str, list[SecretStr]] = Field(min_length=1)

    @field_validator("providers")
    @classmethod
    def _are_signing_secrets(cls, providers: dict[str, list[SecretStr]]) -> dict[str, list[SecretStr]]:
        for secrets in providers.values():
            if not secrets or not all(secret.get_secret_value().startswith("whsec_") for secret in secrets):
                raise ValueError("every provider needs one or more secrets starting with whsec_")
        return providers


def verify_standard_webhook(provider: str, payload: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> str:
    """The delivery's webhook-id when its signature matches any of ``secrets`` (5 minutes' tolerance either way)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for secret in secrets:
        try:
            Webhook(secret).verify(payload, lowered, json_parse=False)
        except (LibraryVerificationError, UnicodeDecodeError):
            continue
        return lowered["webhook-id"]
    raise WebhookVerificationError(provider, "no signature matches")
