"""What a provider's response headers say about retrying."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date.

    Returns ``None`` when the header is absent or unreadable, and never less than 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000".
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def should_retry_advice(headers: Mapping[str, str], names: Iterable[str]) -> bool | None:
    """The provider's explicit advice (``True``/``False``) in its advisory headers ``names``, or ``None``.

    Each provider names its own headers (Stripe: ``Stripe-Should-Retry``).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in names:
        advice = lowered.get(name.lower())
        if advice is not None:
            if advice.strip().lower() == "true":
                return True
            if advice.strip().lower() == "false":
                return False
    return None
