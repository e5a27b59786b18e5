"""Providers that sign with the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature).

Verification is the standardwebhooks library's; this adds secret rotation
(several secrets per provider), header checks the library leaves to its
callers (it would crash on a signature without a comma and accept full-width digits as a
timestamp), the event envelope, and the bundle's error types.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as LibraryVerificationError

from seawall.errors import WebhookPayloadError, WebhookVerificationError
from seawall.webhooks.projections import DomainEvent

_ID = re.compile(r"[\x21-\x7e]{1,255}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Space-separated "<version>,<base64>" entries: v1 (HMAC-SHA256) and others, such as v1a (ed25519), this does not check.
_SIGNATURES = re.compile(r"v[0-9]+[a-z]?,[A-Za-z0-9+/=]+( v[0-9]+[a-z]?,[A-Za-z0-9+/=]+)*")


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


class StandardEvent(BaseModel):
    """The Standard Webhooks payload: ``{"type": "...", "timestamp": "...", "data": {...}}``."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=255)
    data: dict[str, Any]


def parse_standard_event(provider: str, payload: bytes) -> StandardEvent:
    """The delivery as a Standard Webhooks event; :class:`WebhookPayloadError` when it is not one."""
    try:
        return StandardEvent.model_validate_json(payload)
    except ValidationError:
        raise WebhookPayloadError(provider) from None


def provider_event(provider: str, webhook_id: str, event: StandardEvent) -> DomainEvent:
    """The domain event a delivery becomes: ``ProviderEventReceived``, its id ``<provider>:<webhook-id>``."""
    return DomainEvent(
        event_id=f"{provider}:{webhook_id}",
        source=f"integrations.{provider}",
        detail_type="ProviderEventReceived",
        detail={"provider": provider, "webhook_id": webhook_id, "type": event.type, "data": event.data},
    )


def publishable_event(provider: str, webhook_id: str, payload: bytes) -> DomainEvent:
    """The delivery's domain event, if the bus will take it; :class:`WebhookPayloadError` otherwise (never queued)."""
    event = provider_event(provider, webhook_id, parse_standard_event(provider, payload))
    try:
        fits = event.fits_eventbridge()
    except ValueError:  # NaN or Infinity (1e400 parses as one): no subscriber's JSON parser would read it
        raise WebhookPayloadError(provider) from None
    if not fits:
        raise WebhookPayloadError(provider, "the event is too large to publish", reason="too-large")
    return event


def verify_standard_webhook(provider: str, payload: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> str:
    """The delivery's webhook-id when its signature matches any of ``secrets`` (5 minutes' tolerance either way)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id, timestamp, signature = (lowered.get(f"webhook-{part}") for part in ("id", "timestamp", "signature"))
    if not (webhook_id and timestamp and signature):
        raise WebhookVerificationError(provider, "missing webhook headers", reason="missing-header")
    if not (_ID.fullmatch(webhook_id) and _TIMESTAMP.fullmatch(timestamp) and _SIGNATURES.fullmatch(signature)):
        raise WebhookVerificationError(provider, "malformed webhook headers", reason="malformed-header")
    try:
        payload.decode("utf-8")  # the library signs text: its UnicodeDecodeError would read as a wrong signature
    except UnicodeDecodeError:
        raise WebhookPayloadError(provider, "the body is not UTF-8") from None
    # Only the v1 entries that decode are checked: the library stops at the first it cannot decode.
    checked = " ".join(entry for entry in signature.split(" ") if _is_v1(entry))
    if not checked:  # nothing a v1 secret can match: a new secret would not help either
        raise WebhookVerificationError(provider, "no v1 signature", reason="malformed-header")
    reason = "no-match"
    for secret in secrets:
        try:
            Webhook(secret).verify(payload, {**lowered, "webhook-signature": checked}, json_parse=False)
        except LibraryVerificationError as error:
            reason = "timestamp" if "timestamp" in str(error) else reason
            continue
        return webhook_id
    raise WebhookVerificationError(provider, "no signature matches", reason=reason)


def _is_v1(entry: str) -> bool:
    version, _, value = entry.partition(",")
    try:
        return version == "v1" and bool(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return False
