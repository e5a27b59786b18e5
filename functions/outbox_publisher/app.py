"""The outbox table's stream → the domain event bus: every recorded domain event published, in order, once.

DynamoDB Streams invokes this with batches of new outbox rows; a failed
publish is reported with ReportBatchItemFailures and retried from that row on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.webhooks.outbox import OutboxPublisher


class PublisherSettings(BaseModel):
    """Where the domain events go."""

    event_bus: str = Field(alias="EVENT_BUS_NAME", min_length=1)


settings = load_settings(PublisherSettings)
publisher = OutboxPublisher(aws_client("events"), settings.event_bus)


@instrumented(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """DynamoDB Streams entry point, with ReportBatchItemFailures."""
    return publisher(event)
