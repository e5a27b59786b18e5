"""Re-signing sample webhook events with this machine's local signing secrets.

A committed event's signature can verify nowhere: its timestamp is old and
each machine has its own secrets. The invoke command and the tests sign events
afresh with the providers' own libraries (stripe-python, standardwebhooks).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import time
from typing import Any

import stripe
from standardwebhooks.webhooks import Webhook

HEADER = "Stripe-Signature"


def body_text(event: dict[str, Any]) -> str:
    """The request body as the caller sent it (API Gateway base64-encodes binary bodies)."""
    body = event.get("body") or ""
    return base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else str(body)


def sign_stripe_event(event: dict[str, Any], secret: str, timestamp: int | None = None) -> dict[str, Any]:
    """A copy of the API Gateway ``event`` whose Stripe-Signature is valid now for ``secret``."""
    return sign_hmac_event(event, HEADER, secret, timestamp)


def carries_stripe_signature(event: dict[str, Any]) -> bool:
    """Whether the event is a Stripe delivery (it has a Stripe-Signature header)."""
    return any(name.lower() == HEADER.lower() for name in event.get("headers") or {})


def _set_header(event: dict[str, Any], header: str, value: str) -> None:
    for field in ("headers", "multiValueHeaders"):
        for name in list(event.get(field) or {}):
            if name.lower() == header.lower():
                event[field][name] = value if field == "headers" else [value]


def sign_standard_event(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """A copy of ``event`` whose webhook-timestamp and webhook-signature are valid now for ``secret``."""
    signed = copy.deepcopy(event)
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    now = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(headers["webhook-id"], now, body_text(event))
    _set_header(signed, "webhook-timestamp", str(int(now.timestamp())))
    _set_header(signed, "webhook-signature", signature)
    return signed


def sign_hmac_event(event: dict[str, Any], header: str, secret: str, timestamp: int | None = None) -> dict[str, Any]:
    """A copy of ``event`` whose ``header`` (``t=...,v1=...``: Stripe's scheme, made by its library) is valid now."""
    signed = copy.deepcopy(event)
    at = int(time.time()) if timestamp is None else timestamp
    value = stripe.WebhookSignature.generate_signature_header(body_text(event), secret, at)
    _set_header(signed, header, value)
    return signed


def _own_signing_secret(event: dict[str, Any], local_secrets: dict[str, Any]) -> str | None:
    """The first signing secret of a provider with a receiver of its own: /webhooks/acme_pay → AcmePayWebhookSecret."""
    name = str(event.get("resource") or event.get("path") or "").removeprefix("/webhooks/")
    logical_id = "".join(word.capitalize() for word in name.split("_")) + "WebhookSecret"
    secrets = (local_secrets.get(logical_id) or {}).get("webhook_secrets") or [None]
    secret: str | None = secrets[0]
    return secret


def resign(event: dict[str, Any], local_secrets: dict[str, Any]) -> dict[str, Any]:
    """The event signed with the local secrets when it is a webhook delivery; otherwise as it is."""
    if carries_stripe_signature(event):
        return sign_stripe_event(event, local_secrets["StripeWebhookSecret"]["webhook_secrets"][0])
    headers = {name.lower(): name for name in event.get("headers") or {}}
    provider = (event.get("pathParameters") or {}).get("provider")
    if "webhook-signature" in headers and provider:  # the shared Standard Webhooks receiver
        return sign_standard_event(event, local_secrets["StandardWebhooksSecret"]["providers"][provider][0])
    secret = _own_signing_secret(event, local_secrets)
    if secret is None:
        return event
    if "webhook-signature" in headers:
        return sign_standard_event(event, secret)
    signature = next((name for lowered, name in headers.items() if lowered.endswith("-signature")), None)
    return event if signature is None else sign_hmac_event(event, signature, secret)
