"""Stripe deliveries: Stripe-Signature verified over the exact raw bytes, and the event envelope checked.

The signature check is written here rather than taken from stripe-python: its
helper checks only that a timestamp is not too old (never too far in the
future), takes one secret (an endpoint's secret is rolled by having two valid
at once), and works on decoded text rather than the bytes Stripe signed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from seawall.errors import WebhookPayloadError, WebhookVerificationError
from seawall.providers.stripe import SERVICE

TOLERANCE_SECONDS = 300
# ASCII digits only: str.isdigit() also takes "²" and "①", which int() then refuses.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class _EventData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: dict[str, Any]


class StripeEvent(BaseModel):
    """The envelope of a Stripe event (``object: "event"``); the object itself is read by each handler."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    object: Literal["event"]
    type: str = Field(min_length=1, max_length=255)
    created: StrictInt
    data: _EventData

    @property
    def payload(self) -> dict[str, Any]:
        """The event's object (``data.object``)."""
        return self.data.object


def parse_event(payload: bytes) -> StripeEvent:
    """The delivery as a Stripe event; :class:`WebhookPayloadError` when it is not one (never queued)."""
    try:
        return StripeEvent.model_validate_json(payload)
    except ValidationError:
        raise WebhookPayloadError(SERVICE) from None


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookVerificationError(SERVICE, "malformed Stripe-Signature header", reason="malformed-header")
    return timestamp, signatures


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Pass when any v1 signature in ``header`` matches ``payload`` under any of ``secrets``.

    The timestamp must be within ``tolerance`` seconds of now, in either
    direction. Anything else raises :class:`WebhookVerificationError`.
    """
    if not header:
        raise WebhookVerificationError(SERVICE, "missing Stripe-Signature header", reason="missing-header")
    timestamp, signatures = _parse(header)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError(SERVICE, "timestamp outside the tolerance", reason="timestamp")
    signed = str(timestamp).encode() + b"." + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures):
            return
    raise WebhookVerificationError(SERVICE, "no signature matches")
