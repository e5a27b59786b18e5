"""Clients for the state stores, created once per container with short timeouts.

A slow store must not eat the invocation: every store call is bounded by
STATE_TIMEOUT_MS, and failures surface to the caller's fail-open or
fail-closed policy instead of being retried at length.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from seawall.config.secrets import Secret
from seawall.http.client import Timeouts, http_client
from seawall.state.settings import state_settings


class UpstashSecret(BaseModel):
    """``{"url": "https://...upstash.io", "token": "..."}``: the database's REST URL and token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = Field(min_length=1)


@functools.cache
def dynamodb_client() -> Any:
    """A DynamoDB client with the state timeouts and one quick retry for throttling."""
    import boto3  # noqa: PLC0415 (boto3 costs cold-start time; only the DynamoDB backend needs it)
    from botocore.config import Config  # noqa: PLC0415

    seconds = state_settings().timeout_ms / 1000
    config = Config(
        connect_timeout=seconds,
        read_timeout=seconds,
        retries={"mode": "standard", "total_max_attempts": 2},
    )
    return boto3.client("dynamodb", config=config)


@functools.cache
def upstash_client() -> Any:
    """The upstash-redis client, with SDK retries off and a timeout on every request."""
    from upstash_redis import Redis  # noqa: PLC0415 (only the Upstash backend needs it)

    settings = state_settings()
    secret = Secret(settings.upstash_secret, UpstashSecret, label="upstash").get()
    # rest_retries=0: the SDK would resend any failed command once, so INCR or EVAL could apply twice.
    client = Redis(url=secret.url, token=secret.token.get_secret_value(), rest_retries=0, allow_telemetry=False)
    seconds = settings.timeout_ms / 1000
    # The SDK builds its httpx client with timeout=None; give it ours, with timeouts and metrics.
    client._http._client = http_client(
        "upstash", base_url=secret.url, timeouts=Timeouts(seconds, seconds, seconds, seconds), quiet=True
    )
    return client
