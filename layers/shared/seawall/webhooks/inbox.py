"""The receiving half every webhook provider shares: raw bytes in, one SQS message out."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from seawall.errors import ConfigError, IntegrationError, WebhookVerificationError
from seawall.observability.correlation import CORRELATION_ATTRIBUTE
from seawall.observability.metrics import emit


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as the provider sent it (API Gateway may have base64-encoded it)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode("utf-8")


class WebhookInbox:
    """Puts verified deliveries on the provider's queue; one SQS call per delivery."""

    def __init__(self, provider: str, queue_url: str, sqs: Any) -> None:
        self.provider = provider
        self.queue_url = queue_url
        self.sqs = sqs

    @classmethod
    def from_env(cls, provider: str, variable: str) -> WebhookInbox:
        """The inbox for the queue whose URL is in ``variable``; its SQS client is built now (cold start)."""
        queue_url = os.environ.get(variable, "").strip()
        if not queue_url:
            raise ConfigError("environment", [variable], "must name the queue for verified deliveries")
        import boto3  # noqa: PLC0415 (only receivers need SQS)

        return cls(provider, queue_url, boto3.client("sqs"))

    def put(self, payload: bytes, correlation_id: str, attributes: dict[str, str] | None = None) -> str:
        """Queue the raw payload (with string ``attributes``); returns the SQS message id.

        Raises a retryable IntegrationError on failure.

        A failure must reach the provider as a 5xx, so it delivers again later.
        """
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookVerificationError(self.provider, "the body is not UTF-8 text") from None
        try:
            answer = self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=text,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in {
                        CORRELATION_ATTRIBUTE: correlation_id,
                        "provider": self.provider,
                        **(attributes or {}),
                    }.items()
                },
            )
        except Exception as error:
            emit("WebhookQueueFailed", provider=self.provider)
            raise IntegrationError("sqs", "the delivery could not be queued", retryable=True, cause=error) from error
        emit("WebhookAccepted", provider=self.provider)
        message_id: str = answer["MessageId"]
        return message_id
