"""SQS consumer of Stripe events (webhooks, reconciliation, EventBridge): each Stripe event applied exactly once.

Each event's projection write and its domain event are one write to the
aggregate's item, the event stale or not; OutboxPublisherFunction puts the
events on the bus from the tables' streams. What a message is and how it is applied once:
``seawall.providers.stripe.processor``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.providers.stripe.events import StripeEventApplier, Tables
from seawall.providers.stripe.processor import StripeEventsProcessor
from seawall.webhooks.projections import Projector


class ProcessorSettings(BaseModel):
    """Where the projections and the outbox (a busy aggregate's markers) are."""

    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=1)
    payments_table: str = Field(alias="PAYMENTS_TABLE", min_length=1)
    outbox_table: str = Field(alias="OUTBOX_TABLE", min_length=1)


settings = load_settings(ProcessorSettings)
processor = StripeEventsProcessor(
    StripeEventApplier(
        Projector(aws_client("dynamodb"), settings.outbox_table),
        Tables(customers=settings.customers_table, payments=settings.payments_table),
    )
)


@instrumented(correlation.SQS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS entry point, with ReportBatchItemFailures."""
    return dict(processor(event, context))
