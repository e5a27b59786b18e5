"""Clients for the state stores, with short timeouts.

A slow store must not eat the invocation: every store call is bounded by
STATE_TIMEOUT_MS, and failures surface to the caller's fail-open or
fail-closed policy instead of being retried at length.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from seawall.aws import ClientTimeouts, aws_client
from seawall.config import Secret
from seawall.state._upstash import UpstashRest


class UpstashSecret(BaseModel):
    """``{"url": "https://...upstash.io", "token": "..."}``: the database's REST URL and token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str = Field(pattern=r"^https?://")
    token: SecretStr = Field(min_length=1)


def state_timeouts(timeout_ms: int) -> ClientTimeouts:
    """The state timeouts for an AWS client, with one quick retry for throttling."""
    seconds = timeout_ms / 1000
    return ClientTimeouts(connect=seconds, read=seconds, attempts=2)


def dynamodb_state_client(timeout_ms: int) -> Any:
    """A DynamoDB client with the state timeouts."""
    return aws_client("dynamodb", state_timeouts(timeout_ms))


def upstash_state_client(secret: Secret[UpstashSecret], timeout_ms: int) -> UpstashRest:
    """The Upstash REST client, with a timeout on every request and no retries; the secret is read per command."""

    def credentials() -> tuple[str, str]:
        value = secret.get()  # cached by the Secret; forgotten after a SnapStart restore
        return value.url, value.token.get_secret_value()

    return UpstashRest(credentials, timeout_ms / 1000)
