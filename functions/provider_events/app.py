"""SQS consumer of Standard Webhooks deliveries: each (provider, webhook-id) published once to the domain bus.

The generic half of the pattern: a provider with business rules of its own
gets its own applier, as Stripe has; until then its events reach subscribers
as ``ProviderEventReceived``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.config import load_settings
from seawall.idempotency import persistence_layer
from seawall.observability import correlation, emit, instrumented


class ProcessorSettings(BaseModel):
    """Where domain events go."""

    event_bus: str = Field(alias="EVENT_BUS_NAME", min_length=1)


settings = load_settings(ProcessorSettings)
events = boto3.client("events")
batch = BatchProcessor(event_type=EventType.SQS)
once = IdempotencyConfig(event_key_jmespath="[provider, webhook_id]", expires_after_seconds=7 * 24 * 3600)


def _publish(delivery: dict[str, Any]) -> dict[str, str]:
    payload = json.loads(delivery["body"])
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": settings.event_bus,
                "Source": f"integrations.{delivery['provider']}",
                "DetailType": "ProviderEventReceived",
                "Detail": json.dumps(
                    {
                        "provider": delivery["provider"],
                        "webhook_id": delivery["webhook_id"],
                        "type": payload.get("type"),
                        "data": payload.get("data"),
                    }
                ),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError("EventBridge refused the event")
    emit("ProviderEventApplied", provider=delivery["provider"])
    return {"published": delivery["webhook_id"]}


# The same webhook-id from the same provider publishes once, however often it is delivered.
publish_once: Callable[..., dict[str, str]] = idempotent_function(
    data_keyword_argument="delivery", persistence_store=persistence_layer(), config=once, key_prefix="provider-event"
)(_publish)


def record_handler(record: SQSRecord) -> None:
    """One verified delivery; its provider and webhook-id came from the receiver."""
    correlation.correlate_record(record.raw_event)
    attributes = record.raw_event["messageAttributes"]
    provider, webhook_id = attributes["provider"]["stringValue"], attributes["webhook_id"]["stringValue"]
    json.loads(record.body)  # a body that is not JSON fails here, then dead-letters
    publish_once(delivery={"provider": provider, "webhook_id": webhook_id, "body": record.body})


@instrumented(correlation.SQS, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    once.register_lambda_context(context)
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=batch, context=context))
