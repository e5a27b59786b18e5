"""APItude's error answers as the layer's typed errors.

Hotelbeds' gateway answers 403 for two different things: a key over its
quota (``ERR_403_DEVELOPER_OVER_RATE``: per day; ``..._OVER_QPS``: per
second) and a key or signature it refuses. Quota refusals become rate-limit
errors (never counted by the breaker); the daily one is not retried, since
nothing changes before the quota resets. A refused signature is most often a
clock off by minutes: the log says so.
"""

from __future__ import annotations

import datetime as dt
import time
from http import HTTPStatus

import httpx

from seawall.errors import IntegrationError, RateLimitedError
from seawall.http._responses import error_from_response
from seawall.observability import logger
from seawall.providers.hotelbeds import SERVICE

_ERROR_CODE_HEADER = "X-Mashery-Error-Code"
_OVER_RATE = "ERR_403_DEVELOPER_OVER_RATE"
_OVER_QPS = "ERR_403_DEVELOPER_OVER_QPS"
_CODE_LENGTH = 64
# Statuses with which Hotelbeds' gateway refuses a request before anything is done: its quotas, the credentials.
NOT_PROCESSED = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
# The detail naming the gateway's own refusal code (X-Mashery-Error-Code): a word safe to show.
GATEWAY_CODE = "gateway_error_code"
# The key or the signature refused (quota refusals are rate-limit errors, 429, never these).
CREDENTIALS_REFUSED = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})


class QuotaExhaustedError(RateLimitedError):
    """The key's daily quota is spent; ``retry_after`` runs to the quota's reset (UTC midnight)."""

    def __init__(self, message: str = "Hotelbeds' daily quota is exhausted", *, retry_after: float) -> None:
        super().__init__(SERVICE, message, retry_after=retry_after, retryable=False)
        self.details = {GATEWAY_CODE: _OVER_RATE}  # only the gateway says the day is spent


def not_processed(error: IntegrationError) -> bool:
    """Hotelbeds' gateway refused the request (its quota, the key, the signature): nothing was done.

    Only the gateway's own refusals say so (they carry its error code); a 401,
    403 or 429 from behind it may come after a booking was made.
    """
    return error.status_code in NOT_PROCESSED and GATEWAY_CODE in error.details


def seconds_to_quota_reset(now: float | None = None) -> float:
    """Seconds until the next UTC midnight, when a daily quota starts again."""
    current = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.UTC)
    midnight = (current + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - current).total_seconds()


def hotelbeds_error(response: httpx.Response) -> IntegrationError:
    """The error for a non-2xx APItude answer (its body is never copied into the message)."""
    status = response.status_code
    code = response.headers.get(_ERROR_CODE_HEADER, "")
    text = response.text[:200] if status == HTTPStatus.FORBIDDEN else ""
    if code == _OVER_RATE or "Over Rate" in text:
        return QuotaExhaustedError(retry_after=seconds_to_quota_reset())
    if code == _OVER_QPS or "Over Qps" in text:
        limited = RateLimitedError(SERVICE, "Hotelbeds' per-second limit was reached", retry_after=1.0, retryable=True)
        limited.details = {GATEWAY_CODE: _OVER_QPS}
        return limited
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        logger.warning(
            "Hotelbeds refused the key or signature; a clock more than a few minutes off is a likely cause",
            extra={"provider": SERVICE, "status_code": status, "error_code": code, "local_time": int(time.time())},
        )
        refused = IntegrationError(SERVICE, "Hotelbeds refused the credentials", status_code=status, retryable=False)
        refused.details = {GATEWAY_CODE: code} if code.startswith("ERR_") else {}
        return refused
    error = error_from_response(SERVICE, response)
    error.details = {"hotelbeds_error_code": code} if (code := _error_code(response)) else {}
    return error


def _error_code(response: httpx.Response) -> str | None:
    """APItude's own error code (``{"error": {"code": ...}}``): a word safe to show, unlike its message."""
    try:
        payload = response.json()
    except ValueError:
        return None
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= _CODE_LENGTH else None
