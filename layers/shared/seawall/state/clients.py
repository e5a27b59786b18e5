"""Clients for the state stores, with short timeouts.

A slow store must not eat the invocation: every store call is bounded by
STATE_TIMEOUT_MS, and failures surface to the caller's fail-open or
fail-closed policy instead of being retried at length.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from seawall.aws import ClientTimeouts, aws_client
from seawall.http.client import Timeouts, http_client


class UpstashSecret(BaseModel):
    """``{"url": "https://...upstash.io", "token": "..."}``: the database's REST URL and token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = Field(min_length=1)


def dynamodb_state_client(timeout_ms: int) -> Any:
    """A DynamoDB client with the state timeouts and one quick retry for throttling."""
    seconds = timeout_ms / 1000
    return aws_client("dynamodb", ClientTimeouts(connect=seconds, read=seconds, attempts=2))


def upstash_state_client(secret: UpstashSecret, timeout_ms: int) -> Any:
    """The upstash-redis client, with SDK retries off and a timeout on every request."""
    from upstash_redis import Redis  # noqa: PLC0415 (only the Upstash backend needs it)

    # rest_retries=0: the SDK would resend any failed command once, so INCR or EVAL could apply twice.
    client = Redis(url=secret.url, token=secret.token.get_secret_value(), rest_retries=0, allow_telemetry=False)
    seconds = timeout_ms / 1000
    # The SDK builds its httpx client with timeout=None; give it ours, with timeouts and metrics.
    client._http._client = http_client(
        "upstash", base_url=secret.url, timeouts=Timeouts(seconds, seconds, seconds, seconds), quiet=True
    )
    return client
