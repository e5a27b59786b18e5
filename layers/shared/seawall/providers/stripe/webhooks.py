"""Stripe-Signature verification over the exact raw bytes.

Written here rather than taken from stripe-python: its helper checks only
that a timestamp is not too old (never too far in the future), takes one
secret (an endpoint's secret is rolled by having two valid at once), and
works on decoded text rather than the bytes Stripe signed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from seawall.errors import WebhookVerificationError
from seawall.providers.stripe import SERVICE

TOLERANCE_SECONDS = 300


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookVerificationError(SERVICE, "malformed Stripe-Signature header")
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
        raise WebhookVerificationError(SERVICE, "missing Stripe-Signature header")
    timestamp, signatures = _parse(header)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError(SERVICE, "timestamp outside the tolerance")
    signed = str(timestamp).encode() + b"." + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return
    raise WebhookVerificationError(SERVICE, "no signature matches")
