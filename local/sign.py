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


def _payload(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    return base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else str(body)


def sign_stripe_event(event: dict[str, Any], secret: str, timestamp: int | None = None) -> dict[str, Any]:
    """A copy of the API Gateway ``event`` whose Stripe-Signature is valid now for ``secret``."""
    signed = copy.deepcopy(event)
    header = stripe.WebhookSignature.generate_signature_header(
        _payload(event), secret, int(time.time()) if timestamp is None else timestamp
    )
    _set_header(signed, HEADER, header)
    return signed


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
    signature = Webhook(secret).sign(headers["webhook-id"], now, _payload(event))
    _set_header(signed, "webhook-timestamp", str(int(now.timestamp())))
    _set_header(signed, "webhook-signature", signature)
    return signed


def resign(event: dict[str, Any], local_secrets: dict[str, Any]) -> dict[str, Any]:
    """The event signed with the local secrets when it is a webhook delivery; otherwise as it is."""
    if carries_stripe_signature(event):
        return sign_stripe_event(event, local_secrets["StripeWebhookSecret"]["webhook_secrets"][0])
    headers = {name.lower() for name in event.get("headers") or {}}
    if "webhook-signature" in headers:
        provider = (event.get("pathParameters") or {})["provider"]
        return sign_standard_event(event, local_secrets["StandardWebhooksSecret"]["providers"][provider][0])
    return event
