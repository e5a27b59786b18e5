"""SQS consumer of Stripe deliveries: each Stripe event applied exactly once.

Powertools batch processing reports partial failures (a failed message returns
to the queue, and after five receives goes to the dead-letter queue);
idempotency is keyed on Stripe's event id, not the SQS message id, so Stripe's
duplicate deliveries and SQS redeliveries have one effect.
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
from seawall.observability import correlation, instrumented
from seawall.providers.stripe.events import Destinations, StripeEvent, StripeEventApplier
from seawall.state import dynamodb_client


class ProcessorSettings(BaseModel):
    """Where the projections and domain events go."""

    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=1)
    payments_table: str = Field(alias="PAYMENTS_TABLE", min_length=1)
    event_bus: str = Field(alias="EVENT_BUS_NAME", min_length=1)


settings = load_settings(ProcessorSettings)
applier = StripeEventApplier(
    Destinations(
        dynamodb=dynamodb_client(),
        events=boto3.client("events"),
        customers_table=settings.customers_table,
        payments_table=settings.payments_table,
        event_bus=settings.event_bus,
    )
)
batch = BatchProcessor(event_type=EventType.SQS)
once = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=7 * 24 * 3600)


def _apply(event: dict[str, Any]) -> dict[str, str]:
    applier.apply(StripeEvent.model_validate(event))
    return {"applied": event["id"]}


# A second delivery of the same Stripe event id returns the first result instead of applying again.
apply_once: Callable[..., dict[str, str]] = idempotent_function(
    data_keyword_argument="event", persistence_store=persistence_layer(), config=once, key_prefix="stripe-event"
)(_apply)


def record_handler(record: SQSRecord) -> None:
    """One message: a verified Stripe delivery, exactly as Stripe sent it."""
    correlation.correlate_record(record.raw_event)
    event = StripeEvent.model_validate(json.loads(record.body))  # a poison message fails here, then dead-letters
    apply_once(event=event.model_dump())


@instrumented(correlation.SQS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    once.register_lambda_context(context)
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=batch, context=context))
