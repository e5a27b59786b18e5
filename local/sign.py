"""Re-signing sample webhook events with this machine's local Stripe signing secret.

A committed event's Stripe-Signature can verify nowhere: its timestamp is old
and each machine has its own secret. The invoke command and the tests sign
events afresh with stripe-python's own helper, as Stripe would sign them.
"""

from __future__ import annotations

import base64
import copy
import time
from typing import Any

import stripe

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
    for name in list(signed.get("headers") or {}):
        if name.lower() == HEADER.lower():
            signed["headers"][name] = header
    for name in list(signed.get("multiValueHeaders") or {}):
        if name.lower() == HEADER.lower():
            signed["multiValueHeaders"][name] = [header]
    return signed


def carries_stripe_signature(event: dict[str, Any]) -> bool:
    """Whether the event is a Stripe delivery (it has a Stripe-Signature header)."""
    return any(name.lower() == HEADER.lower() for name in event.get("headers") or {})
