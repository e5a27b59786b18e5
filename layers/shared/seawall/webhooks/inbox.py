"""The receiving half every webhook provider shares: raw bytes in, verified, one SQS message out."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from seawall.aws import aws_client
from seawall.config import Secret
from seawall.errors import (
    AwsCallError,
    ConfigError,
    DeadlineExceededError,
    StoreUnavailableError,
    WebhookRejectedError,
    WebhookVerificationError,
)
from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.observability.correlation import CORRELATION_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, SendMessageBatchRequestEntryTypeDef

M = TypeVar("M", bound=BaseModel)
_SQS_BATCH = 10  # SendMessageBatch takes at most ten entries
T = TypeVar("T")


def verify_rotating(secret: Secret[M], verify: Callable[[M], T]) -> T:
    """``verify(signing secrets)``; when no signature matched, once more with the secret read again.

    A provider may start signing with a new secret before this container's
    cached copy expires; reading it again (at most once per interval per
    container) makes a rotation take effect at once.
    """
    current = secret.get()
    try:
        return verify(current)
    except WebhookVerificationError as error:
        if error.reason != "no-match":
            raise
        try:
            fresh = secret.refetched()
        except (ConfigError, StoreUnavailableError) as unread:  # the refusal stands; the read's failure is logged
            logger.warning("signing secret could not be read again", extra={"error": error_name(unread)})
            raise error from None
        if fresh is None or fresh == current:
            raise
        return verify(fresh)


class WebhookInbox:
    """Puts verified deliveries on the provider's queue; one SQS call per delivery."""

    def __init__(self, provider: str, queue_url: str, sqs: SQSClient) -> None:
        self.provider = provider
        self.queue_url = queue_url
        self.sqs = sqs

    @classmethod
    def from_env(cls, provider: str, variable: str) -> WebhookInbox:
        """The inbox for the queue whose URL is in ``variable``; its SQS client is built now (cold start)."""
        queue_url = os.environ.get(variable, "").strip()
        if not queue_url:
            raise ConfigError("environment", [variable], "must name the queue for verified deliveries")
        return cls(provider, queue_url, aws_client("sqs"))

    def receive(
        self, payload: bytes, correlation_id: str, verify: Callable[[], dict[str, str] | None], *, provider: str = ""
    ) -> str:
        """Queue ``payload`` if ``verify()`` passes (it returns extra message attributes); returns the message id.

        A refusal is logged and counted with its reason (never the signature
        or a secret) and raised: the sender gets 400 and nothing is queued.
        """
        name = provider or self.provider
        try:
            attributes = verify()
        except WebhookRejectedError as error:  # a bad signature, or a verified body that is not an event
            logger.info("webhook rejected", extra={"provider": name, "reason": error.reason})
            emit("WebhookRejected", provider=name, reason=error.reason)
            raise
        return self.put(payload, correlation_id, attributes)

    def _attributes(self, correlation_id: str, extra: dict[str, str] | None) -> dict[str, MessageAttributeValueTypeDef]:
        return {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {
                CORRELATION_ATTRIBUTE: correlation_id,
                "provider": self.provider,
                **(extra or {}),
            }.items()
        }

    def put(self, payload: bytes, correlation_id: str, attributes: dict[str, str] | None = None) -> str:
        """Queue the raw payload (with string ``attributes``); returns the SQS message id.

        A failure raises a retryable AwsCallError, which reaches the
        provider as a 5xx so it delivers again later.
        """
        try:
            answer = self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=payload.decode("utf-8"),
                MessageAttributes=self._attributes(correlation_id, attributes),
            )
        except DeadlineExceededError:
            raise  # no time left to ask: a 504, not a queue failure
        except Exception as error:
            emit("WebhookQueueFailed", provider=self.provider)
            raise AwsCallError("sqs", "the delivery could not be queued", retryable=True, cause=error) from error
        emit("WebhookAccepted", provider=self.provider)
        message_id: str = answer["MessageId"]
        return message_id

    def put_batch(self, payloads: Sequence[bytes], correlation_id: str) -> None:
        """Queue many payloads, ten to an SQS call; raises (retryable) unless every one was queued.

        For deliveries that came another way than a webhook (a reconciliation):
        the consumer is idempotent, so a batch queued again after a failure
        has one effect.
        """
        for start in range(0, len(payloads), _SQS_BATCH):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "MessageBody": payload.decode("utf-8"),
                    "MessageAttributes": self._attributes(correlation_id, None),
                }
                for index, payload in enumerate(payloads[start : start + _SQS_BATCH])
            ]
            try:
                answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except DeadlineExceededError:
                raise
            except Exception as error:
                emit("WebhookQueueFailed", provider=self.provider)
                raise AwsCallError("sqs", "the events could not be queued", retryable=True, cause=error) from error
            if answer.get("Failed"):
                emit("WebhookQueueFailed", provider=self.provider)
                raise AwsCallError("sqs", "some events could not be queued", retryable=True)
