"""SQS consumer of Standard Webhooks deliveries: each (provider, webhook-id) published once to the domain bus.

The generic half of the pattern: a provider with business rules of its own
gets its own applier, as Stripe has; until then its events reach subscribers
as ``ProviderEventReceived``. The outbox row keyed by provider and webhook-id
is both the event and its deduplication: a repeat finds it there.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.observability import correlation, emit
from seawall.webhooks.processor import QueueProcessor, message_attributes
from seawall.webhooks.projections import Projector
from seawall.webhooks.standard import publishable_event


class ProcessorSettings(BaseModel):
    """Where the outbox is."""

    outbox_table: str = Field(alias="OUTBOX_TABLE", min_length=1)


settings = load_settings(ProcessorSettings)
projector = Projector(aws_client("dynamodb"), settings.outbox_table)


def _delivery(record: SQSRecord) -> dict[str, str]:
    """The provider and webhook-id the receiver put on the message (those it has)."""
    return message_attributes(record, "provider", "webhook_id")


def record_event(record: SQSRecord) -> None:
    """One verified delivery, recorded once in the outbox."""
    delivery = _delivery(record)
    if len(delivery) < 2:  # noqa: PLR2004 (both attributes)
        raise ValueError("the message lacks its provider or webhook-id")
    event = publishable_event(delivery["provider"], delivery["webhook_id"], record.body.encode())
    if projector.record(event):
        emit("ProviderEventApplied", provider=delivery["provider"])


processor = QueueProcessor("provider-events", record_event, describe=_delivery)


@instrumented(correlation.SQS, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    return dict(processor(event, context))
