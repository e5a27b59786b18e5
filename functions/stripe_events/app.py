"""SQS consumer of Stripe events (webhooks, reconciliation, EventBridge): each Stripe event applied exactly once.

Failed records return to the queue, and after five receives go to the
dead-letter queue; idempotency is keyed on Stripe's event id, not the SQS
message id, so Stripe's duplicate deliveries and SQS redeliveries have one
effect. Projections and their domain events are written in one transaction;
OutboxPublisherFunction puts the events on the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.providers.stripe.events import StripeEventApplier, Tables
from seawall.providers.stripe.webhooks import StripeEvent, queued_event
from seawall.state import SharedState
from seawall.webhooks.processor import QueueProcessor
from seawall.webhooks.projections import Projector


class ProcessorSettings(BaseModel):
    """Where the projections and the outbox are."""

    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=1)
    payments_table: str = Field(alias="PAYMENTS_TABLE", min_length=1)
    outbox_table: str = Field(alias="OUTBOX_TABLE", min_length=1)


settings = load_settings(ProcessorSettings)
state = SharedState.from_env()
applier = StripeEventApplier(
    Projector(aws_client("dynamodb"), settings.outbox_table),
    Tables(customers=settings.customers_table, payments=settings.payments_table),
)
once = IdempotencyConfig(event_key_jmespath="id", raise_on_no_idempotency_key=True, expires_after_seconds=7 * 24 * 3600)


def _apply(event: StripeEvent) -> dict[str, Any]:
    return {"applied": event.id, "changed": applier.apply(event)}


# A second delivery of the same Stripe event id returns the first result instead of applying again.
apply_once: Callable[..., dict[str, Any]] = idempotent_function(
    data_keyword_argument="event", persistence_store=state.persistence_layer(), config=once, key_prefix="stripe-event"
)(_apply)


def apply_record(record: SQSRecord) -> None:
    """One message: a Stripe event (a verified delivery, a reconciled one, or Stripe's EventBridge envelope)."""
    apply_once(event=queued_event(record.body))


processor = QueueProcessor("stripe-events", apply_record)


@instrumented(correlation.SQS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    once.register_lambda_context(context)
    return dict(processor(event, context))
