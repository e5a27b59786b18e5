"""APItude's request signature: ``X-Signature`` is the hex SHA-256 of api key + secret + Unix seconds.

Not an HMAC (an HMAC fails every request). A fresh signature per request: the
server accepts one within a few minutes of its own clock, so a container whose
clock drifts gets 401/403 answers that look like bad keys.
"""

from __future__ import annotations

import hashlib
import time

from seawall.providers.hotelbeds.secrets import HotelbedsSecret


def signature(api_key: str, secret: str, unix_seconds: int) -> str:
    """The ``X-Signature`` value for a request made at ``unix_seconds``."""
    return hashlib.sha256(f"{api_key}{secret}{unix_seconds}".encode()).hexdigest()


def signed_headers(credentials: HotelbedsSecret, *, now: float | None = None) -> dict[str, str]:
    """The authentication headers for one request, signed now (or at ``now``, Unix seconds)."""
    api_key = credentials.api_key.get_secret_value()
    seconds = int(time.time() if now is None else now)
    return {
        "Api-key": api_key,
        "X-Signature": signature(api_key, credentials.secret.get_secret_value(), seconds),
    }
